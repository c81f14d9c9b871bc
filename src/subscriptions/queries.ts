// SQL for subscriptions (the per-list projection of the consent ledger) and
// the opt-out wishes the course lock holds back.
import { and, asc, eq, gt, isNull, lt, sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { deferredUnsubscribes, subscriptions } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'
import type { ConsentSource, SubscriptionStatus } from '../vocabulary.js'

export type SubscriptionRow = typeof subscriptions.$inferSelect
export type NewSubscription = typeof subscriptions.$inferInsert
export type DeferredUnsubscribeRow = typeof deferredUnsubscribes.$inferSelect

/** The subscription of one contact to one list. */
export async function findSubscription(db: Queryable, contactId: string, listId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.contactId, contactId), eq(subscriptions.listId, listId)))
  return row
}

/** The subscription of one contact to one list, locked for the rest of the transaction. */
export async function lockSubscription(db: Queryable, contactId: string, listId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.contactId, contactId), eq(subscriptions.listId, listId)))
    .for('update')
  return row
}

export async function insertSubscription(db: Queryable, row: NewSubscription): Promise<SubscriptionRow> {
  const [inserted] = await db.insert(subscriptions).values(row).returning()
  return inserted!
}

export async function updateSubscriptionRow(db: Queryable, id: string, patch: Partial<NewSubscription>): Promise<SubscriptionRow> {
  const [row] = await db.update(subscriptions).set(patch).where(eq(subscriptions.id, id)).returning()
  return row!
}

/**
 * A page of a list's members in creation order, optionally one status only.
 * Served by (list_id, status, created_at, id) with a status, by
 * (list_id, created_at, id) without: the page is read off an index, never sorted.
 */
export async function findListMembers(
  db: Queryable,
  filter: { listId: string; status?: SubscriptionStatus; after?: Cursor; limit: number },
): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.listId, filter.listId),
        filter.status ? eq(subscriptions.status, filter.status) : undefined,
        afterCursor(filter.after, subscriptions.createdAt, subscriptions.id),
      ),
    )
    .orderBy(asc(subscriptions.createdAt), asc(subscriptions.id))
    .limit(filter.limit)
}

/** Every subscription of one contact, oldest first. */
export async function findContactSubscriptions(db: Queryable, contactId: string): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.contactId, contactId))
    .orderBy(asc(subscriptions.createdAt), asc(subscriptions.id))
}

/** Records an opt-out wish for later; asking twice keeps the first wish. */
export async function insertDeferredUnsubscribe(db: Queryable, row: typeof deferredUnsubscribes.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(deferredUnsubscribes).values(row).onConflictDoNothing().returning({ id: deferredUnsubscribes.id })
  return inserted.length > 0
}

/** A contact's opt-out wishes, carried out or not, oldest first. */
export async function findContactDeferredUnsubscribes(db: Queryable, contactId: string): Promise<DeferredUnsubscribeRow[]> {
  return db
    .select()
    .from(deferredUnsubscribes)
    .where(eq(deferredUnsubscribes.contactId, contactId))
    .orderBy(asc(deferredUnsubscribes.requestedAt), asc(deferredUnsubscribes.id))
}

/** A contact's open (not yet carried out) opt-out wishes. */
export async function findOpenDeferredUnsubscribes(db: Queryable, contactId: string): Promise<DeferredUnsubscribeRow[]> {
  return db
    .select()
    .from(deferredUnsubscribes)
    .where(and(eq(deferredUnsubscribes.contactId, contactId), isNull(deferredUnsubscribes.appliedAt)))
}

/** A page of every open wish, oldest first; served by the partial index on open wishes. */
export async function findOpenDeferredUnsubscribePage(db: Queryable, page: { after?: Cursor; limit: number }): Promise<DeferredUnsubscribeRow[]> {
  return db
    .select()
    .from(deferredUnsubscribes)
    .where(and(isNull(deferredUnsubscribes.appliedAt), afterCursor(page.after, deferredUnsubscribes.requestedAt, deferredUnsubscribes.id)))
    .orderBy(asc(deferredUnsubscribes.requestedAt), asc(deferredUnsubscribes.id))
    .limit(page.limit)
}

export async function markDeferredUnsubscribeApplied(db: Queryable, id: string, at: Date): Promise<void> {
  await db.update(deferredUnsubscribes).set({ appliedAt: at }).where(eq(deferredUnsubscribes.id, id))
}

/** Erasure: the person's subscriptions go. Returns how many. */
export async function deleteSubscriptionsOf(db: Queryable, contactId: string): Promise<number> {
  return (await db.delete(subscriptions).where(eq(subscriptions.contactId, contactId)).returning({ id: subscriptions.id })).length
}

/** Erasure: the person's kept opt-out wishes go. Returns how many. */
export async function deleteDeferredUnsubscribesOf(db: Queryable, contactId: string): Promise<number> {
  return (await db.delete(deferredUnsubscribes).where(eq(deferredUnsubscribes.contactId, contactId)).returning({ id: deferredUnsubscribes.id })).length
}

/** Retention: signups still unconfirmed that were made before `cutoff`, after `afterId`, in id order. */
export async function findStalePendingSubscriptions(db: Queryable, cutoff: Date, afterId: string | null, limit: number): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.status, 'pending'), lt(subscriptions.createdAt, cutoff), afterId ? gt(subscriptions.id, afterId) : undefined))
    .orderBy(asc(subscriptions.id))
    .limit(limit)
}

export async function deleteSubscription(db: Queryable, id: string): Promise<void> {
  await db.delete(subscriptions).where(eq(subscriptions.id, id))
}

/** The subscriptions of these (contact, list) pairs that exist, with their status: one statement for a batch. */
export async function findSubscriptionsByPairs(
  db: Queryable,
  pairs: { contactId: string; listId: string }[],
): Promise<{ contactId: string; listId: string; status: SubscriptionStatus }[]> {
  if (pairs.length === 0) return []
  return selectRows(
    db,
    sql`select s.contact_id as "contactId", s.list_id as "listId", s.status
        from json_to_recordset(${JSON.stringify(pairs)}::json) as x("contactId" uuid, "listId" uuid)
        join subscriptions s on s.contact_id = x."contactId" and s.list_id = x."listId"`,
  )
}

export interface NewSubscriptionsRow {
  /** The caller's id (time-ordered). */
  id: string
  contactId: string
  listId: string
  confirmedAt: Date
}

/**
 * Inserts active subscriptions for these pairs in one statement, each
 * unless the pair has one already (ON CONFLICT on the pair, so an open
 * transaction survives a concurrent writer); returns the pairs inserted.
 */
export async function insertActiveSubscriptionsIfAbsent(
  db: Queryable,
  rows: NewSubscriptionsRow[],
  source: ConsentSource,
  at: Date,
): Promise<{ contactId: string; listId: string }[]> {
  if (rows.length === 0) return []
  const now = at.toISOString()
  return selectRows(
    db,
    sql`insert into subscriptions (id, contact_id, list_id, status, source, created_at, updated_at, confirmed_at)
        select x.id, x."contactId", x."listId", 'active', ${source}::consent_source, ${now}::timestamptz, ${now}::timestamptz, x."confirmedAt"
        from json_to_recordset(${JSON.stringify(rows)}::json) as x(id uuid, "contactId" uuid, "listId" uuid, "confirmedAt" timestamptz)
        on conflict (contact_id, list_id) do nothing
        returning contact_id as "contactId", list_id as "listId"`,
  )
}
