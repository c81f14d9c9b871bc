// Request limits per client, with @fastify/rate-limit: per token for the API,
// per IP address for requests without one, and a tighter limit on failed
// authentication per address (once over it, every attempt from that address
// is refused until the window ends, so guessing cannot go as fast as we
// answer). 429 is a problem document with Retry-After. Counters live in this
// process, or with `store` in PostgreSQL, shared by every instance
// (src/rate-limits/store.ts; RATE_LIMIT_STORE).
//
// When that store cannot count, the request limits let the request through
// (logged): they guard capacity, and a database that does not answer has none
// to guard — refusing would only add 5xx to requests that might still work,
// such as an unsubscribe. The failed-authentication limit refuses instead
// (503 auth_limit_unavailable): it guards against guessing, which must not
// speed up because the counter is away, and an authenticated request needs
// the database anyway.
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { LimitUnavailableError, RateLimitedError } from '../lib/errors.js'

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
  /** Where the counters are kept; absent: in this process. */
  store?: FastifyRateLimitStoreCtor
}

const WINDOW_MS = 60_000

export default fp(
  async function limitsPlugin(app: FastifyInstance, options: LimitOptions) {
    await app.register(rateLimit, {
      global: true,
      // A route-level onRequest hook runs after the global ones, so the token is verified by then.
      hook: 'onRequest',
      ...(options.store ? { store: options.store } : {}),
      // Request limits open up when the store cannot count (see the top of this file); route-level ones inherit it.
      skipOnError: true,
      timeWindow: WINDOW_MS,
      max: (request) => (request.tokenId ? options.perTokenPerMinute : options.anonymousPerMinute),
      keyGenerator: (request) => (request.tokenId ? `token:${request.tokenId}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) => new RateLimitedError(Math.ceil(context.ttl / 1000)),
    })

    const failures = app.createRateLimit({
      timeWindow: WINDOW_MS,
      max: options.authFailuresPerMinute,
      keyGenerator: (request) => `auth-failure:${request.ip}`,
      skipOnError: false,
    })
    /** The limiter's answer, or a 503 when its counter could not be reached: this limit never opens up. */
    const checkFailures = async (request: FastifyRequest, callOptions?: { increment: false }) => {
      try {
        return await failures(request, callOptions)
      } catch (error) {
        request.log.warn({ err: error }, 'failed-authentication counter unavailable: authentication refused')
        throw new LimitUnavailableError('Failed authentications cannot be counted just now, so none is taken; try again shortly')
      }
    }
    const refuseWhenExceeded = (state: Awaited<ReturnType<typeof failures>>) => {
      if (!state.isAllowed && state.isExceeded) {
        throw new RateLimitedError(state.ttlInSeconds, 'Too many failed authentications from this address; try again later')
      }
    }
    app.decorate('authFailures', {
      refuseIfOverLimit: async (request: FastifyRequest) => refuseWhenExceeded(await checkFailures(request, { increment: false })),
      count: async (request: FastifyRequest) => refuseWhenExceeded(await checkFailures(request)),
    })
  },
  { name: 'limits' },
)
