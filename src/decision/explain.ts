// "Explain": for one contact, why each list and course would or would not get
// mail now, from stored data alone — the decision `decide` takes, with the
// subscription, consent events and suppressions that make it so. It reads one
// consistent snapshot and changes nothing.
import type { Database, Queryable } from '../../db/client.js'
import type { LegalBasis } from '../../db/schema/index.js'
import { findConsentHistory } from '../consent/queries.js'
import { requireContact } from '../contacts/service.js'
import { findContactEnrollments } from '../courses/queries.js'
import { findSuppressionsForRecipient } from '../suppressions/queries.js'
import { courseLockUntil, decide, isSuppressionActive, suppressionAppliesToList } from './decide.js'
import {
  findCourseLists,
  findDeferredUnsubscribes,
  findListsToExplain,
  findSubscriptions,
  toConsentEventFacts,
  toEnrollmentFacts,
  toListFacts,
  toSubscriptionFacts,
  toSuppressionFacts,
  type CourseRow,
  type DeferredUnsubscribeRow,
  type EnrollmentRow,
  type ListRow,
  type SubscriptionRow,
  type SuppressionRow,
} from './queries.js'
import type {
  BlockReason,
  Decision,
  DecisionFacts,
  DecisionPolicy,
  EnrollmentFacts,
  ListFacts,
  MessageKind,
  SuppressionFacts,
} from './types.js'

type HistoryRow = Awaited<ReturnType<typeof findConsentHistory>>[number]
type ConsentEventOut = HistoryRow['event'] & { notice: HistoryRow['notice'] | null }

export interface ExplainedDecision {
  allowed: boolean
  basis: LegalBasis | null
  evidence: Decision['evidence']
  reason: BlockReason | null
  lockedUntil: Date | null
}

export type ExplainedSuppression = SuppressionRow & { active: boolean }

export interface ListExplanation {
  list: Pick<ListRow, 'id' | 'slug' | 'name' | 'kind' | 'purpose'>
  decision: ExplainedDecision
  subscription: SubscriptionRow | null
  consentEvents: ConsentEventOut[]
  suppressions: ExplainedSuppression[]
}

export interface CourseExplanation {
  course: Pick<CourseRow, 'id' | 'name' | 'category' | 'startsAt' | 'endsAt'>
  decision: ExplainedDecision
  enrollments: EnrollmentRow[]
  lockedUntil: Date | null
  deferredUnsubscribe: { requestedAt: Date; takesEffectAt: Date; appliedAt: Date | null } | null
}

export interface Explanation {
  contactId: string
  explainedAt: Date
  lists: ListExplanation[]
  courses: CourseExplanation[]
  /** Every suppression of the contact or its address, lifted and expired ones included, oldest first. */
  suppressions: ExplainedSuppression[]
}

export interface ExplainContext {
  contactId: string
  now: Date
  policy: DecisionPolicy
  /** The keyed hash of a stored address. */
  hashOf: (email: string) => string
}

const explained = (d: Decision): ExplainedDecision => ({
  allowed: d.allowed,
  basis: d.allowed ? d.basis : null,
  evidence: d.evidence,
  reason: d.allowed ? null : d.reason,
  lockedUntil: d.lockedUntil,
})

/** Events bearing on a list: for the list itself, or purpose-wide for its purpose or kind (as the decision reads them). */
const bearsOn = (list: ListRow) => (e: HistoryRow['event']) =>
  e.listId === list.id || (e.listId === null && (e.purpose === list.purpose || e.purpose === list.kind))

/**
 * The suppressions the decision for this list listens to: all-mail always;
 * for consent and marketing lists those covering the list; for course mail
 * an erasure too (it ends the contracts made before it).
 */
function appliesTo(s: SuppressionFacts, list: ListFacts): boolean {
  if (s.scope === 'all-mail') return true
  switch (list.kind) {
    case 'newsletter':
    case 'marketing':
      return suppressionAppliesToList(s, list)
    case 'course':
      return s.reason === 'erasure'
    case 'transactional':
      return false
  }
}

/** Loads everything about one contact in one snapshot. */
async function loadContact(tx: Queryable, context: ExplainContext) {
  const contact = await requireContact(tx, context.contactId)
  const contactId = contact.id
  const lists = await findListsToExplain(tx, contactId)
  const subscriptions = await findSubscriptions(tx, contactId)
  const history = await findConsentHistory(tx, contactId)
  const enrollments = await findContactEnrollments(tx, contactId)
  const suppressions = await findSuppressionsForRecipient(tx, { contactId, addressHash: context.hashOf(contact.email) })
  const courseIds = [...new Set(enrollments.map((e) => e.course.id))]
  const courseLists = await findCourseLists(tx, courseIds)
  const deferred = await findDeferredUnsubscribes(tx, contactId)
  return { contactId, lists, subscriptions, history, enrollments, suppressions, courseIds, courseLists, deferred }
}

type Loaded = Awaited<ReturnType<typeof loadContact>>

export async function explainContact(db: Database, context: ExplainContext): Promise<Explanation> {
  // Repeatable read: every part of the explanation sees the same moment of the database.
  const loaded = await db.transaction((tx) => loadContact(tx, context), { isolationLevel: 'repeatable read', accessMode: 'read only' })
  const { now, policy } = context
  const enrollmentFacts = loaded.enrollments.map(toEnrollmentFacts)
  const suppressionFacts = loaded.suppressions.map(toSuppressionFacts)
  const withActive = (s: SuppressionRow): ExplainedSuppression => ({ ...s, active: isSuppressionActive(toSuppressionFacts(s), now) })

  /** The decision for one list (for a course list, course mail of its course) and the rows behind it. */
  function decideList(list: ListRow, kind: MessageKind, courseId: string | null) {
    const subscription = loaded.subscriptions.find((s) => s.listId === list.id) ?? null
    const events = loaded.history.filter((h) => bearsOn(list)(h.event))
    const listFacts = toListFacts(list)
    const facts: DecisionFacts = {
      kind,
      contactId: loaded.contactId,
      list: listFacts,
      courseId,
      subscription: subscription ? toSubscriptionFacts(subscription) : null,
      consentEvents: events.map((h) => toConsentEventFacts(h.event)),
      enrollments: enrollmentFacts,
      suppressions: suppressionFacts,
    }
    const applying = loaded.suppressions.filter((_, i) => {
      const s = suppressionFacts[i]!
      return isSuppressionActive(s, now) && appliesTo(s, listFacts)
    })
    return {
      decision: explained(decide(facts, now, policy)),
      subscription,
      consentEvents: events.map(({ event, notice }) => ({ ...event, notice: notice?.id ? notice : null })),
      suppressions: applying.map(withActive),
    }
  }

  const lists = loaded.lists.map((list): ListExplanation => ({
    list: { id: list.id, slug: list.slug, name: list.name, kind: list.kind, purpose: list.purpose },
    ...decideList(list, list.kind, list.courseId),
  }))

  const courses = loaded.courseIds.map((courseId) => explainCourse(loaded, courseId, enrollmentFacts, suppressionFacts, context))
  return { contactId: loaded.contactId, explainedAt: now, lists, courses, suppressions: loaded.suppressions.map(withActive) }
}

function explainCourse(
  loaded: Loaded,
  courseId: string,
  enrollmentFacts: EnrollmentFacts[],
  suppressionFacts: SuppressionFacts[],
  { now, policy }: ExplainContext,
): CourseExplanation {
  const rows = loaded.enrollments.filter((e) => e.course.id === courseId)
  const course = rows[0]!.course
  const list = loaded.courseLists.find((l) => l.courseId === courseId) ?? null
  const subscription = list ? loaded.subscriptions.find((s) => s.listId === list.id) : undefined
  const facts: DecisionFacts = {
    kind: 'course',
    contactId: loaded.contactId,
    list: list ? toListFacts(list) : null,
    courseId,
    subscription: subscription ? toSubscriptionFacts(subscription) : null,
    consentEvents: list ? loaded.history.filter((h) => bearsOn(list)(h.event)).map((h) => toConsentEventFacts(h.event)) : [],
    enrollments: enrollmentFacts,
    suppressions: suppressionFacts,
  }
  const lockedUntil = courseLockUntil(enrollmentFacts, courseId, now)
  return {
    course: { id: course.id, name: course.name, category: course.category, startsAt: course.startsAt, endsAt: course.endsAt },
    decision: explained(decide(facts, now, policy)),
    enrollments: rows.map((r) => r.enrollment),
    lockedUntil,
    deferredUnsubscribe: list ? deferredFor(loaded.deferred, list.id, lockedUntil, now) : null,
  }
}

/**
 * The course-list opt-out asked for during the course: the open one if there
 * is one, else the latest carried out. An open wish takes effect when the lock
 * ends (now, if nothing locks it any more); a carried-out one took effect when
 * it was applied.
 */
function deferredFor(rows: DeferredUnsubscribeRow[], listId: string, lockedUntil: Date | null, now: Date) {
  const forList = rows.filter((r) => r.listId === listId)
  const chosen = forList.find((r) => r.appliedAt === null) ?? forList.at(-1)
  if (!chosen) return null
  const takesEffectAt = chosen.appliedAt ?? lockedUntil ?? now
  return { requestedAt: chosen.requestedAt, takesEffectAt, appliedAt: chosen.appliedAt }
}
