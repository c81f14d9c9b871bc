// `npm run bench:unsubscribe`: one-click unsubscribes (RFC 8058 POSTs) under
// load from autocannon, against PostgreSQL, while a campaign is sending —
// against a baseline measured in the same run: a bare Fastify route that
// commits a two-row transaction on the same database. Each runs in a process
// of its own, as in production: the API (src/server.ts, RUN_WORKERS=false),
// the delivery worker (src/cli/worker.ts, `npm run worker`), the baseline
// (./baseline-process.ts) and the SMTP sink, so autocannon, in this process,
// shares an event loop with none of them. Afterwards: every accepted
// unsubscribe is in the consent ledger, and no message reached the SMTP sink
// for an address after its unsubscribe was answered. Not part of the test
// suite: it prints figures (docs/benchmarks.md).
//
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:unsubscribe
//   TEST_DATABASE_URL=… npm run bench:unsubscribe -- --seconds=20 --connections=20 --members=50000
//   TEST_DATABASE_URL=… npm run bench:unsubscribe -- --cpu-prof=/tmp/prof   (the API process's CPU profile)
//   TEST_DATABASE_URL=… npm run bench:unsubscribe -- --worker-nice=10      (the worker process niced below the API)
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { setPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { sql } from 'drizzle-orm'
import type { InjectOptions } from 'fastify'
import { selectRows } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { signLink } from '../../src/lib/link-tokens.js'
import { createList } from '../factories.js'
import { freshDatabase, LINK_SECRET, processEnv, signTestToken, testConfig, type TestApp } from '../helper.js'
import { cpuMsOf, seed, spawnService, startSink, untilReady } from './world.js'
import { freePort } from '../support/free-port.js'

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
  /** CPU time the answering process spent per answered request (user + system, from /proc), in ms: unlike req/s, it hardly moves with other load on the machine. */
  cpuPerRequest: number
}

async function load(url: string, pid: number, nextRequest: () => { path: string; body: string }, onAnswer: (index: number, status: number) => void = () => {}): Promise<Load> {
  let sent = 0
  const cpuBefore = cpuMsOf(pid)
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
    cpuPerRequest: (cpuMsOf(pid) - cpuBefore) / Math.max(1, result.requests.total),
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

  // Baseline: a bare Fastify route committing two rows in one transaction on the same server, in its own process.
  const baselineChild = fork(new URL('./baseline-process.ts', import.meta.url), [database.url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  teardowns.push(() => baselineChild.kill('SIGKILL'))
  const bareAddress = `http://127.0.0.1:${await new Promise<number>((resolve) => baselineChild.once('message', (m: { port: number }) => resolve(m.port)))}`

  // Staff work (seeding, the campaign's start and cancel) from an app in this process, which runs no workers and takes no load.
  const config = testConfig({ smtpUrl: sink.url, logLevel: 'silent' })
  const api = await buildApp(config, { database, clock: { now: () => new Date() }, logger: false })
  teardowns.push(() => api.close())
  const app = {
    app: api,
    as: (role: 'staff' | 'course-system') => (options: InjectOptions) => api.inject({ ...options, headers: { authorization: `Bearer ${signTestToken(role, { config })}` } }),
  } as unknown as TestApp
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  await seed(app, list.id, config.suppressionPepper, MEMBERS)

  // The API and the delivery worker as production runs them: processes of their own on the same database.
  const dataDir = mkdtempSync(join(tmpdir(), 'samtykke-bench-unsubscribe-'))
  teardowns.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const common = { databaseUrl: database.url, smtpUrl: sink.url, dataDir }
  // A port free now: the service is told it, as it logs nothing we read (LOG_LEVEL=warn).
  const port = await freePort()
  const profileDir = flag('cpu-prof')
  const service = spawnService(
    teardowns,
    'src/server.ts',
    // The rate-limit counters in PostgreSQL, as with DATABASE_URL by default; the one-click limit out of the way of a load from one address.
    processEnv({ ...common, PORT: String(port), RUN_WORKERS: 'false', ONE_CLICK_RATE_LIMIT_PER_MINUTE: '10000000' }),
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  )
  const worker = spawnService(teardowns, 'src/cli/worker.ts', processEnv({ ...common, SMTP_RATE_PER_SECOND: '100000' }))
  // --worker-nice=N: the worker below the API in the CPU scheduler's order, as a deployment that gives the API priority (or its own cores) has it.
  if (flag('worker-nice')) setPriority(worker.pid!, Number(flag('worker-nice')))
  const serviceAddress = `http://127.0.0.1:${port}`
  await untilReady(serviceAddress, service)

  let n = 0
  const baseline = await load(bareAddress, baselineChild.pid!, () => ({ path: `/baseline/${++n}`, body: 'x=1' }))
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
      service.pid!,
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
  console.log(`| measured | PostgreSQL, ${MEMBERS.toLocaleString('en')} members, ${CONNECTIONS} connections, ${SECONDS} s, API, worker and baseline in processes of their own |`)
  console.log('| --- | --- |')
  console.log(`| baseline: bare Fastify route, two-row transaction | ${baseline.rate.toFixed(0)} req/s, p99 ${baseline.p99} ms |`)
  console.log(`| one-click unsubscribe, nothing else running | ${quiet.result.rate.toFixed(0)} req/s, p99 ${quiet.result.p99} ms (${((quiet.result.rate / baseline.rate) * 100).toFixed(0)}%) |`)
  console.log(`| one-click unsubscribe while the campaign sends | ${unsubscribe.rate.toFixed(0)} req/s, p99 ${unsubscribe.p99} ms |`)
  console.log(`| one-click / baseline | ${((unsubscribe.rate / baseline.rate) * 100).toFixed(0)}% |`)
  console.log(`| CPU per request in the answering process: baseline / one-click quiet / one-click while sending | ${[baseline, quiet.result, unsubscribe].map((l) => `${l.cpuPerRequest.toFixed(2)} ms`).join(' / ')} |`)
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
