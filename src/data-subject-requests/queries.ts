// SQL for data-subject requests: the rows, their listing (open ones by due
// date, or all by creation), and the daily check's requests close to their due date.
import { and, asc, eq, isNotNull, isNull, lte, sql, type SQL } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { dataSubjectRequests } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'
import type { RequestStatus, RequestType } from '../vocabulary.js'

export type RequestRow = typeof dataSubjectRequests.$inferSelect
export type NewRequestRow = typeof dataSubjectRequests.$inferInsert

export async function insertRequest(db: Queryable, row: NewRequestRow): Promise<RequestRow> {
  const [inserted] = await db.insert(dataSubjectRequests).values(row).returning()
  return inserted!
}

/** One request; `lock` takes it FOR UPDATE (a step in its handling). */
export async function findRequest(db: Queryable, id: string, lock = false): Promise<RequestRow | undefined> {
  const query = db.select().from(dataSubjectRequests).where(eq(dataSubjectRequests.id, id))
  const [row] = lock ? await query.for('update') : await query
  return row
}

export async function updateRequest(db: Queryable, id: string, patch: Partial<NewRequestRow>): Promise<RequestRow> {
  const [row] = await db.update(dataSubjectRequests).set(patch).where(eq(dataSubjectRequests.id, id)).returning()
  return row!
}

export interface RequestFilter {
  status?: RequestStatus
  type?: RequestType
  contactId?: string
  /** Only those still open whose due date is before this instant. */
  dueBefore?: Date
  after?: Cursor
  limit: number
}

/**
 * A page of requests. Open ones (status open or in_progress, or `dueBefore`)
 * come by due date, soonest first, served by the partial index on open
 * requests; the rest in the order they were created.
 */
export async function listRequestRows(db: Queryable, filter: RequestFilter, byDueDate: boolean): Promise<RequestRow[]> {
  const t = dataSubjectRequests
  const order = byDueDate ? t.dueAt : t.createdAt
  const conditions: (SQL | undefined)[] = [
    filter.status ? eq(t.status, filter.status) : undefined,
    filter.type ? eq(t.type, filter.type) : undefined,
    filter.contactId ? eq(t.contactId, filter.contactId) : undefined,
    byDueDate ? isNull(t.closedAt) : undefined,
    filter.dueBefore ? lte(t.dueAt, filter.dueBefore) : undefined,
    afterCursor(filter.after, order, t.id),
  ]
  return db
    .select()
    .from(t)
    .where(and(...conditions))
    .orderBy(asc(order), asc(t.id))
    .limit(filter.limit)
}

/** Every request about a contact, oldest first (the access export). */
export async function findRequestsOfContact(db: Queryable, contactId: string): Promise<RequestRow[]> {
  return db.select().from(dataSubjectRequests).where(eq(dataSubjectRequests.contactId, contactId)).orderBy(asc(dataSubjectRequests.createdAt))
}

/** Open requests due by `before` that the daily check has not flagged yet. */
export async function findUnflaggedDueBy(db: Queryable, before: Date): Promise<RequestRow[]> {
  const t = dataSubjectRequests
  return db
    .select()
    .from(t)
    .where(and(isNull(t.closedAt), isNull(t.dueSoonAt), lte(t.dueAt, before)))
    .orderBy(asc(t.dueAt), asc(t.id))
    .for('update', { skipLocked: true })
}

/** Erasure: the person's requests keep type, dates, status and the hash; what was written about them goes. */
export async function redactRequestsOf(db: Queryable, contactId: string): Promise<number> {
  const rows = await db
    .update(dataSubjectRequests)
    .set({ contactId: null, details: null, outcome: null })
    .where(eq(dataSubjectRequests.contactId, contactId))
    .returning({ id: dataSubjectRequests.id })
  return rows.length
}

/** Open erasure requests scheduled for a time that has come (the course that held them back is over). */
export async function findScheduledErasuresDue(db: Queryable, now: Date): Promise<RequestRow[]> {
  const t = dataSubjectRequests
  return db
    .select()
    .from(t)
    .where(and(isNull(t.closedAt), isNotNull(t.eraseAfter), lte(t.eraseAfter, now)))
    .orderBy(asc(t.eraseAfter), asc(t.id))
}

/** Open requests by type, and how many of them are past their due time (the metrics): open requests only, through their partial index. */
export async function countOpenRequests(db: Queryable, now: Date): Promise<{ type: RequestType; open: number; overdue: number }[]> {
  const t = dataSubjectRequests
  return db
    .select({
      type: t.type,
      open: sql<number>`count(*)`.mapWith(Number),
      overdue: sql<number>`count(*) filter (where ${t.dueAt} < ${now.toISOString()}::timestamptz)`.mapWith(Number),
    })
    .from(t)
    .where(isNull(t.closedAt))
    .groupBy(t.type)
}
