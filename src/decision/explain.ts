// "Explain": for one contact, why each list and course would or would not get
// mail now, from stored data alone. It asks `decide` and renders its trace:
// the rule that decided, and the rows the decision read (the subscription,
// the consent events, the suppressions, the enrollments) — never its own idea
// of which rows bear on a list. It reads one consistent snapshot and changes
// nothing.
import type { Database, Queryable } from '../../db/client.js'
import type { BlockReason, DecisionRule, LegalBasis, MessageKind } from '../vocabulary.js'
import { decide, isSuppressionActive } from './decide.js'
import { RULE_TEXT } from './rule-text.js'
import { toConsentEventFacts, toEnrollmentFacts, toListFacts, toSubscriptionFacts, toSuppressionFacts } from './facts.js'
import type { DecisionSources } from './sources.js'
import type { Decision, DecisionFacts, DecisionPolicy, Evidence } from './types.js'
import type { CourseRow, EnrollmentRow } from '../courses/queries.js'
import type { ListRow } from '../lists/queries.js'
import type { DeferredUnsubscribeRow, SubscriptionRow } from '../subscriptions/queries.js'
import type { SuppressionRow } from '../suppressions/queries.js'


type ConsentEventOut = Awaited<ReturnType<DecisionSources['consent']['consentHistory']>>[number]

export interface ExplainedDecision {
  allowed: boolean
  basis: LegalBasis | null
  evidence: Evidence | null
  reason: BlockReason | null
  lockedUntil: Date | null
  rule: DecisionRule
  ruleText: string
}

export type ExplainedSuppression = SuppressionRow & { active: boolean }

export interface ListExplanation {
  list: Pick<ListRow, 'id' | 'slug' | 'name' | 'kind' | 'purpose'>
  decision: ExplainedDecision
  subscription: SubscriptionRow | null
  consentEvents: ConsentEventOut[]
  /** `overriddenBy`: the person's own newer consent that speaks over the suppression for this list, if one does. */
  suppressions: (ExplainedSuppression & { overriddenBy: string | null })[]
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
}

const explained = (d: Decision): ExplainedDecision => ({
  allowed: d.allowed,
  basis: d.allowed ? d.basis : null,
  evidence: d.evidence,
  reason: d.allowed ? null : d.reason,
  lockedUntil: d.lockedUntil,
  rule: d.trace.rule,
  ruleText: RULE_TEXT[d.trace.rule],
})

/** Loads everything about one contact in one snapshot, each part from the module that owns it. */
async function loadContact(tx: Queryable, sources: DecisionSources, contactId: string) {
  const recipient = await sources.contacts.recipientById(tx, contactId)
  const subscriptions = await sources.subscriptions.subscriptionsOf(tx, contactId)
  const open = await sources.lists.findOpenNonCourseLists(tx)
  const openIds = new Set(open.map((l) => l.id))
  const subscribedOnly = await sources.lists.findListsByIds(tx, subscriptions.map((s) => s.listId).filter((id) => !openIds.has(id)))
  // Every open list that gets mail on its own, and every list the contact is on (archived or course lists too).
  const lists = [...open, ...subscribedOnly].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
  const history = await sources.consent.consentHistory(contactId, tx)
  const enrollments = await sources.courses.enrollmentsOf(tx, contactId)
  const suppressions = await sources.suppressions.suppressionsOf(tx, recipient)
  const courseIds = [...new Set(enrollments.map((e) => e.course.id))]
  const courseLists: ListRow[] = []
  for (const courseId of courseIds) courseLists.push(await sources.lists.courseList(tx, courseId))
  const deferred = await sources.subscriptions.deferredUnsubscribesOf(tx, contactId)
  return { contactId, lists, subscriptions, history, enrollments, suppressions, courseIds, courseLists, deferred }
}

type Loaded = Awaited<ReturnType<typeof loadContact>>

export async function explainContact(db: Database, sources: DecisionSources, context: ExplainContext): Promise<Explanation> {
  // Repeatable read: every part of the explanation sees the same moment of the database.
  const loaded = await db.transaction((tx) => loadContact(tx, sources, context.contactId), {
    isolationLevel: 'repeatable read',
    accessMode: 'read only',
  })
  const { now } = context
  const withActive = (s: SuppressionRow): ExplainedSuppression => ({ ...s, active: isSuppressionActive(toSuppressionFacts(s), now) })
  const lists = loaded.lists.map((list): ListExplanation => {
    const { decision, subscription, consentEvents, suppressions } = decideAndRender(loaded, list, list.kind, list.courseId, context)
    return { list: { id: list.id, slug: list.slug, name: list.name, kind: list.kind, purpose: list.purpose }, decision, subscription, consentEvents, suppressions }
  })
  const courses = loaded.courseIds.map((courseId) => explainCourse(loaded, courseId, context))
  return { contactId: loaded.contactId, explainedAt: now, lists, courses, suppressions: loaded.suppressions.map(withActive) }
}

/** The decision for one list (for a course list, course mail of its course), and the rows its trace names. */
function decideAndRender(loaded: Loaded, list: ListRow | null, kind: MessageKind, courseId: string | null, { now, policy }: ExplainContext) {
  const subscriptionRow = list ? loaded.subscriptions.find((s) => s.listId === list.id) : undefined
  const facts: DecisionFacts = {
    kind,
    list: list ? toListFacts(list) : null,
    courseId,
    subscription: subscriptionRow ? toSubscriptionFacts(subscriptionRow) : null,
    consentEvents: loaded.history.map(toConsentEventFacts),
    enrollments: loaded.enrollments.map(toEnrollmentFacts),
    suppressions: loaded.suppressions.map(toSuppressionFacts),
  }
  const decision = decide(facts, now, policy)
  const { trace } = decision
  const suppressions = trace.suppressions.map(({ id, overriddenBy }) => ({
    ...loaded.suppressions.find((s) => s.id === id)!,
    active: true,
    overriddenBy,
  }))
  return {
    decision: explained(decision),
    trace,
    // The person's state on the list, whether or not the rule read it (course mail does not).
    subscription: subscriptionRow ?? null,
    consentEvents: trace.consentEvents.map((id) => loaded.history.find((e) => e.id === id)!),
    suppressions,
  }
}

function explainCourse(loaded: Loaded, courseId: string, context: ExplainContext): CourseExplanation {
  const course = loaded.enrollments.find((e) => e.course.id === courseId)!.course
  const list = loaded.courseLists.find((l) => l.courseId === courseId) ?? null
  const { decision, trace } = decideAndRender(loaded, list, 'course', courseId, context)
  const lockedUntil = decision.lockedUntil
  return {
    course: { id: course.id, name: course.name, category: course.category, startsAt: course.startsAt, endsAt: course.endsAt },
    decision,
    enrollments: trace.enrollments.map((id) => loaded.enrollments.find((e) => e.enrollment.id === id)!.enrollment),
    lockedUntil,
    deferredUnsubscribe: list ? deferredFor(loaded.deferred, list.id, lockedUntil, context.now) : null,
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
