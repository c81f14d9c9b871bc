// Request limits counted in the database (RATE_LIMIT_STORE=postgres): two
// apps on one PostgreSQL database count one limit together — per token, per
// address, and failed authentications — where counters in each process would
// give each client the limit twice. The window starts again when it ends (on
// the apps' shared clock); ended windows are swept; when the counters cannot be
// reached, the request limits let requests through and the failed-
// authentication limit refuses. The store's own cases run on PGlite too.
import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { selectRows } from '../../db/client.js'
import { rateLimitCounters } from '../../db/schema/index.js'
import type { Config } from '../../src/config.js'
import { build, freshDatabase, TestClock, type TestApp } from '../helper.js'

const onPostgres = process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (TEST_DATABASE_URL): two apps share one database only there'

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/** Two apps on one database and one clock, as two instances behind a load balancer. */
async function twoInstances(t: Test, config: Partial<Config>) {
  const database = await freshDatabase(t)
  const clock = new TestClock()
  const a = await build(t, { database, clock, config })
  const b = await build(t, { database, clock, config })
  return { a, b, clock }
}

const contactsWith = (app: TestApp, token: string, remoteAddress?: string) =>
  app.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${token}` }, ...(remoteAddress ? { remoteAddress } : {}) })

function assertLimited(t: Test, res: LightMyRequestResponse, what: string) {
  t.equal(res.statusCode, 429, what)
  t.equal(res.json().code, 'rate_limited')
  t.ok(Number(res.headers['retry-after']) >= 1, `Retry-After ${res.headers['retry-after']}`)
}

t.test('a token gets its limit once across two instances, and again when the window has ended', { skip: onPostgres }, async (t) => {
  const { a, b, clock } = await twoInstances(t, { rateLimitStore: 'postgres', rateLimitPerMinute: 4 })
  const token = a.token('staff', { sub: 'staff:kari' })
  const statuses: number[] = []
  for (const app of [a, b, a, b]) statuses.push((await contactsWith(app, token)).statusCode)
  t.same(statuses, [200, 200, 200, 200], 'four requests split between the instances')
  assertLimited(t, await contactsWith(a, token), 'the fifth is refused by one instance')
  assertLimited(t, await contactsWith(b, token), 'and by the other')

  clock.advance(59_000)
  assertLimited(t, await contactsWith(b, token), 'still within the minute')
  clock.advance(1_000)
  t.equal((await contactsWith(b, token)).statusCode, 200, 'the window has ended: counted again from one')
  for (const app of [a, b, a]) t.equal((await contactsWith(app, token)).statusCode, 200)
  assertLimited(t, await contactsWith(a, token), 'the new window holds the same limit')
})

t.test('requests at the same moment on both instances: exactly the limit goes through', { skip: onPostgres }, async (t) => {
  const { a, b } = await twoInstances(t, { rateLimitStore: 'postgres', rateLimitPerMinute: 10 })
  const token = a.token('staff')
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => contactsWith(i % 2 ? a : b, token)))
  t.equal(answers.filter((res) => res.statusCode === 200).length, 10, 'ten of thirty let through')
  t.equal(answers.filter((res) => res.statusCode === 429).length, 20, 'the others refused')
})

t.test('requests without a token are counted per address across instances', { skip: onPostgres }, async (t) => {
  const { a, b } = await twoInstances(t, { rateLimitStore: 'postgres', anonymousRateLimitPerMinute: 2 })
  const health = (app: TestApp, remoteAddress: string) => app.app.inject({ method: 'GET', url: '/health', remoteAddress })
  t.equal((await health(a, '192.0.2.1')).statusCode, 200)
  t.equal((await health(b, '192.0.2.1')).statusCode, 200)
  assertLimited(t, await health(a, '192.0.2.1'), 'the third from that address, on either instance')
  t.equal((await health(b, '192.0.2.2')).statusCode, 200, 'another address is not held back')
})

t.test('failed authentications are counted across instances: the address is refused by both, even with a good token', { skip: onPostgres }, async (t) => {
  const { a, b } = await twoInstances(t, { rateLimitStore: 'postgres', authFailureLimitPerMinute: 2 })
  const forged = a.token('admin', { secret: 'a-guessed-secret-a-guessed-secret-a-guessed' })
  t.equal((await contactsWith(a, forged, '203.0.113.9')).statusCode, 401)
  t.equal((await contactsWith(b, forged, '203.0.113.9')).statusCode, 401)
  const third = await contactsWith(a, forged, '203.0.113.9')
  assertLimited(t, third, 'the third failure, wherever it lands, is one too many')
  assertLimited(t, await contactsWith(b, b.token('staff'), '203.0.113.9'), 'the other instance refuses a good token from that address')
  t.equal((await contactsWith(b, b.token('staff'), '203.0.113.10')).statusCode, 200, 'another address is let in')
})

t.test('counters in each process give each instance the limit: the reason for the shared store', { skip: onPostgres }, async (t) => {
  const { a, b } = await twoInstances(t, { rateLimitStore: 'memory', rateLimitPerMinute: 2 })
  const token = a.token('staff')
  const statuses: number[] = []
  for (const app of [a, b, a, b]) statuses.push((await contactsWith(app, token)).statusCode)
  t.same(statuses, [200, 200, 200, 200], 'twice the limit, split between two instances')
  assertLimited(t, await contactsWith(a, token), 'each instance holds its own count')
  t.same(await a.app.db.select().from(rateLimitCounters), [], 'nothing was counted in the database')
})

t.test('the store counts in the database on either engine; a route-level limit apart from the global one', async (t) => {
  const app = await build(t, { config: { rateLimitStore: 'postgres', anonymousRateLimitPerMinute: 3, signupRateLimitPerMinute: 5 } })
  const health = () => app.app.inject({ method: 'GET', url: '/health', remoteAddress: '192.0.2.7' })
  await health()
  await health()
  await app.app.inject({ method: 'POST', url: '/subscribe', payload: {}, remoteAddress: '192.0.2.7' })
  const rows = await app.app.db.select().from(rateLimitCounters)
  const hits = Object.fromEntries(rows.map((row) => [row.key, row.hits]))
  t.same(hits, { 'ip:192.0.2.7': 2, 'POST /subscribe|signup:192.0.2.7': 1 }, "the global limit's count, and the signup's own under the route's name")
  const [row] = rows.filter((r) => r.key === 'ip:192.0.2.7')
  t.equal(row!.resetsAt.getTime(), app.clock.now().getTime() + 60_000, 'the window ends a minute after its first request, on the app clock')
  t.equal((await health()).statusCode, 200, 'the third of three')
  assertLimited(t, await health(), 'the fourth is one too many')
})

t.test('ended windows are swept now and then, running ones kept', async (t) => {
  const app = await build(t, { config: { rateLimitStore: 'postgres' } })
  const health = (remoteAddress: string) => app.app.inject({ method: 'GET', url: '/health', remoteAddress })
  await health('192.0.2.20')
  await health('192.0.2.21')
  app.clock.advance(6 * 60_000)
  // Both windows ended; this hit opens a new one and sweeps the ended ones in the background.
  await health('192.0.2.22')
  const keys = async () => (await app.app.db.select({ key: rateLimitCounters.key }).from(rateLimitCounters)).map((r) => r.key).sort()
  for (let i = 0; i < 50 && (await keys()).length > 1; i++) await sleep(20)
  t.same(await keys(), ['ip:192.0.2.22'], 'only the running window is left')
  await health('192.0.2.23')
  t.same(await keys(), ['ip:192.0.2.22', 'ip:192.0.2.23'], 'no sweep again within minutes: a hit only counts')
})

t.test('when the counters cannot be reached, request limits let requests through and the failed-authentication limit refuses', async (t) => {
  const app = await build(t, { config: { rateLimitStore: 'postgres', anonymousRateLimitPerMinute: 1 }, keepLogLines: true })
  const token = app.token('staff')
  t.equal((await contactsWith(app, token)).statusCode, 200)
  // The table goes away (as if the database stopped answering its statements) while the rest stays.
  await app.app.db.execute(sql`alter table rate_limit_counters rename to rate_limit_counters_away`)

  const health = await app.app.inject({ method: 'GET', url: '/health', remoteAddress: '192.0.2.30' })
  t.equal(health.statusCode, 200, 'a request limit opens up')
  t.equal((await app.app.inject({ method: 'GET', url: '/health', remoteAddress: '192.0.2.30' })).statusCode, 200, 'past its limit of one, as nothing is counted')
  t.ok(app.logs.lines.some((line) => line.includes('"level":40') && line.includes('rate-limit counters unavailable')), 'each one let through is logged')

  const refused = await contactsWith(app, token)
  t.equal(refused.statusCode, 503, 'authentication is refused: its limit never opens up')
  t.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(refused.json().code, 'auth_limit_unavailable')

  await app.app.db.execute(sql`alter table rate_limit_counters_away rename to rate_limit_counters`)
  t.equal((await contactsWith(app, token)).statusCode, 200, 'back as soon as the counters are')
  const [{ n }] = (await selectRows<{ n: number }>(app.app.db, sql`select count(*)::int as n from rate_limit_counters`)) as [{ n: number }]
  t.ok(n >= 1, 'counting again')
})
