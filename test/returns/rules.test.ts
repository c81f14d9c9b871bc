// The return rules, table by table: what each kind of report means for the
// address, the soft-bounce count, and the rates that warn and pause.
import t from 'tap'
import { effectOf, isAddressFailure, rateVerdict, ratesOf, softBouncesSuppress } from '../../src/returns/rules.js'
import type { ReturnReport } from '../../src/returns/report.js'

const bounce = (severity: 'permanent' | 'transient' | 'undetermined', status: string | null, providerType: string | null = null): ReturnReport => ({
  type: 'bounce',
  severity,
  status,
  providerType,
  diagnostic: null,
})

t.test('what a report means', async (t) => {
  const cases: [string, ReturnReport, string][] = [
    ['5.1.1 bad mailbox is a hard bounce', bounce('permanent', '5.1.1'), 'hard_bounce'],
    ['5.1.10 (Microsoft: recipient not found) is a hard bounce: every 5.1.x', bounce('permanent', '5.1.10'), 'hard_bounce'],
    ['5.2.1 mailbox disabled is a hard bounce', bounce('permanent', '5.2.1'), 'hard_bounce'],
    ['5.2.2 mailbox full is soft, whatever its class', bounce('permanent', '5.2.2'), 'soft_bounce'],
    ['5.7.1 is a policy block: about us, not the address', bounce('permanent', '5.7.1'), 'policy_block'],
    ['5.7.26 (DMARC) is a policy block', bounce('permanent', '5.7.26'), 'policy_block'],
    ['5.4.4 (no route) is about the mail system, not the address', bounce('permanent', '5.4.4'), 'policy_block'],
    ['a transient 5.7.1 (a SendGrid block) is still a policy block', bounce('transient', '5.7.1', 'blocked'), 'policy_block'],
    ['4.2.2 is soft', bounce('transient', '4.2.2'), 'soft_bounce'],
    ['4.7.1 greylisting is soft', bounce('transient', '4.7.1'), 'soft_bounce'],
    ['SES Permanent/General without a status is a hard bounce', bounce('permanent', null, 'Permanent/General'), 'hard_bounce'],
    ['SES Permanent/NoEmail is a hard bounce', bounce('permanent', null, 'Permanent/NoEmail'), 'hard_bounce'],
    ['SES Permanent/Suppressed says neither why nor about what: soft', bounce('permanent', null, 'Permanent/Suppressed'), 'soft_bounce'],
    ['Postmark HardBounce is a hard bounce', bounce('permanent', null, 'HardBounce'), 'hard_bounce'],
    ['SendGrid bounce with the placeholder 5.0.0 is a hard bounce', bounce('permanent', '5.0.0', 'bounce'), 'hard_bounce'],
    ['SendGrid drops a bounced address: hard', bounce('permanent', null, 'dropped/Bounced Address'), 'hard_bounce'],
    ['a bare 5.0.0 with nothing else is not trusted to kill an address', bounce('permanent', '5.0.0'), 'soft_bounce'],
    ['an undetermined bounce is soft', bounce('undetermined', null), 'soft_bounce'],
    ['a complaint', { type: 'complaint', feedbackType: 'abuse' }, 'complaint'],
    ['a delivery', { type: 'delivered' }, 'delivered'],
  ]
  for (const [name, report, effect] of cases) t.equal(effectOf(report), effect, name)
})

t.test('a bad address is 5.1.x or 5.2.1, nothing else', async (t) => {
  for (const status of ['5.1.1', '5.1.2', '5.1.3', '5.1.6', '5.1.0', '5.1.10', '5.2.1']) t.ok(isAddressFailure(status), status)
  for (const status of ['4.1.1', '5.2.2', '5.7.1', '5.0.0', '5.11.1', null]) t.notOk(isAddressFailure(status), String(status))
})

t.test('soft bounces suppress on enough distinct days, and a delivery starts the count again', async (t) => {
  const rule = { days: 3, windowDays: 30 }
  const now = new Date('2026-06-30T12:00:00Z')
  const at = (day: string, effect: 'soft_bounce' | 'delivered' = 'soft_bounce') => ({ effect, occurredAt: new Date(`2026-06-${day}T10:00:00Z`) })
  t.ok(softBouncesSuppress(rule, now, [at('10'), at('11'), at('12')]), 'three days')
  t.notOk(softBouncesSuppress(rule, now, [at('10'), at('10'), at('10'), at('11')]), 'four reports on two days are two')
  t.notOk(softBouncesSuppress(rule, now, [at('10'), at('11'), at('11', 'delivered'), at('12')]), 'a delivery between')
  t.notOk(softBouncesSuppress(rule, now, [{ effect: 'soft_bounce', occurredAt: new Date('2026-05-01T00:00:00Z') }, at('11'), at('12')]), 'one outside the window')
  t.notOk(softBouncesSuppress(rule, now, [at('10'), at('11'), { effect: 'soft_bounce', occurredAt: new Date('2026-07-02T00:00:00Z') }]), 'one from the future does not count')
})

t.test('rates warn at 0.1% complaints, pause at 0.3% or over 5% hard bounces, and need enough messages to act on', async (t) => {
  t.same(rateVerdict(ratesOf({ delivered: 10_000, complaints: 9, hardBounces: 0 }), 100), { warnings: [], pause: null })
  t.same(rateVerdict(ratesOf({ delivered: 10_000, complaints: 10, hardBounces: 0 }), 100), { warnings: ['complaint_rate'], pause: null })
  t.same(rateVerdict(ratesOf({ delivered: 10_000, complaints: 30, hardBounces: 0 }), 100), { warnings: ['complaint_rate'], pause: 'complaint_rate' })
  t.same(rateVerdict(ratesOf({ delivered: 1000, complaints: 0, hardBounces: 50 }), 100), { warnings: [], pause: null }, '5% is not over 5%')
  t.same(rateVerdict(ratesOf({ delivered: 1000, complaints: 0, hardBounces: 51 }), 100), { warnings: ['bounce_rate'], pause: 'bounce_rate' })
  t.same(rateVerdict(ratesOf({ delivered: 50, complaints: 5, hardBounces: 0 }), 100), { warnings: ['complaint_rate'], pause: null }, 'too few to pause on')
  t.same(ratesOf({ delivered: 0, complaints: 0, hardBounces: 0 }).complaintRate, 0)
})
