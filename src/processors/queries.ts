// SQL for third-party notices: written with an erasure or rectification,
// claimed for delivery under a lease (so no HTTP call runs inside a
// transaction), settled after the attempt, and listed for staff.
import { and, asc, eq, inArray, lte, or, sql } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { processorNotices } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'

export type NoticeRow = typeof processorNotices.$inferSelect
export type NewNoticeRow = typeof processorNotices.$inferInsert

export async function insertNotices(db: Queryable, rows: NewNoticeRow[]): Promise<NoticeRow[]> {
  if (rows.length === 0) return []
  return db.insert(processorNotices).values(rows).returning()
}

export async function findNotice(db: Queryable, id: string, lock = false): Promise<NoticeRow | undefined> {
  const query = db.select().from(processorNotices).where(eq(processorNotices.id, id))
  const [row] = lock ? await query.for('update') : await query
  return row
}

export async function updateNotice(db: Queryable, id: string, patch: Partial<NewNoticeRow>): Promise<NoticeRow> {
  const [row] = await db.update(processorNotices).set(patch).where(eq(processorNotices.id, id)).returning()
  return row!
}

/**
 * Claims up to `limit` webhook notices whose attempt is due, moving their next
 * attempt to `leaseUntil`: another worker skips them meanwhile, and one whose
 * worker died is tried again when the lease runs out.
 */
export async function claimDueNotices(db: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<NoticeRow[]> {
  const t = processorNotices
  const due = db
    .select({ id: t.id })
    .from(t)
    .where(and(eq(t.status, 'pending'), lte(t.nextAttemptAt, now)))
    .orderBy(asc(t.nextAttemptAt))
    .limit(limit)
    .for('update', { skipLocked: true })
  return db.update(t).set({ nextAttemptAt: leaseUntil }).where(inArray(t.id, due)).returning()
}

export async function findNoticesOfRequests(db: Queryable, requestIds: string[]): Promise<NoticeRow[]> {
  if (requestIds.length === 0) return []
  return db.select().from(processorNotices).where(inArray(processorNotices.requestId, requestIds)).orderBy(asc(processorNotices.createdAt), asc(processorNotices.id))
}

/** A page of notices, oldest first; `open`: those still pending, failed or waiting for staff. */
export async function listNoticeRows(db: Queryable, filter: { open?: boolean; status?: string; after?: Cursor; limit: number }): Promise<NoticeRow[]> {
  const t = processorNotices
  return db
    .select()
    .from(t)
    .where(
      and(
        filter.open ? sql`${t.status} in ('pending', 'manual', 'failed')` : undefined,
        filter.status ? eq(t.status, filter.status) : undefined,
        afterCursor(filter.after, t.createdAt, t.id),
      ),
    )
    .orderBy(asc(t.createdAt), asc(t.id))
    .limit(filter.limit)
}

/** Every notice about a person, by contact or keyed address hash, oldest first (the access export). */
export async function findNoticesAbout(db: Queryable, contactId: string, addressHash: string): Promise<NoticeRow[]> {
  const t = processorNotices
  return db.select().from(t).where(or(eq(t.contactId, contactId), eq(t.addressHash, addressHash))).orderBy(asc(t.createdAt), asc(t.id))
}
