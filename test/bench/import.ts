// `npm run bench:import`: an import of a large Mailchimp-style export, end to
// end — on PostgreSQL as `npm run import` itself, in a process of its own
// (streamed parsing, the address checks and keyed hashes, the suppression,
// objection, erasure and left-the-list checks, contacts, subscriptions and
// one consent event per row, the job's progress) — against a bare `COPY` of
// the same file into a plain table in the same run, on the same database.
// Not part of the test suite: it prints figures (docs/benchmarks.md),
// correctness columns included.
//
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:import                 # PostgreSQL, 1,000,000 rows
//   TEST_DATABASE_URL=… npm run bench:import -- --rows=200000
//   npm run bench:import                                                                            # embedded PGlite, 20,000 rows, in this process
//
// The command runs with V8's old space capped (--max-old-space-size=160), as
// the `import` npm script runs it: the import holds little (a batch per
// lane), but V8 lets the garbage of a long run pile up far beyond that before
// it collects.
import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pipeline } from 'node:stream/promises'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { selectRows } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { addressHash } from '../../src/lib/email.js'
import { freshDatabase, processEnv, signTestToken, testConfig } from '../helper.js'
import { rssSampler } from './world.js'

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const engine = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'
const ROWS = Number(flag('rows') ?? (engine === 'postgres' ? 1_000_000 : 20_000))
/** Of every 100 rows: 0 suppressed (an unsubscribe from everything), 1 erased, 2 objected, 3 left the list, 4 on it already, 5 an invalid address. */
const KEPT_OUT = { suppressed: 0, erased: 1, objected: 2, leftList: 3 } as const
const ALREADY = 4
const INVALID = 5

const teardowns: (() => Promise<unknown> | unknown)[] = []
const fakeTest = { teardown: (fn: () => unknown) => teardowns.push(fn) } as never
const seconds = (ms: number) => (ms / 1000).toFixed(1)
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`
const email = (i: number) => `bench.${i}@example.no`

/** The resident set's peak per phase. */
const rss = rssSampler(20)

/** The export: Mailchimp's header and the columns an import reads, streamed to disk. */
async function writeExport(path: string) {
  const out = createWriteStream(path)
  const write = (line: string) => (out.write(line) ? undefined : new Promise<void>((done) => out.once('drain', () => done())))
  await write('"Email Address","First Name","Last Name","MEMBER_RATING","OPTIN_TIME","OPTIN_IP","CONFIRM_TIME","CONFIRM_IP","LAST_CHANGED","LEID","EUID"\r\n')
  for (let i = 0; i < ROWS; i++) {
    const address = i % 100 === INVALID ? `bench.${i}.example.no` : email(i)
    const day = String(1 + (i % 28)).padStart(2, '0')
    await write(`"${address}","Person","Nordmann ${i}",2,"2023-02-${day} 10:00:00","192.0.2.${i % 250}","2023-02-${day} 10:05:00","192.0.2.${i % 250}","2024-01-01 00:00:00","${100000000 + i}","${i.toString(16)}"\r\n`)
  }
  await new Promise<void>((done) => out.end(() => done()))
}

/** Those the import must keep out, and those on the list already, set-wise, as the service would have recorded them. */
async function seed(db: Awaited<ReturnType<typeof buildApp>>['db'], listId: string, noticeId: string, pepper: string) {
  const of = (bucket: number) => Array.from({ length: Math.ceil(ROWS / 100) }, (_, k) => k * 100 + bucket).filter((i) => i < ROWS)
  const hashes = (bucket: number) => `{${of(bucket).map((i) => addressHash(email(i), pepper)).join(',')}}`
  const emails = (bucket: number) => `{${of(bucket).map(email).join(',')}}`
  // Suppressed and erased: by the keyed hash alone, no contact (an erased person has none).
  await db.execute(sql`insert into suppressions (address_hash, scope, reason, created_at, created_by_id)
    select h, 'global', 'unsubscribe', now() - interval '30 days', 'bench' from unnest(${hashes(KEPT_OUT.suppressed)}::text[]) as h`)
  await db.execute(sql`insert into suppressions (address_hash, scope, reason, created_at, created_by_id)
    select h, 'global', 'erasure', now() - interval '30 days', 'bench' from unnest(${hashes(KEPT_OUT.erased)}::text[]) as h`)
  for (const bucket of [KEPT_OUT.objected, KEPT_OUT.leftList, ALREADY]) {
    await db.execute(sql`insert into contacts (email, name) select e, 'Seeded' from unnest(${emails(bucket)}::text[]) as e`)
  }
  await db.execute(sql`insert into consent_events (contact_id, address_hash, list_id, purpose, type, basis, source, actor_id, occurred_at)
    select c.id, x.h, null, 'marketing', 'objected', 'legitimate_interest', 'staff', 'bench', now() - interval '10 days'
    from unnest(${emails(KEPT_OUT.objected)}::text[], ${hashes(KEPT_OUT.objected)}::text[]) as x(e, h) join contacts c on c.email = x.e`)
  for (const [bucket, status] of [[KEPT_OUT.leftList, 'unsubscribed'], [ALREADY, 'active']] as const) {
    await db.execute(sql`insert into subscriptions (contact_id, list_id, status, source, confirmed_at, unsubscribed_at)
      select c.id, ${listId}::uuid, ${status}::subscription_status, 'form', now() - interval '60 days', case when ${status} = 'unsubscribed' then now() - interval '5 days' end
      from contacts c where c.email = any(${emails(bucket)}::text[])`)
    await db.execute(sql`insert into consent_events (contact_id, address_hash, list_id, purpose, type, basis, source, notice_id, actor_id, occurred_at)
      select c.id, x.h, ${listId}::uuid, 'newsletter', 'granted', 'consent', 'form', ${noticeId}::uuid, 'bench', now() - interval '60 days'
      from unnest(${emails(bucket)}::text[], ${hashes(bucket)}::text[]) as x(e, h) join contacts c on c.email = x.e`)
  }
  await db.execute(sql`analyze`)
}

/** The baseline: the same file into a plain table with COPY, on the same engine. */
async function copyBaseline(file: string, databaseUrl: string | null) {
  const ddl = 'create table bench_copy (email text, first_name text, last_name text, rating int, optin_time text, optin_ip text, confirm_time text, confirm_ip text, last_changed text, leid text, euid text)'
  const started = performance.now()
  if (databaseUrl) {
    const client = postgres(databaseUrl, { max: 1, onnotice: () => {} })
    await client.unsafe(ddl)
    const started = performance.now()
    await pipeline(createReadStream(file), await client`copy bench_copy from stdin with (format csv, header true)`.writable())
    const ms = performance.now() - started
    await client.end()
    return ms
  }
  const pg = new PGlite()
  await pg.exec(ddl)
  const begun = performance.now()
  await pg.query(`copy bench_copy from '/dev/blob' with (format csv, header true)`, [], { blob: new Blob([readFileSync(file)]) })
  const ms = performance.now() - begun
  await pg.close()
  return ms || performance.now() - started
}

/** The peak resident set of a process so far (VmHWM), and its CPU seconds, from /proc. */
function procStats(pid: number): { peak: number; cpu: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const stat = raw.slice(raw.lastIndexOf(')') + 2).split(' ')
    return { peak: Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024, cpu: (Number(stat[11]) + Number(stat[12])) / 100 }
  } catch {
    return null
  }
}

/** `npm run import` itself, in a process of its own with DATABASE_URL: what an operator runs. */
async function importAsCommand(file: string, databaseUrl: string, dataDir: string) {
  const started = performance.now()
  const child = spawn(process.execPath, ['--max-old-space-size=160', '--import', 'tsx', 'src/cli/import.ts', file, '--list', 'nyhetsbrev', '--notice-key', 'mailchimp', '--notice-version', '1'], {
    env: processEnv({ databaseUrl, smtpUrl: 'smtp://127.0.0.1:9', dataDir }),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  let last = { peak: 0, cpu: 0 }
  const timer = setInterval(() => (last = procStats(child.pid!) ?? last), 50)
  const status = await new Promise<number | null>((done) => child.on('exit', done))
  clearInterval(timer)
  return { ms: performance.now() - started, status, stdout, peak: last.peak, cpu: last.cpu }
}

async function main() {
  console.log(`import benchmark: ${engine}, ${ROWS.toLocaleString('en')} rows`)
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-bench-import-'))
  teardowns.push(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'subscribed_members_export.csv')
  await writeExport(file)
  console.log(`export written: ${mb(statSync(file).size)}`)

  const config = testConfig({ importDir: dir })
  const database = await freshDatabase(fakeTest)
  const app = await buildApp(config, { database, clock: { now: () => new Date() }, logger: false })
  teardowns.push(() => app.close())
  const staff = { authorization: `Bearer ${signTestToken('staff', { config })}` }
  const list = (await app.inject({ method: 'POST', url: '/v1/lists', headers: staff, payload: { slug: 'nyhetsbrev', name: 'Nyhetsbrev', kind: 'newsletter' } })).json()
  const notice = (await app.inject({ method: 'POST', url: '/v1/notices', headers: staff, payload: { key: 'mailchimp', version: 1, text: 'Ja, send meg nyhetsbrev.' } })).json()
  const seeded = performance.now()
  await seed(app.db, list.id, notice.id, config.suppressionPepper)
  console.log(`seeded in ${seconds(performance.now() - seeded)} s`)

  const copyMs = await copyBaseline(file, database.engine === 'postgres' ? database.url : null)
  console.log(`baseline: COPY of the file in ${seconds(copyMs)} s = ${((ROWS / copyMs) * 1000).toFixed(0)} rows/s`)

  // On PostgreSQL the command runs as an operator runs it; on PGlite, which one process holds, in this one.
  let command: Awaited<ReturnType<typeof importAsCommand>> | null = null
  let peak = 0
  if (database.engine === 'postgres') {
    command = await importAsCommand(file, database.url, dir)
    if (command.status !== 0) throw new Error(`npm run import exited ${command.status}:\n${command.stdout}`)
    peak = command.peak
  } else {
    rss.phase()
    await app.services.imports.importFile(
      { path: file, ownsFile: false, options: { list: 'nyhetsbrev', noticeKey: 'mailchimp', noticeVersion: 1 } },
      { id: 'bench:import', name: 'bench', role: 'staff' },
    )
    peak = rss.phase()
  }
  const [job] = await selectRows<{ status: string; rows_applied: number; counts: unknown; ms: number }>(
    app.db,
    sql`select status, rows_applied, counts, extract(epoch from finished_at - created_at) * 1000 as ms from import_jobs order by created_at desc limit 1`,
  )
  const importMs = Number(job!.ms)
  const rate = (ROWS / importMs) * 1000
  await report({ app, list, copyMs, importMs, rate, peak, command, job: job! })
}

async function report(r: {
  app: Awaited<ReturnType<typeof buildApp>>
  list: { id: string }
  copyMs: number
  importMs: number
  rate: number
  peak: number
  command: Awaited<ReturnType<typeof importAsCommand>> | null
  job: { status: string; rows_applied: number; counts: unknown }
}) {
  const [check] = await selectRows<{ kept_out_added: number; events: number; people: number; subscriptions: number }>(
    r.app.db,
    sql`select
      (select count(*)::int from consent_events e where e.source = 'import' and e.address_hash in (
         select address_hash from suppressions union select address_hash from consent_events where type = 'objected')) as kept_out_added,
      (select count(*)::int from consent_events where source = 'import') as events,
      (select count(distinct contact_id)::int from consent_events where source = 'import') as people,
      (select count(*)::int from subscriptions where source = 'import') as subscriptions`,
  )
  const [left] = await selectRows<{ reopened: number }>(
    r.app.db,
    sql`select count(*)::int as reopened from subscriptions where list_id = ${r.list.id}::uuid and status <> 'unsubscribed'
        and contact_id in (select id from contacts where email like 'bench.%' and (substring(email from 'bench\\.(\\d+)@')::int % 100) = ${KEPT_OUT.leftList})`,
  )
  let expected = 0
  for (let i = 0; i < ROWS; i++) if (i % 100 > INVALID) expected++
  console.log(`import: ${r.job.status} in ${seconds(r.importMs)} s = ${r.rate.toFixed(0)} rows/s; counts ${JSON.stringify(r.job.counts)}`)
  console.log('')
  console.log(`| measured | ${engine}, ${ROWS.toLocaleString('en')} rows |`)
  console.log('| --- | --- |')
  console.log(`| baseline: bare COPY of the file into a plain table | ${seconds(r.copyMs)} s, ${((ROWS / r.copyMs) * 1000).toFixed(0)} rows/s |`)
  console.log(`| import (the job, first row to report) | ${seconds(r.importMs)} s, **${r.rate.toFixed(0)} rows/s** |`)
  console.log(`| import / COPY time | ${(r.importMs / r.copyMs).toFixed(1)}x |`)
  if (r.command) {
    console.log(`| \`npm run import\` as a process: wall time (start, migrations check, import, report) | ${seconds(r.command.ms)} s |`)
    console.log(`| its peak RSS (VmHWM) | ${mb(r.peak)} |`)
    console.log(`| its CPU (share of one core over the wall time) | ${((r.command.cpu * 1000 / r.command.ms) * 100).toFixed(0)}% |`)
  } else {
    console.log(`| peak RSS of this process during the import | ${mb(r.peak)} |`)
  }
  console.log(`| rows added (expected ${expected.toLocaleString('en')}) | ${r.job.rows_applied.toLocaleString('en')} |`)
  console.log(`| consent events with source import / people they name / subscriptions | ${check!.events.toLocaleString('en')} / ${check!.people.toLocaleString('en')} / ${check!.subscriptions.toLocaleString('en')} |`)
  console.log(`| suppressed, objected or erased addresses added | ${check!.kept_out_added} |`)
  console.log(`| lists re-opened for people who left | ${left!.reopened} |`)
}

try {
  await main()
} finally {
  for (const fn of teardowns.reverse()) await fn()
}
