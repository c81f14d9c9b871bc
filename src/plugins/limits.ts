// Request limits per client, with @fastify/rate-limit: per token for the API,
// per IP address for requests without one, and a tighter limit on failed
// authentication per address (once over it, every attempt from that address
// is refused until the window ends, so guessing cannot go as fast as we
// answer). 429 is a problem document with Retry-After. Counters live in this
// process: behind N instances a client gets up to N times the limit.
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { RateLimitedError } from '../lib/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    authFailures: {
      /** 429 when this address has failed authentication too often in the window. */
      refuseIfOverLimit(request: FastifyRequest): Promise<void>
      /** Counts a failed authentication; 429 when it was one too many. */
      count(request: FastifyRequest): Promise<void>
    }
  }
}

export interface LimitOptions {
  perTokenPerMinute: number
  anonymousPerMinute: number
  authFailuresPerMinute: number
}

const WINDOW_MS = 60_000

export default fp(
  async function limitsPlugin(app: FastifyInstance, options: LimitOptions) {
    await app.register(rateLimit, {
      global: true,
      // A route-level onRequest hook runs after the global ones, so the token is verified by then.
      hook: 'onRequest',
      timeWindow: WINDOW_MS,
      max: (request) => (request.tokenId ? options.perTokenPerMinute : options.anonymousPerMinute),
      keyGenerator: (request) => (request.tokenId ? `token:${request.tokenId}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) => new RateLimitedError(Math.ceil(context.ttl / 1000)),
    })

    const failures = app.createRateLimit({
      timeWindow: WINDOW_MS,
      max: options.authFailuresPerMinute,
      keyGenerator: (request) => `auth-failure:${request.ip}`,
    })
    const refuseWhenExceeded = (state: Awaited<ReturnType<typeof failures>>) => {
      if (!state.isAllowed && state.isExceeded) {
        throw new RateLimitedError(state.ttlInSeconds, 'Too many failed authentications from this address; try again later')
      }
    }
    app.decorate('authFailures', {
      refuseIfOverLimit: async (request: FastifyRequest) => refuseWhenExceeded(await failures(request, { increment: false })),
      count: async (request: FastifyRequest) => refuseWhenExceeded(await failures(request)),
    })
  },
  { name: 'limits' },
)
