// SQL for token revocations: append and read, nothing else (the table refuses the rest).
import { and, asc, eq, gte, or } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { tokenRevocations } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'

export type RevocationRow = typeof tokenRevocations.$inferSelect
export type NewRevocation = typeof tokenRevocations.$inferInsert

/** Appends a revocation; undefined when that jti is revoked already. */
// ON CONFLICT rather than a caught violation, so the caller's transaction survives.
export async function insertRevocation(db: Queryable, row: NewRevocation): Promise<RevocationRow | undefined> {
  const [inserted] = await db.insert(tokenRevocations).values(row).onConflictDoNothing().returning()
  return inserted
}

export async function findRevocationById(db: Queryable, id: string): Promise<RevocationRow | undefined> {
  const [row] = await db.select().from(tokenRevocations).where(eq(tokenRevocations.id, id))
  return row
}

export async function findRevocationOfJti(db: Queryable, jti: string): Promise<RevocationRow | undefined> {
  const [row] = await db.select().from(tokenRevocations).where(eq(tokenRevocations.jti, jti))
  return row
}

/**
 * The revocation that covers a token, if any: its own jti, or its subject's
 * tokens issued up to a time at or after the token's iat. Run on every
 * authenticated request; served by the jti key and the (subject, issued_up_to) index.
 */
export async function findRevocationCovering(
  db: Queryable,
  token: { jti: string; sub: string; issuedAt: Date },
): Promise<{ id: string } | undefined> {
  const [row] = await db
    .select({ id: tokenRevocations.id })
    .from(tokenRevocations)
    .where(
      or(
        eq(tokenRevocations.jti, token.jti),
        and(eq(tokenRevocations.subject, token.sub), gte(tokenRevocations.issuedUpTo, token.issuedAt)),
      ),
    )
    .limit(1)
  return row
}

/** A page of revocations, oldest first. */
export async function listRevocationRows(db: Queryable, filter: { after?: Cursor; limit: number }): Promise<RevocationRow[]> {
  return db
    .select()
    .from(tokenRevocations)
    .where(afterCursor(filter.after, tokenRevocations.revokedAt, tokenRevocations.id))
    .orderBy(asc(tokenRevocations.revokedAt), asc(tokenRevocations.id))
    .limit(filter.limit)
}
