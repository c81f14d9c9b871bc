// Rows of the decision table for suppressions, on newsletter facts: which
// scopes cover a list, when one is in force (created, expiring, lifted, against
// now), which reason speaks first when several do; then which of them a newer
// consent to the list speaks over, by who gave it. Run by decide.test.ts.
import {
  NOW,
  allowed,
  blocked,
  bySuppression,
  days,
  event,
  ms,
  newsletterFacts,
  subscription,
  suppression,
  type Case,
} from './decide-fixtures.js'

export const newsletterSuppressionCases: Case[] = [
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

/** A newer explicit consent to a list speaks over older opt-outs for that list, by who gave it. */
export const resubscribeCases: Case[] = [
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
