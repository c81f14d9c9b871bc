// SQL for the send ledger. Inserts and reads only here: the database refuses
// deletes and any change to a row's decision columns (trigger); the delivery
// columns are moved by the delivery worker's own queries.
import { and, asc, eq, gte, lt } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { sendLedger } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'

export type LedgerRow = typeof sendLedger.$inferSelect
export type NewLedgerRow = typeof sendLedger.$inferInsert

/** Inserts one decision; returns undefined when the message id is taken. */
// ON CONFLICT rather than catching the unique violation: inside the caller's
// transaction a failed statement would abort everything after it.
export async function insertLedgerRow(db: Queryable, row: NewLedgerRow): Promise<LedgerRow | undefined> {
  const [inserted] = await db.insert(sendLedger).values(row).onConflictDoNothing({ target: sendLedger.messageId }).returning()
  return inserted
}

export interface LedgerFilter {
  contactId?: string
  campaignId?: string
  listId?: string
  from?: Date
  to?: Date
  decision?: 'allowed' | 'blocked'
  after?: Cursor
  limit: number
}

/** A page of ledger rows in decision order (decided_at, id), each filter optional; served by the *_idx on (x, decided_at, id). */
export async function findLedgerRows(db: Queryable, filter: LedgerFilter): Promise<LedgerRow[]> {
  return db
    .select()
    .from(sendLedger)
    .where(
      and(
        filter.contactId ? eq(sendLedger.contactId, filter.contactId) : undefined,
        filter.campaignId ? eq(sendLedger.campaignId, filter.campaignId) : undefined,
        filter.listId ? eq(sendLedger.listId, filter.listId) : undefined,
        filter.decision ? eq(sendLedger.decision, filter.decision) : undefined,
        filter.from ? gte(sendLedger.decidedAt, filter.from) : undefined,
        filter.to ? lt(sendLedger.decidedAt, filter.to) : undefined,
        afterCursor(filter.after, sendLedger.decidedAt, sendLedger.id),
      ),
    )
    .orderBy(asc(sendLedger.decidedAt), asc(sendLedger.id))
    .limit(filter.limit)
}
