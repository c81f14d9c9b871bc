// Rows, as their own modules return them, turned into the pure facts that
// decide() reads (./types.ts). Pure: no queries here — the decision service
// asks each module for its rows.
import type { ConsentEventRow } from '../consent/queries.js'
import type { EnrollmentWithCourse } from '../courses/queries.js'
import type { ListRow } from '../lists/queries.js'
import type { SubscriptionRow } from '../subscriptions/queries.js'
import type { SuppressionRow } from '../suppressions/queries.js'
import type { ConsentEventFacts, EnrollmentFacts, ListFacts, SubscriptionFacts, SuppressionFacts } from './types.js'

export const toListFacts = (list: ListRow): ListFacts => ({
  id: list.id,
  kind: list.kind,
  purpose: list.purpose,
  basis: list.basis,
  archived: list.archivedAt !== null,
  categories: list.categories,
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
  status: enrollment.status,
  enrolledAt: enrollment.enrolledAt,
  marketingOptOut: enrollment.marketingOptOut,
})

export const toSuppressionFacts = (s: SuppressionRow): SuppressionFacts => ({
  id: s.id,
  scope: s.scope,
  reason: s.reason,
  listId: s.listId,
  purpose: s.purpose,
  createdAt: s.createdAt,
  expiresAt: s.expiresAt,
  liftedAt: s.liftedAt,
})
