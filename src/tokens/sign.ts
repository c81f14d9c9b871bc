// The one place bearer tokens are made, so every token carries the same
// claims: who (sub, name), what it may do (role), for whom it was made (iss,
// aud), its own id to revoke it by (jti), and when it was issued and expires.
// The CLI and the test suite sign through here; the service only verifies.
import { randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { Role } from '../vocabulary.js'

export interface TokenSettings {
  secret: string
  issuer: string
  audience: string
  /** Longest lifetime for staff and admin tokens, in seconds. */
  maxLifetimeSeconds: number
  /** Longest lifetime for course-system tokens, in seconds: machine tokens may live long. */
  courseSystemMaxLifetimeSeconds: number
}

export interface TokenClaims {
  sub: string
  name?: string
  role: Role
  jti: string
  iss: string
  aud: string
  /** Seconds since the epoch, as JWT counts. */
  iat: number
  exp: number
  nbf?: number
}

export interface TokenRequest {
  role: Role
  sub: string
  name?: string | null
  lifetimeSeconds: number
}

export interface SignedToken {
  token: string
  jti: string
  expiresAt: Date
}

/** How long a token of this role may live at most: machine tokens (the course system, a mail server reporting bounces) as long as the course system's. */
export function maxLifetimeFor(role: Role, settings: Pick<TokenSettings, 'maxLifetimeSeconds' | 'courseSystemMaxLifetimeSeconds'>): number {
  return role === Role.courseSystem || role === Role.provider ? settings.courseSystemMaxLifetimeSeconds : settings.maxLifetimeSeconds
}

/** Signs a token; a lifetime beyond the role's longest is refused here as it would be when used. */
export function signToken(settings: TokenSettings, request: TokenRequest, now: Date = new Date()): SignedToken {
  const longest = maxLifetimeFor(request.role, settings)
  if (!Number.isInteger(request.lifetimeSeconds) || request.lifetimeSeconds < 1 || request.lifetimeSeconds > longest) {
    throw new RangeError(`a ${request.role} token lives between 1 second and ${longest} seconds`)
  }
  const jti = randomUUID()
  const sign = createSigner({
    key: settings.secret,
    iss: settings.issuer,
    aud: settings.audience,
    jti,
    expiresIn: request.lifetimeSeconds * 1000,
    clockTimestamp: now.getTime(),
  })
  const token = sign({ sub: request.sub, role: request.role, ...(request.name ? { name: request.name } : {}) })
  return { token, jti, expiresAt: new Date(Math.floor(now.getTime() / 1000) * 1000 + request.lifetimeSeconds * 1000) }
}
