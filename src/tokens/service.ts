// Bearer tokens after their signature: the checks a JWT library does not make
// (issued in the future, living longer than the role allows, revoked), and
// revocation itself — one token by its jti, or every token of a subject
// issued until now. Token times are wall-clock times, as the signature check's
// are, never the domain clock that tests move. Knows nothing of HTTP.
// Making a token is ./sign.ts (the CLI and the tests sign; the service only
// verifies), with the settings both share from ./settings.ts.
import type { Database } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { systemClock } from '../lib/clock.js'
import { NotFoundError, UnauthorizedError, ValidationError } from '../lib/errors.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import { findRevocationById, findRevocationCovering, findRevocationOfJti, insertRevocation, listRevocationRows, type RevocationRow } from './queries.js'
import { maxLifetimeFor, type TokenClaims, type TokenSettings } from './sign.js'

/** How far ahead of our clock a token's iat or nbf may be: clocks of well-run machines agree within seconds. */
export const CLOCK_SKEW_SECONDS = 60

export type RevokeTarget = { jti: string } | { subject: string }

export function createTokenService({ db, clock, audit, settings }: { db: Database; clock: Clock; audit: AuditRecorder; settings: TokenSettings }) {
  return {
    /**
     * Accepts verified claims or throws 401: iat not in the future beyond the
     * skew, a lifetime within the role's longest, and no revocation covering it.
     */
    async checkClaims(claims: TokenClaims): Promise<void> {
      const nowSeconds = systemClock.now().getTime() / 1000
      if (claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
        throw new UnauthorizedError('token_invalid', 'The token says it was issued in the future')
      }
      if (claims.exp - claims.iat > maxLifetimeFor(claims.role, settings)) {
        throw new UnauthorizedError('token_invalid', `The token lives longer than a ${claims.role} token may`)
      }
      const revoked = await findRevocationCovering(db, { jti: claims.jti, sub: claims.sub, issuedAt: new Date(claims.iat * 1000) })
      if (revoked) throw new UnauthorizedError('token_revoked', 'The token has been revoked')
    },

    /**
     * Revokes one token (by jti) or every token of a subject issued until now.
     * Revoking a jti twice returns the first revocation, `created: false`.
     */
    async revokeToken(target: RevokeTarget, reason: string, actor: Actor): Promise<{ revocation: RevocationRow; created: boolean }> {
      if ('jti' in target && 'subject' in target) {
        throw new ValidationError([{ field: 'body', message: 'names two targets: send jti or subject, not both' }], 'revocation_target_ambiguous')
      }
      if (!('jti' in target) && !('subject' in target)) {
        throw new ValidationError([{ field: 'body', message: 'must name the token by jti or the subject' }], 'revocation_target_required')
      }
      return db.transaction(async (tx) => {
        const now = clock.now()
        const inserted = await insertRevocation(tx, {
          ...('jti' in target ? { jti: target.jti } : { subject: target.subject, issuedUpTo: systemClock.now() }),
          reason,
          revokedAt: now,
          revokedById: actor.id,
          revokedByName: actor.name,
          revokedByRole: actor.role,
        })
        if (!inserted) return { revocation: (await findRevocationOfJti(tx, (target as { jti: string }).jti))!, created: false }
        await audit.record(tx, actor, now, {
          action: 'token.revoked',
          entityType: 'token_revocation',
          entityId: inserted.id,
          changes: { ...target, reason },
        })
        return { revocation: inserted, created: true }
      })
    },

    async getRevocation(id: string): Promise<RevocationRow> {
      const revocation = await findRevocationById(db, id)
      if (!revocation) throw new NotFoundError('Revocation', 'revocation_not_found')
      return revocation
    },

    async listRevocations(query: { cursor?: string; limit?: number }) {
      const limit = query.limit ?? 50
      const rows = await listRevocationRows(db, { after: decodeCursor(query.cursor), limit: limit + 1 })
      return toPage(rows, limit, (r) => ({ at: r.revokedAt, id: r.id }))
    },
  }
}
export type TokenService = ReturnType<typeof createTokenService>
