// Table tests for the send decision: one row per rule of DESIGN.md's table,
// each a sentence about behaviour, plus checks over the whole table (every
// block reason is reachable, every allowed answer carries a basis and evidence).
// The rows are in decide-cases-*.ts by rule family (contract: course and
// transactional; newsletter; suppressions; marketing), their builders in
// decide-fixtures.ts; here each row runs as a test, then the checks over the
// whole table, the exported helpers and the trace.
import t from 'tap'
import { decide, isOverriddenOnSomeList, isSuppressionActive, subtractMonthsUtc } from '../../src/decision/decide.js'
import { RULE_TEXT } from '../../src/decision/rule-text.js'
import { BlockReason, DecisionRule, EvidenceType, SuppressionReason, SuppressionScope } from '../../src/vocabulary.js'
import type { ConsentEventFacts, Decision, EnrollmentFacts } from '../../src/decision/types.js'
import { courseCases, transactionalCases } from './decide-cases-contract.js'
import { marketingCases } from './decide-cases-marketing.js'
import { newsletterCases } from './decide-cases-newsletter.js'
import { newsletterSuppressionCases, resubscribeCases } from './decide-cases-suppressions.js'
import {
  NOW,
  POLICY,
  courseFacts,
  days,
  enrollment,
  event,
  listFacts,
  marketingList,
  ms,
  newsletterFacts,
  offerEvent,
  suppression,
  type Case,
} from './decide-fixtures.js'

const cases: Case[] = [
  ...courseCases,
  ...transactionalCases,
  ...newsletterCases,
  ...newsletterSuppressionCases,
  ...marketingCases,
  ...resubscribeCases,
]
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
