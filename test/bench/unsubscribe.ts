// `npm run bench:unsubscribe`: one-click unsubscribes (RFC 8058 POSTs) under
// load from autocannon, against PostgreSQL, while a campaign is sending from
// the same service process — against a baseline measured in the same run: a
// bare Fastify route that commits a two-row transaction on the same database.
// Afterwards: every accepted unsubscribe is in the consent ledger, and no
// message reached the SMTP sink for an address after its unsubscribe was
// answered. Not part of the test suite: it prints figures (docs/benchmarks.md).
//
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:unsubscribe
//   TEST_DATABASE_URL=… npm run bench:unsubscribe -- --seconds=20 --connections=20 --members=50000
import autocannon from 'autocannon'
import { sql } from 'drizzle-orm'
import Fastify, { type InjectOptions } from 'fastify'
import postgres from 'postgres'
import { selectRows } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { signLink } from '../../src/lib/link-tokens.js'
import { createList } from '../factories.js'
import { freshDatabase, LINK_SECRET, signTestToken, testConfig, type TestApp } from '../helper.js'
import { seed, startSink } from './world.js'

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const MEMBERS = Number(flag('members') ?? 30_000)
const SECONDS = Number(flag('seconds') ?? 15)
const CONNECTIONS = Number(flag('connections') ?? 10)

const teardowns: (() => Promise<unknown> | unknown)[] = []
const fakeTest = { teardown: (fn: () => unknown) => teardowns.push(fn) } as never

interface Load {
  rate: number
  p99: number
  p50: number
  non2xx: number
  errors: number
  requests: number
}

async function load(url: string, nextRequest: () => { path: string; body: string }, onAnswer: (index: number, status: number) => void = () => {}): Promise<Load> {
  let sent = 0
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request, context) => {
          const { path, body } = nextRequest()
          ;(context as { index: number }).index = sent++
          return { ...request, path, body }
        },
        onResponse: (status, _body, context) => onAnswer((context as { index: number }).index, status),
      },
    ],
  })
  return {
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    requests: result.requests.total,
  }
}

async function main() {
  const url = process.env.TEST_DATABASE_URL
  if (!url) {
    console.error('bench:unsubscribe needs PostgreSQL: set TEST_DATABASE_URL (the embedded database serves one connection)')
    process.exit(1)
  }
  console.log(`unsubscribe benchmark: PostgreSQL, ${MEMBERS.toLocaleString('en')} members, ${CONNECTIONS} connections for ${SECONDS} s each`)
  const sink = await startSink(teardowns)
  const database = await freshDatabase(fakeTest)
  if (database.engine !== 'postgres') throw new Error('unreachable')

  // Baseline: a bare Fastify route committing two rows in one transaction on the same server.
  const raw = postgres(database.url, { max: 10, onnotice: () => {} })
  teardowns.push(() => raw.end())
  await raw`create table bench_pair (id bigserial primary key, n bigint not null, at timestamptz not null default now())`
  const bare = Fastify({ logger: false })
  bare.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body))
  bare.post('/baseline/:n', async (request) => {
    const n = Number((request.params as { n: string }).n)
    await raw.begin(async (tx) => {
      await tx`insert into bench_pair (n) values (${n})`
      await tx`insert into bench_pair (n) values (${-n})`
    })
    return 'ok'
  })
  const bareAddress = await bare.listen({ port: 0, host: '127.0.0.1' })
  teardowns.push(() => bare.close())

  // The service: API and delivery workers in one process, as `npm start` runs them.
  const config = testConfig({ smtpUrl: sink.url, smtpRatePerSecond: 100_000, runWorkers: true, logLevel: 'silent' })
  const api = await buildApp(config, { database, clock: { now: () => new Date() }, logger: false })
  teardowns.push(() => api.close())
  const app = {
    app: api,
    as: (role: 'staff' | 'course-system') => (options: InjectOptions) => api.inject({ ...options, headers: { authorization: `Bearer ${signTestToken(role, { config })}` } }),
  } as unknown as TestApp
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  await seed(app, list.id, config.suppressionPepper, MEMBERS)
  const serviceAddress = await api.listen({ port: 0, host: '127.0.0.1' })

  let n = 0
  const baseline = await load(bareAddress, () => ({ path: `/baseline/${++n}`, body: 'x=1' }))
  console.log(`baseline: ${baseline.rate.toFixed(0)} req/s, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms, non-2xx ${baseline.non2xx}`)

  // Members subscribed with consent, in an order unrelated to the campaign's (contact id) order.
  const members = await selectRows<{ contact_id: string; email: string }>(
    api.db,
    sql`select m.contact_id, c.email from bench_member m join contacts c on c.id = m.contact_id where m.bucket >= 12 order by c.email`,
  )
  const keys = [{ id: 'test', secret: LINK_SECRET }]
  // Each phase unsubscribes its own half of the members, so no request finds the work already done.
  const oneClick = async (people: typeof members) => {
    let next = 0
    const answers: { email: string; status: number; at: number }[] = []
    const result = await load(
      serviceAddress,
      () => {
        const member = people[next++ % people.length]!
        return { path: `/unsubscribe/${signLink(keys, 'unsubscribe', { contactId: member.contact_id, listId: list.id })}`, body: 'List-Unsubscribe=One-Click' }
      },
      (index, status) => answers.push({ email: people[index % people.length]!.email, status, at: Date.now() }),
    )
    return { result, answers }
  }
  const quiet = await oneClick(members.filter((_, i) => i % 2 === 1))
  console.log(`one-click, nothing else running: ${quiet.result.rate.toFixed(0)} req/s, p50 ${quiet.result.p50} ms, p99 ${quiet.result.p99} ms, non-2xx ${quiet.result.non2xx}`)

  const created = await app.as('staff')({
    method: 'POST',
    url: '/v1/campaigns',
    payload: { name: 'Under last', listId: list.id, template: 'newsletter', data: { headline: 'Nytt', body: 'Tekst' } },
  })
  const campaignId = created.json().id as string
  await app.as('staff')({ method: 'POST', url: `/v1/campaigns/${campaignId}/start` })
  // Let it get going: fan-out done for a part, messages leaving.
  while ((await sink.stats()).messages < 200) await new Promise((done) => setTimeout(done, 100))

  const { result: unsubscribe, answers: answered } = await oneClick(members.filter((_, i) => i % 2 === 0))
  console.log(`one-click: ${unsubscribe.rate.toFixed(0)} req/s, p50 ${unsubscribe.p50} ms, p99 ${unsubscribe.p99} ms, non-2xx ${unsubscribe.non2xx}, errors ${unsubscribe.errors}`)
  const sentDuring = (await sink.stats()).messages

  await app.as('staff')({ method: 'POST', url: `/v1/campaigns/${campaignId}/cancel` })
  const accepted = answered.filter((a) => a.status === 200)
  const acceptedEmails = [...new Set(accepted.map((a) => a.email))]
  const [withdrawn] = await selectRows<{ n: number }>(
    api.db,
    sql`select count(distinct c.email)::int as n from consent_events e join contacts c on c.id = e.contact_id
        where e.type = 'withdrawn' and e.list_id = ${list.id}::uuid and e.source = 'link'
          and c.email = any (${`{${acceptedEmails.join(',')}}`}::text[])`,
  )
  const arrivals = await sink.arrivals()
  const firstAnswer = new Map<string, number>()
  for (const a of accepted) if (!firstAnswer.has(a.email)) firstAnswer.set(a.email, a.at)
  const late = [...firstAnswer].filter(([email, at]) => (arrivals[email] ?? []).some((arrived) => arrived > at))

  console.log('')
  console.log(`| measured | PostgreSQL, ${MEMBERS.toLocaleString('en')} members, ${CONNECTIONS} connections, ${SECONDS} s |`)
  console.log('| --- | --- |')
  console.log(`| baseline: bare Fastify route, two-row transaction | ${baseline.rate.toFixed(0)} req/s, p99 ${baseline.p99} ms |`)
  console.log(`| one-click unsubscribe, nothing else running | ${quiet.result.rate.toFixed(0)} req/s, p99 ${quiet.result.p99} ms (${((quiet.result.rate / baseline.rate) * 100).toFixed(0)}%) |`)
  console.log(`| one-click unsubscribe while the campaign sends | ${unsubscribe.rate.toFixed(0)} req/s, p99 ${unsubscribe.p99} ms |`)
  console.log(`| one-click / baseline | ${((unsubscribe.rate / baseline.rate) * 100).toFixed(0)}% |`)
  console.log(`| 5xx / other non-2xx / errors | ${answered.filter((a) => a.status >= 500).length} / ${unsubscribe.non2xx - answered.filter((a) => a.status >= 500).length} / ${unsubscribe.errors} |`)
  console.log(`| campaign messages sent during the load | ${sentDuring} |`)
  console.log(`| people unsubscribed (answered 200) / withdrawals in the consent ledger | ${acceptedEmails.length} / ${withdrawn!.n} |`)
  console.log(`| people who got the campaign after their unsubscribe was answered | ${late.length} |`)
}

try {
  await main()
} finally {
  for (const fn of teardowns.reverse()) await fn()
}
