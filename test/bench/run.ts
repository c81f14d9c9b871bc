// `npm run bench`: how fast the send decision is, as ratios against a baseline
// measured in the same run on the same machine (absolute times vary between
// machines; ratios much less). Not part of the test suite: it asserts nothing.
//
// Baseline: GET /health through the whole app (routing, one `select 1`).
// Measured: an authenticated read (what checking a token costs), POST
// /v1/decisions for each message kind against a person with a realistic
// history, and the pure decide() on loaded facts.
import { performance } from 'node:perf_hooks'
import { decide } from '../../src/decision/decide.js'
import type { DecisionFacts } from '../../src/decision/types.js'
import { askerOf, consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 400)

async function time(label: string, iterations: number, fn: () => Promise<unknown> | unknown) {
  for (let i = 0; i < Math.min(50, iterations); i++) await fn() // warm-up: JIT, caches, prepared plans
  const started = performance.now()
  for (let i = 0; i < iterations; i++) await fn()
  const perCall = (performance.now() - started) / iterations
  return { label, perCall }
}

/** A stand-in for tap's Test: build(t) only needs teardown. */
const teardowns: (() => Promise<unknown> | unknown)[] = []
const fakeTest = { teardown: (fn: () => unknown) => teardowns.push(fn) } as never

async function seed(app: TestApp) {
  const news = await createList(app, { kind: 'newsletter' })
  const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
  const receipts = await createList(app, { kind: 'transactional' })
  await putCourse(app, 'BENCH-C1')
  // Background population, so lookups are index lookups in a table that has rows.
  for (let i = 0; i < 200; i++) {
    const { contactId } = (await putEnrollment(app, `BG-${i}`, { courseId: 'BENCH-C1', contact: { email: uniqueEmail('bg') } })).json()
    if (i % 2) await subscribe(app, news.id, { contactId, consent: consentPayload() })
  }
  const email = uniqueEmail('bench')
  const { contactId } = (await putEnrollment(app, 'BENCH-E1', { courseId: 'BENCH-C1', contact: { email } })).json()
  await subscribe(app, news.id, { contactId, consent: consentPayload() })
  await app.as('staff')({ method: 'POST', url: '/v1/suppressions', payload: { contactId, scope: 'list', reason: 'manual', listId: receipts.id } })
  return { email, news: news.id, offers: offers.id, receipts: receipts.id }
}

/** A person with a history: enrolled, subscribed with consent, two suppressions. */
function representativeFacts(): DecisionFacts {
  const at = (days: number) => new Date(Date.now() + days * 86_400_000)
  return {
    kind: 'marketing',
    list: { id: 'l1', kind: 'marketing', purpose: 'marketing', basis: 'legitimate_interest', archived: false, categories: ['yoga', 'pilates'] },
    courseId: null,
    subscription: { id: 's1', status: 'active' },
    consentEvents: [
      { id: 'e1', type: 'granted', basis: 'legitimate_interest', listId: 'l1', purpose: 'marketing', source: 'staff', occurredAt: at(-300) },
      { id: 'e2', type: 'granted', basis: 'consent', listId: 'l1', purpose: 'marketing', source: 'form', occurredAt: at(-100) },
    ],
    enrollments: [
      { id: 'n1', courseId: 'k1', courseCategory: 'yoga', courseEndsAt: at(30), status: 'active', enrolledAt: at(-20), marketingOptOut: false },
      { id: 'n2', courseId: 'k0', courseCategory: 'pilates', courseEndsAt: at(-200), status: 'completed', enrolledAt: at(-400), marketingOptOut: false },
    ],
    suppressions: [
      { id: 'x1', scope: 'list', reason: 'manual', listId: 'other', purpose: null, createdAt: at(-50), expiresAt: null, liftedAt: null },
      { id: 'x2', scope: 'global', reason: 'complaint', listId: null, purpose: null, createdAt: at(-500), expiresAt: null, liftedAt: at(-400) },
    ],
  }
}

async function main() {
  const app = await build(fakeTest)
  const target = await seed(app)
  const decideVia = (payload: Record<string, unknown>) => {
    const ask = app.as(askerOf(payload.kind))
    return async () => {
      const res = await ask({ method: 'POST', url: '/v1/decisions', payload: { email: target.email, ...payload } })
      if (res.statusCode !== 200) throw new Error(`decision: ${res.statusCode} ${res.body}`)
    }
  }
  const staffToken = app.token('staff')

  const baseline = await time('GET /health (baseline)', ITERATIONS, () => app.app.inject({ method: 'GET', url: '/health' }))
  const facts = representativeFacts()
  const results = [
    // Authentication alone: the signature, the claims and the revocation lookup every token gets.
    await time('GET /v1/courses/{id} (token check + 1 read)', ITERATIONS, () =>
      app.app.inject({ method: 'GET', url: '/v1/courses/BENCH-C1', headers: { authorization: `Bearer ${staffToken}` } }),
    ),
    await time('POST /v1/decisions course', ITERATIONS, decideVia({ kind: 'course', courseId: 'BENCH-C1' })),
    await time('POST /v1/decisions newsletter', ITERATIONS, decideVia({ kind: 'newsletter', listId: target.news })),
    await time('POST /v1/decisions marketing', ITERATIONS, decideVia({ kind: 'marketing', listId: target.offers })),
    await time('POST /v1/decisions transactional', ITERATIONS, decideVia({ kind: 'transactional', listId: target.receipts })),
    await time('decide() on loaded facts (pure)', ITERATIONS * 100, () => decide(facts, new Date(), { marketingCustomerWindowMonths: 24 })),
  ]
  console.log(`engine: ${process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'}, iterations: ${ITERATIONS}`)
  console.log(`${baseline.label.padEnd(40)} ${baseline.perCall.toFixed(3)} ms  1.00x`)
  for (const r of results) {
    const ratio = r.perCall / baseline.perCall
    console.log(`${r.label.padEnd(40)} ${r.perCall.toFixed(4)} ms  ${ratio < 0.01 ? ratio.toExponential(1) : ratio.toFixed(2)}x`)
  }
  for (const fn of teardowns.reverse()) await fn()
}

await main()
