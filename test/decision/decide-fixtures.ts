// What the decision table tests share (decide.test.ts and the rows in
// decide-cases-*.ts): a fixed now and policy, builders for the facts the
// decision reads (each says what it defaults to), and the shape of a row:
// facts, now, and the answer expected.
import type { BlockReason, EvidenceType, LegalBasis, SubscriptionStatus } from '../../src/vocabulary.js'
import type {
  ConsentEventFacts,
  DecisionFacts,
  DecisionPolicy,
  EnrollmentFacts,
  ListFacts,
  SubscriptionFacts,
  SuppressionFacts,
} from '../../src/decision/types.js'

// --- time ----------------------------------------------------------------------

export const NOW = new Date('2025-06-15T12:00:00.000Z')
const DAY = 86_400_000
export const days = (n: number, from = NOW) => new Date(from.getTime() + n * DAY)
export const ms = (n: number, from = NOW) => new Date(from.getTime() + n)
export const POLICY: DecisionPolicy = { marketingCustomerWindowMonths: 12 }
/** NOW minus 12 calendar months. */
export const CUTOFF = new Date('2024-06-15T12:00:00.000Z')

// --- builders --------------------------------------------------------------------

export function listFacts(over: Partial<ListFacts> = {}): ListFacts {
  return {
    id: 'list-news',
    kind: 'newsletter',
    purpose: 'yoga-news',
    basis: 'consent',
    archived: false,
    categories: [],
    ...over,
  }
}
export const courseList = () =>
  listFacts({ id: 'list-course', kind: 'course', purpose: 'course', basis: 'contract' })
export const transactionalList = (over: Partial<ListFacts> = {}) =>
  listFacts({ id: 'list-receipts', kind: 'transactional', purpose: 'receipts', basis: 'contract', ...over })
export const marketingList = (over: Partial<ListFacts> = {}) =>
  listFacts({
    id: 'list-offers',
    kind: 'marketing',
    purpose: 'spring-offers',
    basis: 'legitimate_interest',
    categories: ['yoga', 'pilates'],
    ...over,
  })

export function enrollment(over: Partial<EnrollmentFacts> = {}): EnrollmentFacts {
  return {
    id: 'enr-1',
    courseId: 'course-1',
    courseCategory: 'yoga',
    courseEndsAt: days(30),
    status: 'active',
    enrolledAt: days(-30),
    marketingOptOut: false,
    ...over,
  }
}

export function suppression(over: Partial<SuppressionFacts> = {}): SuppressionFacts {
  return {
    id: 'sup-1',
    scope: 'global',
    reason: 'unsubscribe',
    listId: null,
    purpose: null,
    createdAt: days(-1),
    expiresAt: null,
    liftedAt: null,
    ...over,
  }
}

/** A consent event for the newsletter list unless told otherwise. */
export function event(over: Partial<ConsentEventFacts> = {}): ConsentEventFacts {
  return {
    id: 'ev-grant',
    type: 'granted',
    basis: 'consent',
    listId: 'list-news',
    purpose: 'yoga-news',
    source: 'staff',
    occurredAt: days(-10),
    ...over,
  }
}
export const offerEvent = (over: Partial<ConsentEventFacts> = {}) =>
  event({ id: 'ev-offer-grant', listId: 'list-offers', purpose: 'spring-offers', ...over })

export const subscription = (status: SubscriptionStatus, id = 'sub-1'): SubscriptionFacts => ({ id, status })

export const baseFacts = (): DecisionFacts => ({
  kind: 'course',
  list: null,
  courseId: null,
  subscription: null,
  consentEvents: [],
  enrollments: [],
  suppressions: [],
})
export const courseFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'course',
  list: courseList(),
  courseId: 'course-1',
  ...over,
})
export const transactionalFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'transactional',
  list: transactionalList(),
  ...over,
})
/** Defaults to a person who may receive the newsletter: active subscription and a consent grant. */
export const newsletterFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'newsletter',
  list: listFacts(),
  subscription: subscription('active'),
  consentEvents: [event()],
  ...over,
})
/** Defaults to a person with no basis at all for marketing. */
export const marketingFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'marketing',
  list: marketingList(),
  ...over,
})
export const customer = (over: Partial<EnrollmentFacts> = {}) =>
  enrollment({ id: 'enr-customer', status: 'completed', courseEndsAt: days(-100), enrolledAt: days(-150), ...over })

// --- a row of the table ------------------------------------------------------------

export interface Expect {
  allowed: boolean
  basis?: LegalBasis
  reason?: BlockReason
  /** null: the answer carries no evidence. */
  evidenceType?: EvidenceType | null
  evidenceId?: string
  lockedUntil?: Date | null
}
export interface Case {
  name: string
  facts: DecisionFacts
  now: Date
  policy?: DecisionPolicy
  expect: Expect
}

export const allowed = (basis: LegalBasis, evidenceType: EvidenceType, evidenceId: string, lockedUntil?: Date | null): Expect =>
  lockedUntil === undefined
    ? { allowed: true, basis, evidenceType, evidenceId }
    : { allowed: true, basis, evidenceType, evidenceId, lockedUntil }
export const blocked = (reason: BlockReason, evidenceType: EvidenceType | null = null, evidenceId?: string): Expect =>
  evidenceId === undefined
    ? { allowed: false, reason, evidenceType }
    : { allowed: false, reason, evidenceType, evidenceId }
export const bySuppression = (reason: BlockReason, id = 'sup-1') => blocked(reason, 'suppression', id)
