// Authentication and authorisation. Every route states in `config.roles` the
// roles it admits (or `config.public: true` for subscriber-facing pages); a
// route that states neither is refused when the app is built, so no route is
// open by accident. Tokens are JWTs made by src/tokens/sign.ts; here they are
// verified (signature, iss, aud, exp, nbf, the claims every token carries),
// then checked by the token service (issued in the future, too long-lived,
// revoked). Failed attempts per address are limited (src/plugins/limits.ts).
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Role } from '../vocabulary.js'
import type { Actor } from '../lib/actor.js'
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js'
import { CLOCK_SKEW_SECONDS } from '../tokens/service.js'
import type { TokenClaims } from '../tokens/sign.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: readonly Role[]
    public?: boolean
  }
  interface FastifyRequest {
    actor: Actor
    /** The jti of the verified token; null on public routes. */
    tokenId: string | null
  }
}

export const Roles = {
  staff: [Role.staff, Role.admin],
  admin: [Role.admin],
  courseSystem: [Role.courseSystem, Role.staff, Role.admin],
  any: [Role.courseSystem, Role.staff, Role.admin],
} as const satisfies Record<string, readonly Role[]>

const allRoles = new Set<string>(Object.values(Role))

/** The claims a token must carry; the library refuses one without them. */
const REQUIRED_CLAIMS = ['sub', 'role', 'jti', 'iat', 'exp', 'iss', 'aud']

/** A base64url JWT after "Bearer " (RFC 6750 § 2.1 allows only this one form). */
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/

/** The JWT library's refusals, as our stable codes. */
function refusal(error: unknown): UnauthorizedError {
  const { code, message } = error as { code?: string; message?: string }
  if (code === 'FAST_JWT_EXPIRED') return new UnauthorizedError('token_expired', 'The token has expired')
  if (code === 'FAST_JWT_INACTIVE') return new UnauthorizedError('token_invalid', 'The token is not valid yet (nbf)')
  if (code === 'FAST_JWT_MISSING_REQUIRED_CLAIM' || code === 'FAST_JWT_CLAIM_VALUE_INVALID' || code === 'FAST_JWT_CLAIM_TYPE_INVALID') {
    return new UnauthorizedError('token_invalid', message ?? 'The token lacks a claim or has a wrong one')
  }
  return new UnauthorizedError('token_invalid', 'The token is not valid')
}

export interface AuthOptions {
  secret: string
  issuer: string
  audience: string
  /** Checks what the signature does not (lifetime, revocation); throws UnauthorizedError. */
  checkClaims(claims: TokenClaims): Promise<void>
}

export default fp(
  async function authPlugin(app: FastifyInstance, options: AuthOptions) {
    await app.register(jwt, {
      secret: options.secret,
      verify: {
        allowedIss: options.issuer,
        allowedAud: options.audience,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: CLOCK_SKEW_SECONDS * 1000,
      },
    })
    app.decorateRequest('actor', null as unknown as Actor)
    app.decorateRequest('tokenId', null)

    async function verifiedClaims(header: string): Promise<TokenClaims> {
      const token = BEARER.exec(header)?.[1]
      if (!token) throw new UnauthorizedError('token_invalid', 'The Authorization header must be "Bearer <token>"')
      let claims: TokenClaims
      try {
        claims = app.jwt.verify<TokenClaims>(token)
      } catch (error) {
        throw refusal(error)
      }
      if (typeof claims.sub !== 'string' || !claims.sub || !allRoles.has(claims.role) || typeof claims.jti !== 'string') {
        throw new UnauthorizedError('token_invalid', 'The token does not name a subject, a known role and its id')
      }
      await options.checkClaims(claims)
      return claims
    }

    async function authenticate(request: FastifyRequest): Promise<void> {
      const header = request.headers.authorization
      if (!header) throw new UnauthorizedError()
      await app.authFailures.refuseIfOverLimit(request)
      let claims: TokenClaims
      try {
        claims = await verifiedClaims(header)
      } catch (error) {
        if (error instanceof UnauthorizedError) await app.authFailures.count(request)
        throw error
      }
      request.actor = { id: claims.sub, name: typeof claims.name === 'string' ? claims.name : null, role: claims.role }
      request.tokenId = claims.jti
    }

    app.addHook('onRoute', (route) => {
      const config = route.config as { roles?: readonly Role[]; public?: boolean } | undefined
      if (route.url.startsWith('/docs')) return // the docs UI serves only the public spec
      if (!config?.public && !config?.roles?.length) {
        throw new Error(`Route ${route.method} ${route.url} states no roles and is not public`)
      }
      if (config.roles && route.schema) {
        route.schema.security = [{ bearerAuth: [] }]
        const admitted = `Roles: ${config.roles.join(', ')}.`
        // The HEAD twin of a GET route comes through here with the same schema: say it once.
        const description = route.schema.description
        if (!description?.endsWith(admitted)) route.schema.description = description ? `${description}\n\n${admitted}` : admitted
      }
    })

    app.addHook('onRequest', async (request) => {
      const roles = request.routeOptions.config?.roles
      if (!roles) return
      await authenticate(request)
      if (!(roles as readonly string[]).includes(request.actor.role)) throw new ForbiddenError()
    })
  },
  { name: 'auth', dependencies: ['limits'] },
)
