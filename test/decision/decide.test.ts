// Table tests for the send decision: one row per rule of DESIGN.md's table,
// each a sentence about behaviour, plus checks over the whole table (every
// block reason is reachable, every allowed answer carries a basis and evidence).
import t from 'tap'
import { decide, isOverriddenOnSomeList, isSuppressionActive, subtractMonthsUtc } from '../../src/decision/decide.js'
import { RULE_TEXT } from '../../src/decision/rule-text.js'
import {
  BlockReason,
  DecisionRule,
  EvidenceType,
  SuppressionReason,
  SuppressionScope,
  type LegalBasis,
  type SubscriptionStatus,
} from '../../src/vocabulary.js'
import type {
  ConsentEventFacts,
  Decision,
  DecisionFacts,
  DecisionPolicy,
  EnrollmentFacts,
  ListFacts,
  SubscriptionFacts,
  SuppressionFacts,
} from '../../src/decision/types.js'

// --- time ----------------------------------------------------------------------

const NOW = new Date('2025-06-15T12:00:00.000Z')
const DAY = 86_400_000
const days = (n: number, from = NOW) => new Date(from.getTime() + n * DAY)
const ms = (n: number, from = NOW) => new Date(from.getTime() + n)
const POLICY: DecisionPolicy = { marketingCustomerWindowMonths: 12 }
/** NOW minus 12 calendar months. */
const CUTOFF = new Date('2024-06-15T12:00:00.000Z')

// --- builders --------------------------------------------------------------------

function listFacts(over: Partial<ListFacts> = {}): ListFacts {
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
const courseList = () =>
  listFacts({ id: 'list-course', kind: 'course', purpose: 'course', basis: 'contract' })
const transactionalList = (over: Partial<ListFacts> = {}) =>
  listFacts({ id: 'list-receipts', kind: 'transactional', purpose: 'receipts', basis: 'contract', ...over })
const marketingList = (over: Partial<ListFacts> = {}) =>
  listFacts({
    id: 'list-offers',
    kind: 'marketing',
    purpose: 'spring-offers',
    basis: 'legitimate_interest',
    categories: ['yoga', 'pilates'],
    ...over,
  })

function enrollment(over: Partial<EnrollmentFacts> = {}): EnrollmentFacts {
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

function suppression(over: Partial<SuppressionFacts> = {}): SuppressionFacts {
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
function event(over: Partial<ConsentEventFacts> = {}): ConsentEventFacts {
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
const offerEvent = (over: Partial<ConsentEventFacts> = {}) =>
  event({ id: 'ev-offer-grant', listId: 'list-offers', purpose: 'spring-offers', ...over })

const subscription = (status: SubscriptionStatus, id = 'sub-1'): SubscriptionFacts => ({ id, status })

const baseFacts = (): DecisionFacts => ({
  kind: 'course',
  list: null,
  courseId: null,
  subscription: null,
  consentEvents: [],
  enrollments: [],
  suppressions: [],
})
const courseFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'course',
  list: courseList(),
  courseId: 'course-1',
  ...over,
})
const transactionalFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'transactional',
  list: transactionalList(),
  ...over,
})
/** Defaults to a person who may receive the newsletter: active subscription and a consent grant. */
const newsletterFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'newsletter',
  list: listFacts(),
  subscription: subscription('active'),
  consentEvents: [event()],
  ...over,
})
/** Defaults to a person with no basis at all for marketing. */
const marketingFacts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  ...baseFacts(),
  kind: 'marketing',
  list: marketingList(),
  ...over,
})
const customer = (over: Partial<EnrollmentFacts> = {}) =>
  enrollment({ id: 'enr-customer', status: 'completed', courseEndsAt: days(-100), enrolledAt: days(-150), ...over })

// --- the table ---------------------------------------------------------------------

interface Expect {
  allowed: boolean
  basis?: LegalBasis
  reason?: BlockReason
  /** null: the answer carries no evidence. */
  evidenceType?: EvidenceType | null
  evidenceId?: string
  lockedUntil?: Date | null
}
interface Case {
  name: string
  facts: DecisionFacts
  now: Date
  policy?: DecisionPolicy
  expect: Expect
}

const allowed = (basis: LegalBasis, evidenceType: EvidenceType, evidenceId: string, lockedUntil?: Date | null): Expect =>
  lockedUntil === undefined
    ? { allowed: true, basis, evidenceType, evidenceId }
    : { allowed: true, basis, evidenceType, evidenceId, lockedUntil }
const blocked = (reason: BlockReason, evidenceType: EvidenceType | null = null, evidenceId?: string): Expect =>
  evidenceId === undefined
    ? { allowed: false, reason, evidenceType }
    : { allowed: false, reason, evidenceType, evidenceId }
const bySuppression = (reason: BlockReason, id = 'sup-1') => blocked(reason, 'suppression', id)

const courseCases: Case[] = [
  {
    name: 'course mail to someone actively enrolled is allowed on contract and locked until the course ends',
    facts: courseFacts({ enrollments: [enrollment()] }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'with two active enrollments in one course the lock runs to the later end date',
    facts: courseFacts({
      enrollments: [
        enrollment({ id: 'enr-long', enrolledAt: days(-40), courseEndsAt: days(60) }),
        enrollment({ id: 'enr-short', enrolledAt: days(-5), courseEndsAt: days(20) }),
      ],
    }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-long', days(60)),
  },
  {
    name: 'an active enrollment in another course does not carry mail for this one',
    facts: courseFacts({ enrollments: [enrollment({ id: 'enr-other', courseId: 'course-2' })] }),
    now: NOW,
    expect: blocked('not_enrolled'),
  },
  {
    name: 'someone with no enrollments at all is not enrolled',
    facts: courseFacts(),
    now: NOW,
    expect: blocked('not_enrolled'),
  },
  {
    name: 'when every enrollment in the course is cancelled the reason is cancelled, citing the latest',
    facts: courseFacts({
      enrollments: [
        enrollment({ id: 'enr-new', status: 'cancelled', enrolledAt: days(-10) }),
        enrollment({ id: 'enr-old', status: 'cancelled', enrolledAt: days(-100) }),
      ],
    }),
    now: NOW,
    expect: blocked('enrollment_cancelled', 'enrollment', 'enr-new'),
  },
  {
    name: 'a completed enrollment means the enrollment has ended',
    facts: courseFacts({ enrollments: [enrollment({ status: 'completed', courseEndsAt: days(-1) })] }),
    now: NOW,
    expect: blocked('enrollment_ended', 'enrollment', 'enr-1'),
  },
  {
    name: 'an enrollment still marked active has ended once the course end time is reached',
    facts: courseFacts({ enrollments: [enrollment({ courseEndsAt: NOW })] }),
    now: NOW,
    expect: blocked('enrollment_ended', 'enrollment', 'enr-1'),
  },
  {
    name: 'a cancelled and an ended enrollment give ended, citing the most recent enrollment',
    facts: courseFacts({
      enrollments: [
        enrollment({ id: 'enr-done', status: 'completed', enrolledAt: days(-200), courseEndsAt: days(-150) }),
        enrollment({ id: 'enr-cancelled', status: 'cancelled', enrolledAt: days(-5) }),
      ],
    }),
    now: NOW,
    expect: blocked('enrollment_ended', 'enrollment', 'enr-cancelled'),
  },
  {
    name: 'a hard bounce stops course mail even during the course',
    facts: courseFacts({
      enrollments: [enrollment()],
      suppressions: [suppression({ scope: 'all-mail', reason: 'bounce' })],
    }),
    now: NOW,
    expect: bySuppression('hard_bounce'),
  },
  {
    name: 'a manual block on all mail stops course mail',
    facts: courseFacts({
      enrollments: [enrollment()],
      suppressions: [suppression({ scope: 'all-mail', reason: 'manual' })],
    }),
    now: NOW,
    expect: bySuppression('manual_block'),
  },
  {
    name: 'an all-mail suppression is reported before a missing enrollment',
    facts: courseFacts({ suppressions: [suppression({ scope: 'all-mail', reason: 'bounce' })] }),
    now: NOW,
    expect: bySuppression('hard_bounce'),
  },
  {
    name: 'an erasure after the enrollment stops course mail',
    facts: courseFacts({
      enrollments: [enrollment({ enrolledAt: days(-30) })],
      suppressions: [suppression({ reason: 'erasure', createdAt: days(-2) })],
    }),
    now: NOW,
    expect: bySuppression('erased'),
  },
  {
    name: 'an enrollment made after an erasure is a new contract and gets course mail',
    facts: courseFacts({
      enrollments: [enrollment({ enrolledAt: days(-30) })],
      suppressions: [suppression({ reason: 'erasure', createdAt: days(-60) })],
    }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'only the enrollment made after an erasure gives the basis and the lock',
    facts: courseFacts({
      enrollments: [
        enrollment({ id: 'enr-before', enrolledAt: days(-90), courseEndsAt: days(90) }),
        enrollment({ id: 'enr-after', enrolledAt: days(-10), courseEndsAt: days(30) }),
      ],
      suppressions: [suppression({ reason: 'erasure', createdAt: days(-60) })],
    }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-after', days(30)),
  },
  {
    name: 'an expired erasure suppression does not stop course mail',
    facts: courseFacts({
      enrollments: [enrollment()],
      suppressions: [suppression({ reason: 'erasure', createdAt: days(-2), expiresAt: days(-1) })],
    }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'a lifted erasure suppression does not stop course mail',
    facts: courseFacts({
      enrollments: [enrollment()],
      suppressions: [suppression({ reason: 'erasure', createdAt: days(-2), liftedAt: days(-1) })],
    }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'a global unsubscribe does not stop course mail while enrolled (P3)',
    facts: courseFacts({ enrollments: [enrollment()], suppressions: [suppression()] }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'an objection to all marketing does not stop course mail',
    facts: courseFacts({
      enrollments: [enrollment()],
      suppressions: [suppression({ scope: 'purpose', reason: 'objection', purpose: 'marketing' })],
    }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'a complaint does not stop course mail',
    facts: courseFacts({ enrollments: [enrollment()], suppressions: [suppression({ reason: 'complaint' })] }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'unsubscribing from the course list, with a withdrawal on record, does not stop course mail',
    facts: courseFacts({
      enrollments: [enrollment()],
      subscription: subscription('unsubscribed'),
      consentEvents: [event({ id: 'ev-w', type: 'withdrawn', listId: 'list-course', purpose: 'course' })],
      suppressions: [suppression({ scope: 'list', listId: 'list-course' })],
    }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
  {
    name: 'a manual block short of all mail does not stop course mail',
    facts: courseFacts({ enrollments: [enrollment()], suppressions: [suppression({ reason: 'manual' })] }),
    now: NOW,
    expect: allowed('contract', 'enrollment', 'enr-1', days(30)),
  },
]

const transactionalCases: Case[] = [
  {
    name: 'transactional mail on a contract list is allowed, citing the list',
    facts: transactionalFacts(),
    now: NOW,
    expect: allowed('contract', 'list', 'list-receipts'),
  },
  {
    name: 'transactional mail on a legal-obligation list carries that basis',
    facts: transactionalFacts({ list: transactionalList({ basis: 'legal_obligation' }) }),
    now: NOW,
    expect: allowed('legal_obligation', 'list', 'list-receipts'),
  },
  {
    name: 'transactional mail without a list is not transactional',
    facts: transactionalFacts({ list: null }),
    now: NOW,
    expect: blocked('not_transactional'),
  },
  {
    name: 'transactional mail to a list not declared transactional is refused',
    facts: transactionalFacts({ list: listFacts() }),
    now: NOW,
    expect: blocked('not_transactional'),
  },
  {
    name: 'transactional mail from a template an admin declared transactional is allowed',
    facts: transactionalFacts({ template: { id: 'tpl-receipt', kind: 'transactional' } }),
    now: NOW,
    expect: allowed('contract', 'list', 'list-receipts'),
  },
  {
    name: 'transactional mail from a template not declared transactional is refused, whatever the list',
    facts: transactionalFacts({ template: { id: 'tpl-offer', kind: 'marketing' } }),
    now: NOW,
    expect: blocked('not_transactional'),
  },
  {
    name: 'transactional mail to an archived list is refused',
    facts: transactionalFacts({ list: transactionalList({ archived: true }) }),
    now: NOW,
    expect: blocked('list_archived'),
  },
  {
    name: 'a restriction of processing (art. 18) stops transactional mail',
    facts: transactionalFacts({ suppressions: [suppression({ scope: 'all-mail', reason: 'restriction' })] }),
    now: NOW,
    expect: bySuppression('restricted'),
  },
  {
    name: 'a restriction speaks before a hard bounce, both all-mail',
    facts: transactionalFacts({
      suppressions: [
        suppression({ id: 'sup-bounce', scope: 'all-mail', reason: 'bounce', createdAt: days(-1) }),
        suppression({ id: 'sup-restriction', scope: 'all-mail', reason: 'restriction', createdAt: days(-5) }),
      ],
    }),
    now: NOW,
    expect: bySuppression('restricted', 'sup-restriction'),
  },
  {
    name: 'a hard bounce stops transactional mail',
    facts: transactionalFacts({ suppressions: [suppression({ scope: 'all-mail', reason: 'bounce' })] }),
    now: NOW,
    expect: bySuppression('hard_bounce'),
  },
  {
    name: 'no suppression short of all mail stops transactional mail',
    facts: transactionalFacts({
      subscription: subscription('unsubscribed'),
      suppressions: [
        suppression({ id: 'sup-a', reason: 'unsubscribe' }),
        suppression({ id: 'sup-b', reason: 'objection', scope: 'purpose', purpose: 'transactional' }),
        suppression({ id: 'sup-c', reason: 'complaint' }),
        suppression({ id: 'sup-d', reason: 'erasure' }),
        suppression({ id: 'sup-e', reason: 'manual', scope: 'list', listId: 'list-receipts' }),
        suppression({ id: 'sup-f', reason: 'bounce', scope: 'purpose', purpose: 'receipts' }),
      ],
    }),
    now: NOW,
    expect: allowed('contract', 'list', 'list-receipts'),
  },
  {
    name: 'an all-mail suppression that has expired no longer stops transactional mail',
    facts: transactionalFacts({
      suppressions: [suppression({ scope: 'all-mail', reason: 'bounce', createdAt: days(-100), expiresAt: days(-10) })],
    }),
    now: NOW,
    expect: allowed('contract', 'list', 'list-receipts'),
  },
]

const newsletterCases: Case[] = [
  {
    name: 'a newsletter goes to an active subscriber with a consent grant, citing the grant',
    facts: newsletterFacts(),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a grant confirmed by double opt-in is allowed, citing the grant',
    facts: newsletterFacts({ consentEvents: [event(), event({ id: 'ev-confirm', type: 'confirmed', occurredAt: days(-9) })] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a subscription waiting for double opt-in is not sent to',
    facts: newsletterFacts({ subscription: subscription('pending') }),
    now: NOW,
    expect: blocked('subscription_pending', 'subscription', 'sub-1'),
  },
  {
    name: 'without a subscription nothing is sent',
    facts: newsletterFacts({ subscription: null }),
    now: NOW,
    expect: blocked('not_subscribed'),
  },
  {
    name: 'an unsubscribed subscription blocks, citing the subscription',
    facts: newsletterFacts({ subscription: subscription('unsubscribed') }),
    now: NOW,
    expect: blocked('unsubscribed', 'subscription', 'sub-1'),
  },
  {
    name: 'a newsletter without a list is treated as not subscribed',
    facts: newsletterFacts({ list: null }),
    now: NOW,
    expect: blocked('not_subscribed'),
  },
  {
    name: 'an archived newsletter list sends nothing',
    facts: newsletterFacts({ list: listFacts({ archived: true }) }),
    now: NOW,
    expect: blocked('list_archived'),
  },
  {
    name: 'an active subscription without any consent event has no consent',
    facts: newsletterFacts({ consentEvents: [] }),
    now: NOW,
    expect: blocked('no_consent'),
  },
  {
    name: 'a withdrawal after the grant blocks, citing the withdrawal',
    facts: newsletterFacts({ consentEvents: [event(), event({ id: 'ev-w', type: 'withdrawn', occurredAt: days(-1) })] }),
    now: NOW,
    expect: blocked('consent_withdrawn', 'consent_event', 'ev-w'),
  },
  {
    name: 'a purpose-wide objection covers the list',
    facts: newsletterFacts({
      consentEvents: [event(), event({ id: 'ev-obj', type: 'objected', listId: null, occurredAt: days(-1) })],
    }),
    now: NOW,
    expect: blocked('consent_withdrawn', 'consent_event', 'ev-obj'),
  },
  {
    name: 'a purpose-wide withdrawal naming the list kind covers the list',
    facts: newsletterFacts({
      consentEvents: [
        event(),
        event({ id: 'ev-w', type: 'withdrawn', listId: null, purpose: 'newsletter', occurredAt: days(-1) }),
      ],
    }),
    now: NOW,
    expect: blocked('consent_withdrawn', 'consent_event', 'ev-w'),
  },
  {
    name: 'a withdrawal from another list does not touch this one',
    facts: newsletterFacts({
      consentEvents: [event(), event({ id: 'ev-w', type: 'withdrawn', listId: 'list-other', occurredAt: days(-1) })],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a purpose-wide withdrawal for another purpose does not touch this list',
    facts: newsletterFacts({
      consentEvents: [
        event(),
        event({ id: 'ev-w', type: 'withdrawn', listId: null, purpose: 'pottery-news', occurredAt: days(-1) }),
      ],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a withdrawal dated after now is not yet in force',
    facts: newsletterFacts({ consentEvents: [event(), event({ id: 'ev-w', type: 'withdrawn', occurredAt: ms(1) })] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a grant dated after now is not yet consent',
    facts: newsletterFacts({ consentEvents: [event({ occurredAt: ms(1) })] }),
    now: NOW,
    expect: blocked('no_consent'),
  },
  {
    name: 'a grant on legitimate interest is not consent',
    facts: newsletterFacts({ consentEvents: [event({ basis: 'legitimate_interest' })] }),
    now: NOW,
    expect: blocked('no_consent'),
  },
  {
    name: 'a new grant after a withdrawal is allowed, citing the new grant',
    facts: newsletterFacts({
      consentEvents: [
        event({ id: 'ev-old', occurredAt: days(-30) }),
        event({ id: 'ev-w', type: 'withdrawn', occurredAt: days(-20) }),
        event({ id: 'ev-new', occurredAt: days(-1) }),
      ],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-new'),
  },
  {
    name: 'a legitimate-interest grant after a withdrawal does not revive the earlier consent',
    facts: newsletterFacts({
      consentEvents: [
        event({ id: 'ev-old', occurredAt: days(-30) }),
        event({ id: 'ev-w', type: 'withdrawn', occurredAt: days(-20) }),
        event({ id: 'ev-li', basis: 'legitimate_interest', occurredAt: days(-1) }),
      ],
    }),
    now: NOW,
    expect: blocked('no_consent'),
  },
  {
    name: 'a confirmation after a withdrawal, with no new grant, is not consent',
    facts: newsletterFacts({
      consentEvents: [
        event({ id: 'ev-old', occurredAt: days(-30) }),
        event({ id: 'ev-w', type: 'withdrawn', occurredAt: days(-20) }),
        event({ id: 'ev-confirm', type: 'confirmed', occurredAt: days(-1) }),
      ],
    }),
    now: NOW,
    expect: blocked('no_consent'),
  },
  {
    name: 'a purpose-wide grant alone is not consent for the list',
    facts: newsletterFacts({ consentEvents: [event({ listId: null })] }),
    now: NOW,
    expect: blocked('no_consent'),
  },
  {
    name: 'a global unsubscribe blocks the newsletter, citing the suppression',
    facts: newsletterFacts({ suppressions: [suppression()] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
  {
    name: 'an unsubscribe from this list blocks it',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'list', listId: 'list-news' })] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
  {
    name: 'an unsubscribe from another list does not block this one',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'list', listId: 'list-other' })] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a suppression for the list purpose blocks it',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'purpose', purpose: 'yoga-news' })] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
  {
    name: 'a suppression for the list kind as purpose blocks every list of that kind',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'purpose', purpose: 'newsletter' })] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
  {
    name: 'a suppression for another purpose does not block',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'purpose', purpose: 'marketing' })] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a hard bounce blocks the newsletter',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'all-mail', reason: 'bounce' })] }),
    now: NOW,
    expect: bySuppression('hard_bounce'),
  },
  {
    name: 'a spam complaint blocks the newsletter',
    facts: newsletterFacts({ suppressions: [suppression({ reason: 'complaint' })] }),
    now: NOW,
    expect: bySuppression('complaint'),
  },
  {
    name: 'an objection for the purpose blocks the newsletter',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'purpose', purpose: 'yoga-news', reason: 'objection' })] }),
    now: NOW,
    expect: bySuppression('objection'),
  },
  {
    name: 'a manual block on the list blocks it',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'list', listId: 'list-news', reason: 'manual' })] }),
    now: NOW,
    expect: bySuppression('manual_block'),
  },
  {
    name: 'an erasure tombstone blocks the newsletter',
    facts: newsletterFacts({ suppressions: [suppression({ reason: 'erasure' })] }),
    now: NOW,
    expect: bySuppression('erased'),
  },
  {
    name: 'a suppression that expires exactly now no longer blocks',
    facts: newsletterFacts({ suppressions: [suppression({ expiresAt: NOW })] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a suppression that expires a moment after now still blocks',
    facts: newsletterFacts({ suppressions: [suppression({ expiresAt: ms(1) })] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
  {
    name: 'a suppression created after now does not block yet',
    facts: newsletterFacts({ suppressions: [suppression({ createdAt: ms(1) })] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a suppression created exactly now blocks',
    facts: newsletterFacts({ suppressions: [suppression({ createdAt: NOW })] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
  {
    name: 'a lifted suppression does not block',
    facts: newsletterFacts({ suppressions: [suppression({ liftedAt: days(-1, NOW), createdAt: days(-5) })] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'an all-mail suppression wins over an erasure of narrower scope',
    facts: newsletterFacts({
      suppressions: [
        suppression({ id: 'sup-erasure', reason: 'erasure' }),
        suppression({ id: 'sup-all', scope: 'all-mail', reason: 'manual' }),
      ],
    }),
    now: NOW,
    expect: bySuppression('manual_block', 'sup-all'),
  },
  {
    name: 'erasure wins over objection',
    facts: newsletterFacts({
      suppressions: [
        suppression({ id: 'sup-obj', reason: 'objection' }),
        suppression({ id: 'sup-erasure', reason: 'erasure' }),
      ],
    }),
    now: NOW,
    expect: bySuppression('erased', 'sup-erasure'),
  },
  {
    name: 'objection wins over complaint',
    facts: newsletterFacts({
      suppressions: [
        suppression({ id: 'sup-complaint', reason: 'complaint' }),
        suppression({ id: 'sup-obj', reason: 'objection' }),
      ],
    }),
    now: NOW,
    expect: bySuppression('objection', 'sup-obj'),
  },
  {
    name: 'complaint wins over unsubscribe',
    facts: newsletterFacts({
      suppressions: [
        suppression({ id: 'sup-unsub', reason: 'unsubscribe' }),
        suppression({ id: 'sup-complaint', reason: 'complaint' }),
      ],
    }),
    now: NOW,
    expect: bySuppression('complaint', 'sup-complaint'),
  },
  {
    name: 'unsubscribe wins over a manual block',
    facts: newsletterFacts({
      suppressions: [
        suppression({ id: 'sup-manual', reason: 'manual' }),
        suppression({ id: 'sup-unsub', reason: 'unsubscribe' }),
      ],
    }),
    now: NOW,
    expect: bySuppression('unsubscribed', 'sup-unsub'),
  },
  {
    name: 'a manual block wins over a bounce recorded short of all mail',
    facts: newsletterFacts({
      suppressions: [
        suppression({ id: 'sup-bounce', reason: 'bounce' }),
        suppression({ id: 'sup-manual', reason: 'manual' }),
      ],
    }),
    now: NOW,
    expect: bySuppression('manual_block', 'sup-manual'),
  },
  {
    name: 'a bounce recorded for the list purpose still reads as a hard bounce',
    facts: newsletterFacts({ suppressions: [suppression({ scope: 'purpose', purpose: 'yoga-news', reason: 'bounce' })] }),
    now: NOW,
    expect: bySuppression('hard_bounce'),
  },
  {
    name: 'between two suppressions of the same reason the newer one is cited: it is the one in force',
    facts: newsletterFacts({
      suppressions: [
        suppression({ id: 'sup-new', createdAt: days(-1) }),
        suppression({ id: 'sup-old', createdAt: days(-5) }),
      ],
    }),
    now: NOW,
    expect: bySuppression('unsubscribed', 'sup-new'),
  },
  {
    name: 'a suppression is reported before a pending subscription',
    facts: newsletterFacts({ subscription: subscription('pending'), suppressions: [suppression()] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
]

const marketingCases: Case[] = [
  {
    name: 'marketing goes to an active subscriber with a consent grant, on consent',
    facts: marketingFacts({ subscription: subscription('active'), consentEvents: [offerEvent()] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-offer-grant'),
  },
  {
    name: 'marketing goes to a recent customer in a category the list is about, on legitimate interest',
    facts: marketingFacts({ enrollments: [customer()] }),
    now: NOW,
    expect: allowed('legitimate_interest', 'enrollment', 'enr-customer'),
  },
  {
    name: 'when both bases exist consent is the one cited',
    facts: marketingFacts({ subscription: subscription('active'), consentEvents: [offerEvent()], enrollments: [customer()] }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-offer-grant'),
  },
  {
    name: 'a grant on a subscription still pending is no basis for marketing',
    facts: marketingFacts({ subscription: subscription('pending'), consentEvents: [offerEvent()] }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'a legitimate-interest grant without a qualifying purchase never allows marketing email',
    facts: marketingFacts({
      subscription: subscription('active'),
      consentEvents: [offerEvent({ basis: 'legitimate_interest' })],
    }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'with neither consent nor a purchase there is no marketing basis',
    facts: marketingFacts(),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'marketing without a list has no basis',
    facts: marketingFacts({ list: null, enrollments: [customer()] }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'an archived marketing list sends nothing',
    facts: marketingFacts({ list: marketingList({ archived: true }), enrollments: [customer()] }),
    now: NOW,
    expect: blocked('list_archived'),
  },
  {
    name: 'an objection to all marketing is absolute, even for a recent customer',
    facts: marketingFacts({
      enrollments: [customer()],
      suppressions: [suppression({ scope: 'purpose', purpose: 'marketing', reason: 'objection' })],
    }),
    now: NOW,
    expect: bySuppression('objection'),
  },
  {
    name: 'an objection to the list purpose overrides consent',
    facts: marketingFacts({
      subscription: subscription('active'),
      consentEvents: [offerEvent()],
      suppressions: [suppression({ scope: 'purpose', purpose: 'spring-offers', reason: 'objection' })],
    }),
    now: NOW,
    expect: bySuppression('objection'),
  },
  {
    name: 'a global unsubscribe blocks marketing to a consenting subscriber',
    facts: marketingFacts({ subscription: subscription('active'), consentEvents: [offerEvent()], suppressions: [suppression()] }),
    now: NOW,
    expect: bySuppression('unsubscribed'),
  },
  {
    name: 'an unsubscribed subscription blocks marketing even to a recent customer',
    facts: marketingFacts({ subscription: subscription('unsubscribed'), enrollments: [customer()] }),
    now: NOW,
    expect: blocked('unsubscribed', 'subscription', 'sub-1'),
  },
  {
    name: 'a withdrawal for the list ends the customer basis too',
    facts: marketingFacts({
      consentEvents: [offerEvent({ id: 'ev-w', type: 'withdrawn', occurredAt: days(-1) })],
      enrollments: [customer()],
    }),
    now: NOW,
    expect: blocked('consent_withdrawn', 'consent_event', 'ev-w'),
  },
  {
    name: 'a purpose-wide objection to marketing ends both bases',
    facts: marketingFacts({
      subscription: subscription('active'),
      consentEvents: [offerEvent(), offerEvent({ id: 'ev-obj', type: 'objected', listId: null, purpose: 'marketing', occurredAt: days(-1) })],
      enrollments: [customer()],
    }),
    now: NOW,
    expect: blocked('consent_withdrawn', 'consent_event', 'ev-obj'),
  },
  {
    name: 'a new consent after a withdrawal allows marketing again',
    facts: marketingFacts({
      subscription: subscription('active'),
      consentEvents: [
        offerEvent({ id: 'ev-old', occurredAt: days(-30) }),
        offerEvent({ id: 'ev-w', type: 'withdrawn', occurredAt: days(-20) }),
        offerEvent({ id: 'ev-new', occurredAt: days(-1) }),
      ],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-new'),
  },
  {
    name: 'a purchase exactly at the start of the window counts',
    facts: marketingFacts({ enrollments: [customer({ enrolledAt: CUTOFF })] }),
    now: NOW,
    expect: allowed('legitimate_interest', 'enrollment', 'enr-customer'),
  },
  {
    name: 'a purchase a moment before the window does not count',
    facts: marketingFacts({ enrollments: [customer({ enrolledAt: ms(-1, CUTOFF) })] }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'a purchase made exactly now counts',
    facts: marketingFacts({ enrollments: [customer({ enrolledAt: NOW, status: 'active', courseEndsAt: days(30) })] }),
    now: NOW,
    expect: allowed('legitimate_interest', 'enrollment', 'enr-customer'),
  },
  {
    name: 'a purchase dated after now does not count',
    facts: marketingFacts({ enrollments: [customer({ enrolledAt: ms(1), status: 'active', courseEndsAt: days(30) })] }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'a cancelled purchase does not make a customer',
    facts: marketingFacts({ enrollments: [customer({ status: 'cancelled' })] }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'a purchase in a category the list is not about does not count',
    facts: marketingFacts({ enrollments: [customer({ courseCategory: 'pottery' })] }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'a customer who took the opt-out at collection gets no marketing',
    facts: marketingFacts({ enrollments: [customer({ marketingOptOut: true })] }),
    now: NOW,
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'an ongoing enrollment counts as a purchase',
    facts: marketingFacts({ enrollments: [customer({ status: 'active', courseEndsAt: days(30) })] }),
    now: NOW,
    expect: allowed('legitimate_interest', 'enrollment', 'enr-customer'),
  },
  {
    name: 'the most recent qualifying purchase is cited',
    facts: marketingFacts({
      enrollments: [
        customer({ id: 'enr-recent', courseCategory: 'pilates', enrolledAt: days(-20) }),
        customer({ id: 'enr-older', enrolledAt: days(-200) }),
      ],
    }),
    now: NOW,
    expect: allowed('legitimate_interest', 'enrollment', 'enr-recent'),
  },
  {
    name: 'calendar months clamp at month end: on 31 March a one-month window starts on 28 February',
    facts: marketingFacts({ enrollments: [customer({ enrolledAt: new Date('2025-02-28T10:00:00.000Z') })] }),
    now: new Date('2025-03-31T10:00:00.000Z'),
    policy: { marketingCustomerWindowMonths: 1 },
    expect: allowed('legitimate_interest', 'enrollment', 'enr-customer'),
  },
  {
    name: 'calendar months clamp at month end: a purchase just before 28 February is outside',
    facts: marketingFacts({ enrollments: [customer({ enrolledAt: new Date('2025-02-28T09:59:59.999Z') })] }),
    now: new Date('2025-03-31T10:00:00.000Z'),
    policy: { marketingCustomerWindowMonths: 1 },
    expect: blocked('no_marketing_basis'),
  },
  {
    name: 'the window length comes from policy',
    facts: marketingFacts({ enrollments: [customer({ enrolledAt: new Date('2023-07-01T00:00:00.000Z') })] }),
    now: NOW,
    policy: { marketingCustomerWindowMonths: 24 },
    expect: allowed('legitimate_interest', 'enrollment', 'enr-customer'),
  },
]

/** A newer explicit consent to a list speaks over older opt-outs for that list, by who gave it. */
const resubscribeCases: Case[] = [
  {
    name: 'the person\'s own consent from a form after a global unsubscribe re-opens that one list',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'form' })],
      suppressions: [suppression({ scope: 'global', reason: 'unsubscribe', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'an unsubscribe does not yield to a consent that staff recorded',
    facts: newsletterFacts({
      suppressions: [suppression({ scope: 'global', reason: 'unsubscribe', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: blocked('unsubscribed', 'suppression', 'sup-1'),
  },
  {
    name: 'an unsubscribe does not yield to a consent that an import recorded',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'import' })],
      suppressions: [suppression({ scope: 'list', listId: 'list-news', reason: 'unsubscribe', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: blocked('unsubscribed', 'suppression', 'sup-1'),
  },
  {
    name: 'a complaint yields to the person\'s own new consent via a link',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'link' })],
      suppressions: [suppression({ scope: 'global', reason: 'complaint', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a consent older than the unsubscribe does not override it',
    facts: newsletterFacts({
      suppressions: [suppression({ scope: 'global', reason: 'unsubscribe', createdAt: days(-5) })],
    }),
    now: NOW,
    expect: blocked('unsubscribed', 'suppression', 'sup-1'),
  },
  {
    name: 'an objection yields to the person\'s own new consent from a form',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'form' })],
      suppressions: [suppression({ scope: 'purpose', purpose: 'yoga-news', reason: 'objection', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'an objection does not yield to a consent that staff recorded',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'staff' })],
      suppressions: [suppression({ scope: 'global', reason: 'objection', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: blocked('objection', 'suppression', 'sup-1'),
  },
  {
    name: 'an erasure tombstone yields only to the person\'s own new consent via a link',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'link' })],
      suppressions: [suppression({ scope: 'global', reason: 'erasure', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: allowed('consent', 'consent_event', 'ev-grant'),
  },
  {
    name: 'a manual block never yields to consent',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'form' })],
      suppressions: [suppression({ scope: 'global', reason: 'manual', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: blocked('manual_block', 'suppression', 'sup-1'),
  },
  {
    name: 'a hard bounce never yields to consent',
    facts: newsletterFacts({
      consentEvents: [event({ source: 'form' })],
      suppressions: [suppression({ scope: 'all-mail', reason: 'bounce', createdAt: days(-20) })],
    }),
    now: NOW,
    expect: blocked('hard_bounce', 'suppression', 'sup-1'),
  },
]

const cases: Case[] = [...courseCases, ...transactionalCases, ...newsletterCases, ...marketingCases, ...resubscribeCases]
const run = (c: Case, facts = c.facts): Decision => decide(facts, c.now, c.policy ?? POLICY)
const results = cases.map((c) => ({ c, d: run(c) }))

for (const { c, d } of results) {
  t.test(c.name, async (t) => {
    const e = c.expect
    t.equal(d.allowed, e.allowed, 'allowed')
    if (e.basis !== undefined) t.equal(d.allowed ? d.basis : undefined, e.basis, 'basis')
    if (e.reason !== undefined) t.equal(d.allowed ? undefined : d.reason, e.reason, 'reason')
    if (e.evidenceType === null) t.equal(d.evidence, null, 'no evidence')
    else if (e.evidenceType !== undefined) t.equal(d.evidence?.type, e.evidenceType, 'evidence type')
    if (e.evidenceId !== undefined) t.equal(d.evidence?.id, e.evidenceId, 'evidence id')
    if (e.lockedUntil !== undefined) t.equal(d.lockedUntil?.toISOString() ?? null, e.lockedUntil?.toISOString() ?? null, 'lockedUntil')
  })
}

// --- over the whole table -------------------------------------------------------------

t.test('every allowed answer carries a basis and evidence', async (t) => {
  for (const { c, d } of results) {
    if (!d.allowed) continue
    t.ok(d.basis, `${c.name}: basis`)
    t.ok(d.evidence.type && d.evidence.id, `${c.name}: evidence`)
  }
})

t.test('only allowed course mail carries a lock', async (t) => {
  for (const { c, d } of results) {
    if (d.allowed && c.facts.kind === 'course') t.type(d.lockedUntil, Date, `${c.name}: locked`)
    else t.equal(d.lockedUntil, null, `${c.name}: no lock`)
  }
})

t.test('every block reason is produced by at least one case', async (t) => {
  const produced = new Set(results.flatMap(({ d }) => (d.allowed ? [] : [d.reason])))
  t.same([...produced].sort(), Object.values(BlockReason).sort())
})

t.test('every evidence type is cited by at least one case', async (t) => {
  const cited = new Set(results.flatMap(({ d }) => (d.evidence ? [d.evidence.type] : [])))
  t.same([...cited].sort(), Object.values(EvidenceType).sort())
})

t.test('the table uses every suppression scope and reason', async (t) => {
  const all = cases.flatMap((c) => c.facts.suppressions)
  t.same([...new Set(all.map((s) => s.scope))].sort(), Object.values(SuppressionScope).sort())
  t.same([...new Set(all.map((s) => s.reason))].sort(), Object.values(SuppressionReason).sort())
})

t.test('the order of suppressions and enrollments in the facts never changes the answer', async (t) => {
  for (const c of cases) {
    const reversed = { ...c.facts, suppressions: [...c.facts.suppressions].reverse(), enrollments: [...c.facts.enrollments].reverse() }
    t.same(run(c, reversed), run(c), c.name)
  }
})

// --- the exported helpers -----------------------------------------------------------

t.test('the course lock is the latest end of the active enrollments in the course, or none', async (t) => {
  const enrollments = [
    enrollment({ id: 'a', courseEndsAt: days(10) }),
    enrollment({ id: 'b', courseEndsAt: days(40) }),
    enrollment({ id: 'c', courseEndsAt: days(90), status: 'cancelled' }),
    enrollment({ id: 'd', courseEndsAt: days(99), courseId: 'course-2' }),
  ]
  const lock = (courseId: string, at: Date) => decide(courseFacts({ courseId, enrollments }), at, POLICY).lockedUntil
  t.same(lock('course-1', NOW), days(40))
  t.equal(lock('course-3', NOW), null)
  t.equal(lock('course-1', days(41)), null, 'no lock once every course is over')
})

t.test('an enrollment carries course mail while its status is active and its course is not yet over', async (t) => {
  const allowed = (e: EnrollmentFacts) => decide(courseFacts({ enrollments: [e] }), NOW, POLICY).allowed
  t.ok(allowed(enrollment({ courseEndsAt: ms(1) })))
  t.notOk(allowed(enrollment({ courseEndsAt: NOW })))
  t.notOk(allowed(enrollment({ status: 'completed' })))
})

t.test('isSuppressionActive honours creation, expiry and lifting', async (t) => {
  t.ok(isSuppressionActive(suppression({ createdAt: NOW }), NOW))
  t.notOk(isSuppressionActive(suppression({ createdAt: ms(1) }), NOW))
  t.notOk(isSuppressionActive(suppression({ expiresAt: NOW }), NOW))
  t.notOk(isSuppressionActive(suppression({ liftedAt: days(-1, NOW) }), NOW))
})

t.test('subtractMonthsUtc counts calendar months and clamps the day', async (t) => {
  const iso = (s: string, n: number) => subtractMonthsUtc(new Date(s), n).toISOString()
  t.equal(iso('2025-06-15T12:00:00.000Z', 12), '2024-06-15T12:00:00.000Z')
  t.equal(iso('2024-03-31T08:30:00.000Z', 1), '2024-02-29T08:30:00.000Z', 'leap year')
  t.equal(iso('2025-03-31T08:30:00.000Z', 1), '2025-02-28T08:30:00.000Z')
  t.equal(iso('2025-01-15T00:00:00.000Z', 1), '2024-12-15T00:00:00.000Z', 'across the new year')
  t.equal(iso('2025-05-31T23:59:59.999Z', 25), '2023-04-30T23:59:59.999Z')
})

// --- the trace: what the decision looked at -----------------------------------------

t.test('every answer names a rule of the table, and every rule is used by some case', async (t) => {
  const rules = new Set(results.map(({ d }) => d.trace.rule))
  t.same([...rules].sort(), Object.values(DecisionRule).sort())
  for (const rule of Object.values(DecisionRule)) t.ok(RULE_TEXT[rule].length > 10, `${rule} is said in words`)
})

t.test('a trace names only rows of the facts it was given, and the evidence is among them', async (t) => {
  for (const { c, d } of results) {
    const ids = (rows: { id: string }[]) => new Set(rows.map((r) => r.id))
    const events = ids(c.facts.consentEvents)
    const suppressions = ids(c.facts.suppressions)
    const enrollments = ids(c.facts.enrollments)
    t.ok(d.trace.consentEvents.every((id) => events.has(id)), `${c.name}: consent events`)
    t.ok(d.trace.suppressions.every((s) => suppressions.has(s.id) && (s.overriddenBy === null || events.has(s.overriddenBy))), `${c.name}: suppressions`)
    t.ok(d.trace.enrollments.every((id) => enrollments.has(id)), `${c.name}: enrollments`)
    t.ok(d.trace.subscription === null || d.trace.subscription === c.facts.subscription?.id, `${c.name}: subscription`)
    const evidence = d.evidence
    if (evidence?.type === 'suppression') t.ok(d.trace.suppressions.some((s) => s.id === evidence.id && s.overriddenBy === null), `${c.name}: the blocking suppression is in the trace`)
    if (evidence?.type === 'enrollment') t.ok(d.trace.enrollments.includes(evidence.id), `${c.name}: the enrollment is in the trace`)
    if (evidence?.type === 'consent_event' && d.allowed) t.equal(d.trace.consentGrant, evidence.id, `${c.name}: the grant is in the trace`)
  }
})

t.test('a suppression the person\'s own newer consent speaks over is in the trace, with that consent', async (t) => {
  const d = decide(
    newsletterFacts({
      consentEvents: [event({ source: 'form' })],
      suppressions: [suppression({ id: 'sup-old', scope: 'global', reason: 'objection', createdAt: days(-20) })],
    }),
    NOW,
    POLICY,
  )
  t.ok(d.allowed)
  t.same(d.trace.suppressions, [{ id: 'sup-old', overriddenBy: 'ev-grant' }])
  t.equal(d.trace.rule, 'consent_in_force')
})

t.test('isOverriddenOnSomeList hears only the person\'s own newer consent to a list the suppression covers', async (t) => {
  const objection = suppression({ scope: 'purpose', purpose: 'marketing', reason: 'objection', createdAt: days(-5) })
  const offers = marketingList()
  const news = listFacts()
  const grant = (over: Partial<ConsentEventFacts>) => offerEvent({ occurredAt: days(-1), source: 'form', ...over })
  t.ok(isOverriddenOnSomeList(objection, [{ grant: grant({}), list: offers }]), 'own consent to a marketing list, after')
  t.notOk(isOverriddenOnSomeList(objection, [{ grant: grant({ source: 'staff' }), list: offers }]), 'staff-recorded')
  t.notOk(isOverriddenOnSomeList(objection, [{ grant: grant({ occurredAt: days(-6) }), list: offers }]), 'before the objection')
  t.notOk(isOverriddenOnSomeList(objection, [{ grant: event({ occurredAt: days(-1), source: 'form' }), list: news }]), 'a list it does not cover')
  t.notOk(isOverriddenOnSomeList(suppression({ reason: 'manual', createdAt: days(-5) }), [{ grant: grant({}), list: offers }]), 'a manual block')
})
