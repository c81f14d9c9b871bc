// Rows of the decision table for a newsletter: the subscription (active,
// pending, unsubscribed, none) and the list, then consent: a grant on consent
// for the list, withdrawals and objections for the list or its purpose, and
// what counts when, against now. Suppressions are in decide-cases-suppressions.ts.
// Run by decide.test.ts.
import {
  NOW,
  allowed,
  blocked,
  days,
  event,
  listFacts,
  ms,
  newsletterFacts,
  subscription,
  type Case,
} from './decide-fixtures.js'

export const newsletterCases: Case[] = [
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
]
