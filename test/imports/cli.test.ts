// `npm run import`: on the embedded database with the service stopped (it
// opens the database itself) and running (it uploads to the service's API);
// usage errors and refusals; and the real script in processes of its own on
// PostgreSQL — its report and progress, a kill -9 mid-import (the job is
// found interrupted once its lease runs out, and importing again adds the
// rest, once each), and Ctrl-C (interrupted at once).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { selectRows } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { importCommand, progressReporter } from '../../src/cli/import-command.js'
import { describeReport } from '../../src/cli/import-output.js'
import { loadConfig, type Config } from '../../src/config.js'
import { LEASE_MS } from '../../src/imports/service.js'
import { build, freshDatabase, preparedDataDir, processEnv, signTestToken, testLogger, type TestApp } from '../helper.js'
import { createList } from '../factories.js'
import { fixture, NOTICE, registerCsvPeople } from './support.js'
import { entryPoint } from '../support/entry-point.js'

t.setTimeout(6 * 60_000)
const onPostgres = process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (TEST_DATABASE_URL): the command runs in a process of its own'

function folder(t: Test, prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** An embedded instance whose database is prepared already. */
async function configFor(t: Test): Promise<Config> {
  const dataDir = await preparedDataDir(t, 'samtykke-import-cli-')
  return { ...loadConfig({ JWT_SECRET: 'the-cli-secret-is-at-least-32-characters-long', DATA_DIR: dataDir }), logLevel: 'silent', runJobs: false, runWorkers: false }
}

/** What the command wrote to stderr, as a stream that is not a terminal. */
function capture() {
  const text: string[] = []
  const stream = { write: (s: string) => text.push(s) }
  return { output: progressReporter(stream), text: () => text.join('') }
}

/** A list and the notice in an app's database, through its API. */
async function listAndNotice(app: Awaited<ReturnType<typeof buildApp>>, config: Config) {
  const auth = { authorization: `Bearer ${signTestToken('staff', { config })}` }
  const list = await app.inject({ method: 'POST', url: '/v1/lists', headers: auth, payload: { slug: 'nyhetsbrev', name: 'Nyhetsbrev', kind: 'newsletter' } })
  await app.inject({ method: 'POST', url: '/v1/notices', headers: auth, payload: NOTICE })
  return list.json() as { id: string; slug: string }
}

const args = (file: string, ...more: string[]) => [file, '--list', 'nyhetsbrev', '--notice-key', NOTICE.key, '--notice-version', '1', ...more]

t.test('embedded, the service stopped: the command opens the database itself', async (t) => {
  const config = await configFor(t)
  let app = await buildApp(config, { logger: false })
  await listAndNotice(app, config)
  await app.close()
  const file = join(folder(t, 'samtykke-csv-'), 'mailchimp.csv')
  writeFileSync(file, fixture('mailchimp.csv'))
  registerCsvPeople(fixture('mailchimp.csv'))

  const { output, text } = capture()
  const result = await importCommand(args(file), config, output)
  t.equal(result.status, 0, text())
  t.match(result.stdout, /^Import [0-9a-f-]{36} completed\n {2}rows read: 3; added: 3; contacts created: 3\n$/)
  t.match(text(), /import: 100% 3 rows read, 3 applied/)

  app = await buildApp(config, { logger: false })
  t.teardown(() => app.close())
  const [row] = await selectRows<{ n: number }>(app.db, sql`select count(*)::int as n from consent_events where source = 'import'`)
  t.equal(row!.n, 3)
  const [job] = await selectRows<{ created_by_id: string }>(app.db, sql`select created_by_id from import_jobs`)
  t.match(job!.created_by_id, /^cli:/, 'the import names who ran it')
})

t.test('embedded, the service running: the command uploads the file to it and follows the job', async (t) => {
  const config = await configFor(t)
  const app = await buildApp(config, { logger: testLogger(t, { ...config, logLevel: 'info' }).logger })
  t.teardown(() => app.close())
  await listAndNotice(app, config)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const running = { ...config, port: (app.server.address() as { port: number }).port }
  const file = join(folder(t, 'samtykke-csv-'), 'listmonk.csv')
  writeFileSync(file, fixture('listmonk.csv'))
  registerCsvPeople(fixture('listmonk.csv'))

  const { output, text } = capture()
  const result = await importCommand(args(file, '--dry-run'), running, output)
  t.equal(result.status, 0, text())
  t.match(text(), /in use by the running service: uploading the file to it/)
  t.match(result.stdout, /completed \(dry run: nothing was written\)\n {2}rows read: 3; would be added: 2; contacts created: 0\n {2}kept out: not_subscribed_in_source 1\nRows not applied \(line: code, detail\):\n {2}3: not_subscribed_in_source, blocklisted\n$/)
  const [row] = await selectRows<{ n: number; by: string }>(app.db, sql`select count(*)::int as n, min(created_by_name) as by from import_jobs`)
  t.same(row, { n: 1, by: 'npm run import' })

  const refused = capture()
  const unknownList = await importCommand([file, '--list', 'finnes-ikke', '--notice-key', NOTICE.key, '--notice-version', '1'], running, refused.output)
  t.equal(unknownList.status, 1)
  t.match(refused.text(), /Refused \(list_not_found\): There is no list "finnes-ikke"/)
})

t.test('usage errors exit 2 and say how to call it', async (t) => {
  const config = await configFor(t)
  const file = join(folder(t, 'samtykke-csv-'), 'a.csv')
  writeFileSync(file, 'email\n')
  for (const [what, argv, message] of [
    ['no file', ['--list', 'x', '--notice-key', 'k', '--notice-version', '1'], /Name the CSV file/],
    ['a file that is not there', ['/nonexistent/file.csv', '--notice-key', 'k', '--notice-version', '1'], /is not a file/],
    ['no notice', [file, '--list', 'x'], /--notice-key is required/],
    ['a bad version', [file, '--notice-key', 'k', '--notice-version', 'v1'], /--notice-version must be a version number/],
    ['a bad --map', [file, '--notice-key', 'k', '--notice-version', '1', '--map', 'Epost'], /--map "Epost" is not Header=field/],
    ['an unknown option', [file, '--bogus'], /Unknown option/],
  ] as const) {
    const { output, text } = capture()
    const result = await importCommand([...argv], config, output)
    t.equal(result.status, 2, what)
    t.match(text(), message, what)
    t.match(text(), /usage: npm run import -- <file\.csv>/, what)
  }
})

t.test('progress: a bar redrawn in place on a terminal; the report names lines and codes only', async (t) => {
  const text: string[] = []
  let clock = 0
  const bar = progressReporter({ write: (s: string) => text.push(s), isTTY: true }, () => clock)
  bar.progress({ phase: 'applying', rowsRead: 2000, rowsApplied: 1990, bytesRead: 50, bytesTotal: 100 })
  clock += 50
  bar.progress({ phase: 'applying', rowsRead: 3000, rowsApplied: 2990, bytesRead: 75, bytesTotal: 100 })
  bar.done()
  t.equal(text[0], '\r[###############---------------] 50% 2,000 rows read, 1,990 applied\x1b[K')
  t.equal(text[1], '\r[######################--------] 75% 3,000 rows read, 2,990 applied\x1b[K', 'the last state is drawn at the end')
  t.equal(text.at(-1), '\n')
  const report = describeReport(
    { id: 'x', status: 'rejected', dryRun: false, rowsRead: 3, rowsApplied: 0, contactsCreated: 0, counts: { invalid_email: 1, erased: 1 }, error: null },
    [{ line: 2, code: 'invalid_email', detail: 'the domain is not a valid domain name' }],
    true,
  )
  t.match(report, /rejected: all or nothing.*\n.*\n {2}kept out: erased 1\n {2}invalid: invalid_email 1\nRows not applied.*\n {2}2: invalid_email, the domain is not a valid domain name\n {2}… more: GET \/v1\/imports\/x\/rows\n$/)
})

/** A world on PostgreSQL for the command's own processes: the database, a test app on it, a list and the notice. */
async function postgresWorld(t: Test) {
  const database = await freshDatabase(t)
  if (database.engine !== 'postgres') throw new Error('unreachable')
  let now = new Date()
  // The command's processes run on the real clock; this app does too, until a test moves it past a lease.
  const clock = { now: () => new Date(Math.max(now.getTime(), Date.now())), set: (at: Date) => (now = at) }
  const app = await build(t, { database, clock: clock as unknown as TestApp['clock'] })
  const list = await createList(app, { slug: 'nyhetsbrev', kind: 'newsletter', name: 'Nyhetsbrev' })
  await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: NOTICE })
  const dir = folder(t, 'samtykke-import-proc-')
  const run = (argv: string[]) => {
    const child = spawn(process.execPath, [...entryPoint('src/cli/import.ts'), ...argv], {
      env: processEnv({ databaseUrl: database.url, smtpUrl: 'smtp://127.0.0.1:9', dataDir: dir }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) =>
      child.on('exit', (status, signal) => done({ status, signal, stdout, stderr })),
    )
    return { child, exited }
  }
  const bigFile = (rows: number) => {
    const file = join(dir, `big-${rows}.csv`)
    const lines = ['email,name,subscribed_at']
    for (let i = 0; i < rows; i++) lines.push(`stor.${i}@example.no,,2024-01-01 00:00:00`)
    writeFileSync(file, lines.join('\n'))
    return file
  }
  const job = async () => (await selectRows<{ id: string; status: string; rows_read: number; rows_applied: number }>(app.app.db, sql`select * from import_jobs order by created_at desc limit 1`))[0]
  return { app, list, dir, run, bigFile, job, clock }
}

t.test('the real script on PostgreSQL: the report on stdout, plain progress lines on stderr, exit status', { skip: onPostgres }, async (t) => {
  const { app, dir, run } = await postgresWorld(t)
  const file = join(dir, 'mailtrain.csv')
  writeFileSync(file, fixture('mailtrain.csv'))
  registerCsvPeople(fixture('mailtrain.csv'))
  const done = await run(args(file)).exited
  t.equal(done.status, 0, done.stderr)
  t.match(done.stdout, /completed\n {2}rows read: 3; added: 2; contacts created: 2\n {2}kept out: not_subscribed_in_source 1\n/)
  t.match(done.stderr, /(^|\n)import: 100% 3 rows read, 2 applied\n$/, 'a plain line, the last one when it ends')
  t.notMatch(done.stderr, /\r|\x1b/, 'no bar drawing on a pipe')
  const [row] = await selectRows<{ n: number }>(app.app.db, sql`select count(*)::int as n from subscriptions where source = 'import'`)
  t.equal(row!.n, 2)

  const bad = join(dir, 'bad.csv')
  writeFileSync(bad, 'email\nok.en@example.no\nikke-en-adresse\n')
  const rejected = await run(args(bad, '--all-or-nothing')).exited
  t.equal(rejected.status, 1)
  t.match(rejected.stdout, /rejected: all or nothing, and some rows are invalid; no row was applied\n[\s\S]*3: invalid_email/)
})

t.test('a kill -9 mid-import: found interrupted once its lease ran out; importing again adds the rest, once each', { skip: onPostgres }, async (t) => {
  const { app, run, bigFile, job, clock } = await postgresWorld(t)
  const file = bigFile(60_000)
  const { child, exited } = run(args(file))
  for (let i = 0; i < 600 && !((await job())?.rows_applied ?? 0); i++) await new Promise((r) => setTimeout(r, 50))
  child.kill('SIGKILL')
  await exited
  const killed = (await job())!
  t.equal(killed.status, 'running', 'nothing said it stopped')
  t.ok(killed.rows_applied > 0 && killed.rows_applied < 60_000, `part of the file was applied (${killed.rows_applied})`)

  clock.set(new Date(Date.now() + LEASE_MS + 1000))
  const seen = (await app.as('staff')({ method: 'GET', url: `/v1/imports/${killed.id}` })).json()
  t.match(seen.import, { status: 'interrupted', errorCode: 'import_interrupted' })
  const [left] = await selectRows<{ n: number }>(app.app.db, sql`select count(*)::int as n from import_seen_rows`)
  t.equal(left!.n, 0, 'its bookkeeping is emptied')

  clock.set(new Date(0))
  const again = await run(args(file)).exited
  t.equal(again.status, 0, again.stderr)
  t.match(again.stdout, new RegExp(`added: ${(60_000 - killed.rows_applied).toLocaleString('en')};`))
  const [counts] = await selectRows<{ events: number; people: number }>(
    app.app.db,
    sql`select count(*)::int as events, count(distinct contact_id)::int as people from consent_events where source = 'import'`,
  )
  t.same(counts, { events: 60_000, people: 60_000 }, 'one consent event per person, none twice')
})

t.test('Ctrl-C mid-import: it stops after the batch in hand and says it was interrupted', { skip: onPostgres }, async (t) => {
  const { run, bigFile, job } = await postgresWorld(t)
  const { child, exited } = run(args(bigFile(60_000)))
  for (let i = 0; i < 600 && !((await job())?.rows_applied ?? 0); i++) await new Promise((r) => setTimeout(r, 50))
  child.kill('SIGINT')
  const done = await exited
  t.equal(done.status, 1)
  t.match(done.stdout, /interrupted\n {2}The process running the import stopped before it finished/)
  t.match((await job())!, { status: 'interrupted' })
})
