// `npm run bench:campaign`: a newsletter campaign to a large list, end to end,
// against a baseline measured in the same run on the same machine. Not part of
// the test suite: it asserts nothing, it prints figures (docs/benchmarks.md).
//
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:campaign                     # PostgreSQL, 100,000 members
//   TEST_DATABASE_URL=… npm run bench:campaign -- --members=1000000 [--fanout-only]                     # a million
//   npm run bench:campaign                                                                               # embedded PGlite, 10,000 members
//
// The SMTP server is a sink in a process of its own (smtp-sink-process.ts).
// Baseline: a bare nodemailer pool with the service's own transport options
// (the same connections, and nodemailer 10's noDelay sockets) sending messages
// of the same size to the same sink. Pipeline: a campaign created and started
// through the API, fanned out (timed alone), then delivered by the service's
// own delivery worker — decision at delivery, rendering, handover mark, SMTP,
// delivery event — until the campaign is finished. On PostgreSQL the worker
// runs in a process of its own, as production runs it (`npm run worker`,
// src/cli/worker.ts), so this process, which drives the API and measures,
// shares no event loop with it; `--in-process` runs it here instead, as
// PGlite must (its database belongs to one process).
//
//   TEST_DATABASE_URL=… npm run bench:campaign -- --members=30000 --cpu-prof=/tmp/prof   (the worker process's CPU profile)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sql } from 'drizzle-orm'
import type { InjectOptions } from 'fastify'
import nodemailer from 'nodemailer'
import { selectRows } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { buildSmtpTransportOptions } from '../../src/delivery/mailer.js'
import { compiledVersionCount } from '../../src/templates/render.js'
import { createList } from '../factories.js'
import { freshDatabase, processEnv, signTestToken, testConfig, type TestApp } from '../helper.js'
import { freePort } from '../support/free-port.js'
import { backendCpuSeconds, explainFanoutBatch, fanoutFloor, fanoutIndexes, fanoutTableSizes } from './fanout-explain.js'
import { cpuMsOf, rssSampler, seed, spawnService, startSink, untilReady } from './world.js'

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const engine = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'
const MEMBERS = Number(flag('members') ?? (engine === 'postgres' ? 100_000 : 10_000))
const FANOUT_ONLY = process.argv.includes('--fanout-only')
/** PostgreSQL: after the fan-out, EXPLAIN (ANALYZE, BUFFERS) of one batch of a second campaign, and the indexes written (./fanout-explain.ts). */
const EXPLAIN = process.argv.includes('--explain')
/** SMTP connections, for the baseline and the pipeline alike (SMTP_MAX_CONNECTIONS). */
const CONNECTIONS = Number(flag('connections') ?? 5)
const TARGET_MESSAGE_BYTES = 12 * 1024
/** The delivery worker in this process rather than its own (always so on PGlite). */
const IN_PROCESS = process.argv.includes('--in-process') || engine === 'pglite'
/** A directory for the worker process's CPU profile (--cpu-prof). */
const PROFILE_DIR = flag('cpu-prof')

const teardowns: (() => Promise<unknown> | unknown)[] = []
const fakeTest = { teardown: (fn: () => unknown) => teardowns.push(fn) } as never
const seconds = (ms: number) => (ms / 1000).toFixed(1)
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`

/** The resident set's peak per phase. */
const rss = rssSampler(50)

/** A newsletter body long enough that the whole message, headers and both parts, is about 12 KB. */
async function newsletterData(app: TestApp) {
  const paragraph =
    'Påmeldingen til vårens kurs er åpen. Vi har nye kurs i yoga, keramikk og akvarell, på dagtid og om kvelden, ' +
    'og flere av dem passer for nybegynnere. Plassene fordeles etter hvert som påmeldingene kommer inn.\n\n'
  const template = await app.app.services.templates.requireTemplate(app.app.db, (await templateId(app))!)
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true })
  for (let n = 1; ; n++) {
    const data = { headline: 'Nye kurs i vår', body: paragraph.repeat(n).trim() }
    const rendered = await app.app.services.templates.render(template, 'nb', {
      ...data,
      name: 'Person 1 Nordmann',
      preferencesUrl: 'https://samtykke.example/u/x'.padEnd(160, 'x'),
      courseMailUntil: '',
      listName: 'Nyhetsbrev',
      controllerName: 'Kurs AS',
      controllerEmail: 'personvern@kurs.example',
    })
    const info = await transport.sendMail({ from: 'a@example.no', to: 'b@example.no', subject: rendered.subject, html: rendered.html, text: rendered.text })
    const size = (info.message as Buffer).length + 400 // the List-* headers, added by the worker
    if (size >= TARGET_MESSAGE_BYTES) return { data, sample: rendered, size }
  }
}

async function templateId(app: TestApp) {
  const [row] = await selectRows<{ id: string }>(app.app.db, sql`select id from templates where name = 'newsletter' order by version desc limit 1`)
  return row?.id
}

/** The bare nodemailer pool: `count` messages of the sample's size, kept queued so every connection stays busy. */
async function baseline(sink: { url: string; pid: number }, sample: { subject: string; html: string; text: string }, count: number) {
  const transport = nodemailer.createTransport(buildSmtpTransportOptions(sink.url, { smtpRatePerSecond: 100_000, smtpMaxConnections: CONNECTIONS, dkim: undefined }))
  const started = performance.now()
  const cpu = process.cpuUsage()
  const sinkBefore = cpuMsOf(sink.pid)
  let next = 0
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      await transport.sendMail({
        from: 'Kurs AS <post@kurs.example>',
        to: `baseline.${i}@example.no`,
        subject: sample.subject,
        html: sample.html,
        text: sample.text,
        headers: { 'List-Unsubscribe': `<https://samtykke.example/unsubscribe/${'x'.repeat(140)}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      })
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS * 4 }, lane))
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  const sinkCpuMs = cpuMsOf(sink.pid) - sinkBefore
  transport.close()
  return { ms, count, rate: (count / ms) * 1000, cpu: cpuShare(cpu, ms), cpuMs: (used.user + used.system) / 1000, sinkCpuMs }
}

/** This process's CPU time since `since` as a share of one core over `ms`. */
const cpuShare = (since: NodeJS.CpuUsage, ms: number) => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000 / ms
}

async function transactionsSoFar(app: TestApp): Promise<number | null> {
  if (engine !== 'postgres') return null
  const [row] = await selectRows<{ n: string }>(app.app.db, sql`select xact_commit::text as n from pg_stat_database where datname = current_database()`)
  return Number(row!.n)
}

async function main() {
  console.log(`campaign benchmark: ${engine}, ${MEMBERS.toLocaleString('en')} members, ${CONNECTIONS} SMTP connections${FANOUT_ONLY ? ', fan-out only' : ''}`)
  const sink = await startSink(teardowns)
  const config = testConfig({ smtpUrl: sink.url, smtpRatePerSecond: 100_000, smtpMaxConnections: CONNECTIONS })
  const database = await freshDatabase(fakeTest)
  const api = await buildApp(config, { database, clock: { now: () => new Date() }, logger: false })
  teardowns.push(() => api.close())
  const app = {
    app: api,
    config,
    as: (role: 'staff' | 'course-system') => (options: InjectOptions) =>
      api.inject({ ...options, headers: { authorization: `Bearer ${signTestToken(role, { config })}` } }),
  } as unknown as TestApp

  let started = performance.now()
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  await seed(app, list.id, config.suppressionPepper, MEMBERS)
  console.log(`seeded in ${seconds(performance.now() - started)} s (peak RSS ${mb(rss.phase())})`)

  const { data, sample, size } = await newsletterData(app)
  console.log(`message size: ~${(size / 1024).toFixed(1)} KB`)
  const [allowedRow] = await selectRows<{ n: number }>(
    app.app.db,
    // Subscribed with consent, not suppressed: buckets 12–99.
    sql`select count(*)::int as n from bench_member where bucket >= 12`,
  )
  const expectedAllowed = allowedRow!.n

  let baselineResult: Awaited<ReturnType<typeof baseline>> | null = null
  if (!FANOUT_ONLY) {
    const count = Math.min(expectedAllowed, 20_000)
    baselineResult = await baseline(sink, sample, count)
    const received = await sink.stats()
    console.log(`baseline: ${count} messages in ${seconds(baselineResult.ms)} s = ${baselineResult.rate.toFixed(0)} msg/s (sink got ${received.messages})`)
    await sink.reset()
  }
  rss.phase()

  // The worker process, started now and held stopped (SIGSTOP) until the fan-out is done: its start-up
  // (tsx, building the app) is not timed, and it neither takes part in the fan-out nor competes with it.
  let workerProcess: ReturnType<typeof spawnService> | null = null
  if (!FANOUT_ONLY && !IN_PROCESS && database.engine === 'postgres') {
    const dataDir = mkdtempSync(join(tmpdir(), 'samtykke-bench-campaign-'))
    teardowns.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const workerPort = await freePort()
    workerProcess = spawnService(
      teardowns,
      'src/cli/worker.ts',
      processEnv({
        databaseUrl: database.url,
        smtpUrl: sink.url,
        dataDir,
        WORKER_PORT: String(workerPort),
        SMTP_RATE_PER_SECOND: '100000',
        SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
      }),
      PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    )
    await untilReady(`http://127.0.0.1:${workerPort}`, workerProcess)
    workerProcess.kill('SIGSTOP')
  }

  const staff = app.as('staff')
  const created = await staff({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Vårkurs', listId: list.id, template: 'newsletter', data } })
  if (created.statusCode !== 201) throw new Error(`create: ${created.statusCode} ${created.body}`)
  const campaignId = created.json().id as string
  await staff({ method: 'POST', url: `/v1/campaigns/${campaignId}/start` })

  const backendCpuBefore = engine === 'postgres' ? await backendCpuSeconds(app) : null
  const fanoutCpu = process.cpuUsage()
  started = performance.now()
  while ((await app.app.services.campaigns.fanOut('bench:fanout', 300_000)) > 0);
  const fanoutMs = performance.now() - started
  const fanoutRss = rss.phase()
  const backendCpuAfter = engine === 'postgres' ? await backendCpuSeconds(app) : null
  const ownCpu = process.cpuUsage(fanoutCpu)
  const serverCpu = backendCpuBefore !== null && backendCpuAfter !== null ? `${(backendCpuAfter - backendCpuBefore).toFixed(1)} s` : 'n/a'
  console.log(`fan-out CPU: PostgreSQL backends ${serverCpu}, this process ${((ownCpu.user + ownCpu.system) / 1e6).toFixed(1)} s`)
  if (engine === 'postgres') console.table(await fanoutTableSizes(app))
  const [ledger] = await selectRows<{ rows: number; queued: number }>(
    app.app.db,
    sql`select count(*)::int as rows, count(*) filter (where decision = 'allowed')::int as queued from send_ledger where campaign_id = ${campaignId}::uuid`,
  )
  console.log(`fan-out: ${MEMBERS.toLocaleString('en')} members decided in ${seconds(fanoutMs)} s (${((MEMBERS / fanoutMs) * 1000).toFixed(0)} members/s), ${ledger!.queued} queued (expected ${expectedAllowed}), peak RSS ${mb(fanoutRss)}`)

  if (EXPLAIN) {
    const second = await staff({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Explained', listId: list.id, template: 'newsletter', data } })
    await staff({ method: 'POST', url: `/v1/campaigns/${second.json().id}/start` })
    console.log((await explainFanoutBatch(app, second.json().id, Number(flag('explain-batch') ?? 1000))).join('\n'))
    console.table(await fanoutIndexes(app))
    const floor = await fanoutFloor(app, campaignId)
    const total = Object.entries(floor).filter(([k]) => k.endsWith('real table')).reduce((sum, [, ms]) => sum + ms, 0)
    console.table(floor)
    console.log(`floor: the same rows written by INSERT … SELECT into the real tables, nothing decided: ${seconds(total)} s; fan-out / floor: ${(fanoutMs / total).toFixed(2)}`)
  }
  if (FANOUT_ONLY) {
    await staff({ method: 'POST', url: `/v1/campaigns/${campaignId}/cancel` })
  } else {
    const transactionsBefore = await transactionsSoFar(app)
    const backendsBefore = engine === 'postgres' ? await backendCpuSeconds(app) : null
    const sinkBefore = cpuMsOf(sink.pid)
    const workerBefore = workerProcess ? cpuMsOf(workerProcess.pid!) : 0
    started = performance.now()
    const cpu = process.cpuUsage()
    const worker = workerProcess ? null : app.app.deliveryWorker.start()
    workerProcess?.kill('SIGCONT')
    for (;;) {
      const [row] = await selectRows<{ status: string }>(app.app.db, sql`select status from campaigns where id = ${campaignId}::uuid`)
      if (row!.status === 'finished') break
      await new Promise((done) => setTimeout(done, 200))
    }
    const sendMs = performance.now() - started
    const sendCpu = cpuShare(cpu, sendMs)
    const workerCpuMs = workerProcess ? cpuMsOf(workerProcess.pid!) - workerBefore : null
    const sinkCpuMs = cpuMsOf(sink.pid) - sinkBefore
    const backendsAfter = engine === 'postgres' ? await backendCpuSeconds(app) : null
    await worker?.stop()
    const sendRss = rss.phase()
    const transactions = await transactionsSoFar(app)
    const received = await sink.stats()
    const [after] = await selectRows<{ rows: number }>(app.app.db, sql`select count(*)::int as rows from send_ledger where campaign_id = ${campaignId}::uuid`)
    const rate = (received.messages / sendMs) * 1000
    console.log(`pipeline: ${received.messages} messages in ${seconds(sendMs)} s = ${rate.toFixed(0)} msg/s; ${received.doubled} recipients got it twice; average ${(received.bytes / received.messages / 1024).toFixed(1)} KB`)
    console.log('')
    console.log(`| measured | ${engine}, ${MEMBERS.toLocaleString('en')} members |`)
    console.log('| --- | --- |')
    console.log(`| baseline: bare nodemailer pool, ${CONNECTIONS} connections | ${baselineResult!.rate.toFixed(0)} msg/s |`)
    console.log(`| pipeline: decision at delivery, render, SMTP, events | ${rate.toFixed(0)} msg/s |`)
    console.log(`| pipeline / baseline | ${((rate / baselineResult!.rate) * 100).toFixed(0)}% |`)
    const perMessage = (ms: number) => `${(ms / received.messages).toFixed(2)} ms`
    const share = (ms: number) => `${((ms / sendMs) * 100).toFixed(0)}%`
    console.log(`| this process's CPU, baseline / pipeline (share of one core) | ${(baselineResult!.cpu * 100).toFixed(0)}% / ${(sendCpu * 100).toFixed(0)}% |`)
    console.log(`| baseline CPU per message: this process (the pool) / SMTP sink | ${(baselineResult!.cpuMs / baselineResult!.count).toFixed(2)} ms / ${(baselineResult!.sinkCpuMs / baselineResult!.count).toFixed(2)} ms |`)
    if (workerCpuMs !== null) console.log(`| pipeline: worker process CPU (share of one core; per message) | ${share(workerCpuMs)}; ${perMessage(workerCpuMs)} |`)
    if (backendsBefore !== null && backendsAfter !== null) console.log(`| pipeline: PostgreSQL backends' CPU (share; per message) | ${share((backendsAfter - backendsBefore) * 1000)}; ${perMessage((backendsAfter - backendsBefore) * 1000)} |`)
    console.log(`| pipeline: SMTP sink CPU (share; per message) | ${share(sinkCpuMs)}; ${perMessage(sinkCpuMs)} |`)
    console.log(`| delivery worker | ${workerProcess ? 'a process of its own (src/cli/worker.ts)' : 'in this process'} |`)
    console.log(`| fan-out (decide, ledger, messages, queue) | ${seconds(fanoutMs)} s |`)
    console.log(`| ledger rows per recipient | ${(after!.rows / MEMBERS).toFixed(2)} |`)
    if (transactions !== null && transactionsBefore !== null) console.log(`| transactions per delivered message | ${((transactions - transactionsBefore) / received.messages).toFixed(1)} |`)
    console.log(`| peak RSS, fan-out / delivery | ${mb(fanoutRss)} / ${mb(sendRss)} |`)
    // One version in use, first compiled to size the sample message: every later render reuses it.
    console.log(`| MJML compiles in this process (one template version) | ${compiledVersionCount()} |`)
  }
  console.log(`peak RSS of the whole run (getrusage): ${mb(process.resourceUsage().maxRSS * 1024)}`)
}

try {
  await main()
} finally {
  for (const fn of teardowns.reverse()) await fn()
}
