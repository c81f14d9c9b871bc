// SQL for subscriptions: the per-list projection of the consent ledger.
import { and, asc, eq, gt, isNull, notExists, sql } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { contacts, courses, deferredUnsubscribes, enrollments, lists, subscriptions, type SubscriptionStatus } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'

export type SubscriptionRow = typeof subscriptions.$inferSelect
export type NewSubscription = typeof subscriptions.$inferInsert

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

/** A page of a list's members with their addresses, optionally one status only. */
export async function findListMembers(
  db: Queryable,
  filter: { listId: string; status?: SubscriptionStatus; after?: Cursor; limit: number },
) {
  return db
    .select({ subscription: subscriptions, email: contacts.email })
    .from(subscriptions)
    .innerJoin(contacts, eq(contacts.id, subscriptions.contactId))
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

/** Every subscription of one contact, with the list's slug and kind. */
export async function findContactSubscriptions(db: Queryable, contactId: string) {
  return db
    .select({ subscription: subscriptions, listSlug: lists.slug, listKind: lists.kind })
    .from(subscriptions)
    .innerJoin(lists, eq(lists.id, subscriptions.listId))
    .where(eq(subscriptions.contactId, contactId))
    .orderBy(asc(subscriptions.createdAt), asc(subscriptions.id))
}

/** Records an opt-out wish for later; asking twice keeps the first wish. */
export async function insertDeferredUnsubscribe(db: Queryable, row: typeof deferredUnsubscribes.$inferInsert): Promise<void> {
  await db.insert(deferredUnsubscribes).values(row).onConflictDoNothing()
}

/** A contact's open (not yet carried out) opt-out wishes, with the course each list belongs to. */
export async function findOpenDeferredUnsubscribes(db: Queryable, contactId: string) {
  return db
    .select({ deferred: deferredUnsubscribes, courseId: lists.courseId })
    .from(deferredUnsubscribes)
    .innerJoin(lists, eq(lists.id, deferredUnsubscribes.listId))
    .where(and(eq(deferredUnsubscribes.contactId, contactId), isNull(deferredUnsubscribes.appliedAt)))
}

export async function markDeferredUnsubscribeApplied(db: Queryable, id: string, at: Date): Promise<void> {
  await db.update(deferredUnsubscribes).set({ appliedAt: at }).where(eq(deferredUnsubscribes.id, id))
}

/**
 * Contacts with an open course-list opt-out that nothing locks any more: no
 * active enrollment in that course whose course is still running.
 */
export async function findContactsWithDueDeferredUnsubscribes(db: Queryable, now: Date): Promise<string[]> {
  const rows = await db
    .selectDistinct({ contactId: deferredUnsubscribes.contactId })
    .from(deferredUnsubscribes)
    .innerJoin(lists, eq(lists.id, deferredUnsubscribes.listId))
    .where(
      and(
        isNull(deferredUnsubscribes.appliedAt),
        notExists(
          db
            .select({ one: sql`1` })
            .from(enrollments)
            .innerJoin(courses, eq(courses.id, enrollments.courseId))
            .where(
              and(
                eq(enrollments.contactId, deferredUnsubscribes.contactId),
                eq(enrollments.courseId, lists.courseId),
                eq(enrollments.status, 'active'),
                gt(courses.endsAt, now),
              ),
            ),
        ),
      ),
    )
  return rows.map((r) => r.contactId)
}
