// Rows of the decision table for mail on a contract: course mail, which an
// active enrollment carries and locks until the course ends, and only
// all-mail suppressions or a later erasure stop; and transactional mail,
// which the list (and the template, when named) must declare, and only a
// restriction or an all-mail suppression stops. Run by decide.test.ts.
import {
  NOW,
  allowed,
  blocked,
  bySuppression,
  courseFacts,
  days,
  enrollment,
  event,
  listFacts,
  subscription,
  suppression,
  transactionalFacts,
  transactionalList,
  type Case,
} from './decide-fixtures.js'

export const courseCases: Case[] = [
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

export const transactionalCases: Case[] = [
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
