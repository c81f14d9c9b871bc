// SQL for suppressions. Rows are inserted and lifted, never deleted.
import { and, asc, desc, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { suppressions } from '../../db/schema/index.js'
import type { SuppressionReason, SuppressionScope } from '../vocabulary.js'
import type { Cursor } from '../lib/pagination.js'

export type SuppressionRow = typeof suppressions.$inferSelect
export type NewSuppression = typeof suppressions.$inferInsert

/** Matches a person by contact or by address hash: a suppression outlives its contact. */
function forRecipient(recipient: { contactId: string | null; addressHash: string }): SQL {
  return recipient.contactId
    ? or(eq(suppressions.contactId, recipient.contactId), eq(suppressions.addressHash, recipient.addressHash))!
    : eq(suppressions.addressHash, recipient.addressHash)
}

function activeAt(now: Date): SQL {
  return and(isNull(suppressions.liftedAt), lte(suppressions.createdAt, now), or(isNull(suppressions.expiresAt), gt(suppressions.expiresAt, now)))!
}

/**
 * Makes writers of one person's suppressions take turns until the transaction
 * ends. A lock on the address hash, not on a row: the row to lock may not exist
 * yet, and the person may have no contact. Under READ COMMITTED the next
 * writer's read then sees the row the previous one committed.
 */
export async function lockRecipientSuppressions(db: Queryable, addressHash: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`suppression:${addressHash}`}, 0))`)
}

/** The same locks taken shared, for several addresses (in one order, so holders never deadlock): a new suppression of any of them waits. */
export async function holdRecipientSuppressions(db: Queryable, addressHashes: string[]): Promise<void> {
  if (addressHashes.length === 0) return
  const sorted = [...new Set(addressHashes)].sort()
  await db.execute(sql`select pg_advisory_xact_lock_shared(hashtextextended('suppression:' || h, 0))
    from unnest(${`{${sorted.join(',')}}`}::text[]) with ordinality as x(h, n) order by n`)
}

export async function insertSuppression(db: Queryable, row: NewSuppression): Promise<SuppressionRow> {
  const [inserted] = await db.insert(suppressions).values(row).returning()
  return inserted!
}

export async function findSuppressionById(db: Queryable, id: string, lock = false): Promise<SuppressionRow | undefined> {
  const query = db.select().from(suppressions).where(eq(suppressions.id, id))
  const [row] = lock ? await query.for('update') : await query
  return row
}

export async function updateSuppressionRow(db: Queryable, id: string, patch: Partial<NewSuppression>): Promise<SuppressionRow> {
  const [row] = await db.update(suppressions).set(patch).where(eq(suppressions.id, id)).returning()
  return row!
}

/**
 * Of the active suppressions with exactly this scope and reason, the one that
 * lasts longest (no expiry first), newest among those: what a repeat of it is
 * compared with, so the same one is not written twice.
 */
export async function findSameActiveSuppression(
  db: Queryable,
  recipient: { contactId: string | null; addressHash: string },
  s: { scope: SuppressionScope; reason: SuppressionReason; listId: string | null; purpose: string | null },
  now: Date,
): Promise<SuppressionRow | undefined> {
  const [row] = await db
    .select()
    .from(suppressions)
    .where(
      and(
        forRecipient(recipient),
        activeAt(now),
        eq(suppressions.scope, s.scope),
        eq(suppressions.reason, s.reason),
        s.listId ? eq(suppressions.listId, s.listId) : isNull(suppressions.listId),
        s.purpose ? eq(suppressions.purpose, s.purpose) : isNull(suppressions.purpose),
      ),
    )
    .orderBy(sql`${suppressions.expiresAt} desc nulls first`, desc(suppressions.createdAt), desc(suppressions.id))
    .limit(1)
  return row
}

/** Every suppression of a person, lifted and expired ones included (the decision filters by time). */
export async function findSuppressionsForRecipient(db: Queryable, recipient: { contactId: string | null; addressHash: string }) {
  return db.select().from(suppressions).where(forRecipient(recipient)).orderBy(asc(suppressions.createdAt), asc(suppressions.id))
}

/**
 * Every suppression of any of these people (by keyed address hash or by
 * contact), lifted and expired ones included: an import's batch in two
 * statements, each an index condition (`= any(array)`) on its own index —
 * an OR of the two would scan the table.
 */
export async function findSuppressionsForMany(db: Queryable, addressHashes: string[], contactIds: string[]): Promise<SuppressionRow[]> {
  // Hex hashes and UUIDs need no quoting in an array literal.
  const byHash = addressHashes.length ? await db.select().from(suppressions).where(sql`${suppressions.addressHash} = any(${`{${addressHashes.join(',')}}`}::text[])`) : []
  const byContact = contactIds.length ? await db.select().from(suppressions).where(sql`${suppressions.contactId} = any(${`{${contactIds.join(',')}}`}::uuid[])`) : []
  const seen = new Set(byHash.map((s) => s.id))
  return [...byHash, ...byContact.filter((s) => !seen.has(s.id))]
}

export interface SuppressionFilter {
  recipient?: { contactId: string | null; addressHash: string }
  scope?: SuppressionScope
  reason?: SuppressionReason
  activeAt?: Date
  after?: Cursor
  limit: number
}

/** A page of suppressions in creation order. */
export async function listSuppressionRows(db: Queryable, filter: SuppressionFilter): Promise<SuppressionRow[]> {
  return db
    .select()
    .from(suppressions)
    .where(
      and(
        filter.recipient ? forRecipient(filter.recipient) : undefined,
        filter.scope ? eq(suppressions.scope, filter.scope) : undefined,
        filter.reason ? eq(suppressions.reason, filter.reason) : undefined,
        filter.activeAt ? activeAt(filter.activeAt) : undefined,
        afterCursor(filter.after, suppressions.createdAt, suppressions.id),
      ),
    )
    .orderBy(asc(suppressions.createdAt), asc(suppressions.id))
    .limit(filter.limit)
}

/** Erasure: suppressions by the contact or the address lose the contact and their free-text note; scope, reason and the hash stay. */
export async function redactSuppressionsOf(db: Queryable, contactId: string, addressHash: string): Promise<number> {
  const rows = await db
    .update(suppressions)
    .set({ contactId: null, note: null })
    .where(and(or(eq(suppressions.contactId, contactId), eq(suppressions.addressHash, addressHash)), or(sql`${suppressions.contactId} is not null`, sql`${suppressions.note} is not null`)))
    .returning({ id: suppressions.id })
  return rows.length
}
