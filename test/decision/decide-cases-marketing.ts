// Rows of the decision table for marketing: consent, or legitimate interest
// from a recent purchase in a category the list is about (the window in
// calendar months from policy, its edges, the opt-out at collection), and what
// ends either basis: objections, unsubscribes, withdrawals. Run by decide.test.ts.
import {
  CUTOFF,
  NOW,
  allowed,
  blocked,
  bySuppression,
  customer,
  days,
  marketingFacts,
  marketingList,
  ms,
  offerEvent,
  subscription,
  suppression,
  type Case,
} from './decide-fixtures.js'

export const marketingCases: Case[] = [
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
