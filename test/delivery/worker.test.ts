// The delivery worker around the send path: the outbox on the embedded
// default, transactional mail, a dead worker's lease taken over, workers
// inside the service process, and `npm run worker` as a process of its own.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { simpleParser } from 'mailparser'
import t, { type Test } from 'tap'
import { claimDue } from '../../src/delivery/queries.js'
import { LEASE_MS } from '../../src/delivery/worker.js'
import { createList, putCourse, putEnrollment, uniqueEmail } from '../factories.js'
import { build, freshDatabase, processEnv, testConfig, TestClock, type TestApp } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { scanProcessLogs } from '../support/log-scanner.js'
import { freePort } from '../support/free-port.js'
import { entryPoint } from '../support/entry-point.js'

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-delivery-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

let counter = 0
/** A person enrolled in a course that runs now, and a course message to them. */
async function courseSend(app: TestApp) {
  const courseId = `course-${++counter}`
  await putCourse(app, courseId)
  const email = uniqueEmail('student')
  await putEnrollment(app, `enr-${counter}`, { courseId, contact: { email } })
  const res = await app.as('course-system')({
    method: 'POST',
    url: '/v1/sends',
    payload: { template: 'course-message', kind: 'course', courseId, email, data: { name: 'Kari', courseName: 'Yoga', message: 'Hei.' }, idempotencyKey: `k-${counter}` },
  })
  if (res.statusCode !== 202) throw new Error(`send: ${res.statusCode} ${res.body}`)
  return { email, messageId: res.json().messageId as string }
}

t.test('on the embedded default, messages are written as .eml files to DATA_DIR/outbox', async (t) => {
  const dataDir = tempDir(t)
  const app = await build(t, { config: { dataDir, smtpUrl: undefined } })
  const { email, messageId } = await courseSend(app)
  t.equal(await app.app.deliveryWorker.runOnce(), 1)
  const files = readdirSync(join(dataDir, 'outbox'))
  t.equal(files.length, 1)
  t.match(files[0], /^[0-9a-f-]{36}\.eml$/)
  const parsed = await simpleParser(readFileSync(join(dataDir, 'outbox', files[0]!)))
  t.equal(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]?.address : undefined, email)
  t.equal(parsed.subject, 'Nytt fra Yoga')
  const message = (await app.as('staff')({ method: 'GET', url: `/v1/messages/${messageId}` })).json()
  t.equal(parsed.messageId, message.headerMessageId)
  t.match(message, { status: 'sent', events: [{ type: 'accepted', reply: `outbox ${files[0]}` }] })
})

t.test('a receipt from a transactional template reaches an address with no contact, without list headers', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url, mailFrom: 'Kurs AS <post@example.no>', courseMailFrom: 'Kurs AS <kurs@example.no>' } })
  const receipts = await createList(app, { kind: 'transactional', basis: 'contract', name: 'Kvitteringer' })
  const template = await app.as('admin')({
    method: 'POST',
    url: '/v1/templates',
    payload: {
      name: 'receipt',
      kind: 'transactional',
      subjects: { nb: 'Kvittering for {{item}}' },
      bodies: { nb: '<mj-section><mj-column><mj-text>Du har betalt {{amount}} kr for {{item}}.</mj-text></mj-column></mj-section>' },
    },
  })
  t.equal(template.statusCode, 201)
  const email = uniqueEmail('buyer')
  const res = await app.as('course-system')({
    method: 'POST',
    url: '/v1/sends',
    payload: { template: 'receipt', kind: 'transactional', listId: receipts.id, email, data: { item: 'Yoga 1', amount: 1200 }, idempotencyKey: 'receipt-1' },
  })
  t.equal(res.statusCode, 202)
  t.match(res.json().decision, { allowed: true, basis: 'contract', evidence: { type: 'list', id: receipts.id }, contactId: null })
  await app.app.deliveryWorker.runOnce()
  const [mail] = await sink.waitFor(1)
  t.same(mail!.envelope.to, [email])
  t.equal(mail!.parsed.subject, 'Kvittering for Yoga 1')
  t.same(mail!.parsed.from?.value, [{ name: 'Kurs AS', address: 'post@example.no' }])
  t.notOk(mail!.parsed.headerLines.some((h) => h.key.startsWith('list-')), 'no List-* headers on transactional mail')
  t.match(mail!.parsed.text, /Du har betalt 1200 kr for Yoga 1\./)
})

t.test('a worker that dies leaves its batch to be taken over when the lease runs out', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url } })
  const { messageId } = await courseSend(app)
  // Another worker claims the message and is never heard from again.
  const now = app.clock.now()
  const taken = await app.app.db.transaction((tx) =>
    claimDue(tx, {
      owner: 'dead-worker',
      now,
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      limit: 10,
      sendingCampaigns: app.app.services.campaigns.sendingCampaignIds(),
    }),
  )
  t.same(taken, [{ messageId, attempts: 1, campaignId: null, handedOverAt: null }])
  t.equal(await app.app.deliveryWorker.runOnce(), 0, 'not while the lease holds')
  app.clock.advance(LEASE_MS + 1000)
  t.equal(await app.app.deliveryWorker.runOnce(), 1, 'taken over once it ran out')
  await sink.waitFor(1)
  const message = (await app.as('staff')({ method: 'GET', url: `/v1/messages/${messageId}` })).json()
  t.match(message, { status: 'sent', events: [{ type: 'accepted', attempt: 2 }] })
})

t.test('in the service process, workers deliver by themselves and stop cleanly with the app', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url, runWorkers: true } })
  const { email } = await courseSend(app)
  const [mail] = await sink.waitFor(1)
  t.same(mail!.envelope.to, [email])
  await app.app.close()
  t.pass('closed with the worker running')
})

t.test('npm run worker needs DATABASE_URL: on the embedded database the workers run inside npm start', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: tempDir(t) }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const result = spawnSync(process.execPath, entryPoint('src/cli/worker.ts'), { env, encoding: 'utf8', timeout: 60_000 })
  t.equal(result.status, 1)
  t.match(result.stderr, /npm run worker needs DATABASE_URL/)
})

const onPostgres = process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (TEST_DATABASE_URL)'
t.test('npm run worker delivers what the service queued, from a process of its own', { skip: onPostgres }, async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const database = await freshDatabase(t)
  if (database.engine !== 'postgres') throw new Error('unreachable')
  // The worker decides on the real clock: the service queues on it too.
  const clock = new TestClock(new Date())
  const app = await build(t, { config: { smtpUrl: sink.url }, clock, database })
  const { email } = await courseSend(app)

  const port = await freePort()
  // At info, its log checked line by line as the test apps' are (support/log-scanner.ts).
  const env = processEnv({ databaseUrl: database.url, smtpUrl: sink.url, dataDir: tempDir(t), WORKER_PORT: String(port), LOG_LEVEL: 'info' })
  const worker = spawn(process.execPath, entryPoint('src/cli/worker.ts'), { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const workerLog = scanProcessLogs(t, app.config, worker.stdout, { keepLines: true })
  let stderr = ''
  worker.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((done) => worker.on('exit', (code) => done(code)))
  t.teardown(() => void worker.kill('SIGKILL'))
  const [mail] = await sink.waitFor(1, 60_000)
  t.same(mail!.envelope.to, [email])

  // The worker answers the operator's routes on its own port, and nothing of the API.
  const base = `http://127.0.0.1:${port}`
  const ready = await fetch(`${base}/ready`)
  t.equal(ready.status, 200, 'ready: its delivery loop runs')
  const metrics = await (await fetch(`${base}/metrics`)).text()
  t.match(metrics, /^samtykke_messages_total\{[^}]*outcome="sent"[^}]*\} 1$/m, 'its own send is counted where it happened')
  t.equal((await fetch(`${base}/v1/lists`)).status, 404, 'no API routes in a worker')
  worker.kill('SIGTERM')
  t.equal(await exited, 0, stderr)
  t.ok(workerLog.lines.some((line) => line.includes('"msg":"delivery"')), 'its log, with the delivery in it, was read and checked')
})

/** A port nobody listens on now: the worker is told it, so the test knows where to ask. */
