// SQL that loads the facts of the send decision: the list, the subscription,
// the consent events, the enrollments with their courses and the suppressions.
// Reads only: the decision never changes anything. Rows are turned into the
// pure `*Facts` shapes of ./types.ts here, so decide.ts never sees Drizzle.
import { and, asc, eq, inArray, isNull, ne, or, type SQL } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import type { EnrollmentWithCourse } from '../courses/queries.js'
import {
  consentEvents,
  courses,
  deferredUnsubscribes,
  enrollments,
  lists,
  subscriptions,
  suppressions,
} from '../../db/schema/index.js'
import type {
  ConsentEventFacts,
  EnrollmentFacts,
  EnrollmentStatus,
  ListFacts,
  SubscriptionFacts,
  SuppressionFacts,
  SuppressionReason,
  SuppressionScope,
} from './types.js'

export type ListRow = typeof lists.$inferSelect
export type CourseRow = typeof courses.$inferSelect
export type EnrollmentRow = typeof enrollments.$inferSelect
export type SubscriptionRow = typeof subscriptions.$inferSelect
export type SuppressionRow = typeof suppressions.$inferSelect
export type ConsentEventRow = typeof consentEvents.$inferSelect
export type DeferredUnsubscribeRow = typeof deferredUnsubscribes.$inferSelect

// --- rows to facts ---------------------------------------------------------------

export const toListFacts = (list: ListRow): ListFacts => ({
  id: list.id,
  kind: list.kind,
  purpose: list.purpose,
  basis: list.basis,
  doubleOptIn: list.doubleOptIn,
  archived: list.archivedAt !== null,
  categories: list.categories,
  courseId: list.courseId,
})

export const toSubscriptionFacts = (s: SubscriptionRow): SubscriptionFacts => ({ id: s.id, status: s.status })

export const toConsentEventFacts = (e: ConsentEventRow): ConsentEventFacts => ({
  id: e.id,
  type: e.type,
  basis: e.basis,
  listId: e.listId,
  purpose: e.purpose,
  source: e.source,
  occurredAt: e.occurredAt,
})

export const toEnrollmentFacts = ({ enrollment, course }: EnrollmentWithCourse): EnrollmentFacts => ({
  id: enrollment.id,
  courseId: enrollment.courseId,
  courseCategory: course.category,
  courseEndsAt: course.endsAt,
  status: enrollment.status as EnrollmentStatus,
  enrolledAt: enrollment.enrolledAt,
  marketingOptOut: enrollment.marketingOptOut,
})

export const toSuppressionFacts = (s: SuppressionRow): SuppressionFacts => ({
  id: s.id,
  scope: s.scope as SuppressionScope,
  reason: s.reason as SuppressionReason,
  listId: s.listId,
  purpose: s.purpose,
  createdAt: s.createdAt,
  expiresAt: s.expiresAt,
  liftedAt: s.liftedAt,
})

// --- lists and courses --------------------------------------------------------------

/**
 * The lists an explanation covers: every list that is not archived and that
 * mail is sent to on its own (newsletter, marketing, transactional), and every
 * list the contact has a subscription on, archived or course lists included.
 */
export async function findListsToExplain(db: Queryable, contactId: string): Promise<ListRow[]> {
  const subscribed = db.select({ listId: subscriptions.listId }).from(subscriptions).where(eq(subscriptions.contactId, contactId))
  return db
    .select()
    .from(lists)
    .where(
      or(
        and(isNull(lists.archivedAt), ne(lists.kind, 'course')),
        inArray(lists.id, subscribed),
      ),
    )
    .orderBy(asc(lists.createdAt), asc(lists.id))
}

/** The lists of the given courses. */
export async function findCourseLists(db: Queryable, courseIds: string[]): Promise<ListRow[]> {
  if (courseIds.length === 0) return []
  return db.select().from(lists).where(inArray(lists.courseId, courseIds))
}

// --- the contact's side ---------------------------------------------------------------

/** The contact's subscription on one list, if any. */
export async function findSubscription(db: Queryable, contactId: string, listId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.contactId, contactId), eq(subscriptions.listId, listId)))
  return row
}

/** Every subscription of the contact. */
export async function findSubscriptions(db: Queryable, contactId: string): Promise<SubscriptionRow[]> {
  return db.select().from(subscriptions).where(eq(subscriptions.contactId, contactId)).orderBy(asc(subscriptions.createdAt))
}

/**
 * Consent events bearing on a list, oldest first: those for the list, and the
 * purpose-wide ones (no list) for its purpose or its kind.
 */
export async function findListConsentEvents(
  db: Queryable,
  contactId: string,
  list: { id: string; purpose: string; kind: string },
): Promise<ConsentEventRow[]> {
  return db
    .select()
    .from(consentEvents)
    .where(and(eq(consentEvents.contactId, contactId), bearsOnList(list)))
    .orderBy(asc(consentEvents.seq))
}

function bearsOnList(list: { id: string; purpose: string; kind: string }): SQL | undefined {
  return or(
    eq(consentEvents.listId, list.id),
    and(isNull(consentEvents.listId), or(eq(consentEvents.purpose, list.purpose), eq(consentEvents.purpose, list.kind))),
  )
}

/** The contact's deferred course-list opt-outs (P3), oldest first. */
export async function findDeferredUnsubscribes(db: Queryable, contactId: string): Promise<DeferredUnsubscribeRow[]> {
  return db
    .select()
    .from(deferredUnsubscribes)
    .where(eq(deferredUnsubscribes.contactId, contactId))
    .orderBy(asc(deferredUnsubscribes.requestedAt), asc(deferredUnsubscribes.id))
}
