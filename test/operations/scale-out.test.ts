// Scale-out with real processes, on PostgreSQL: two delivery workers
// (`npm run worker`) and two API processes (src/server.ts, RUN_WORKERS=false)
// against one database, one campaign to a few hundred members, and an
// in-process SMTP server slowed a little so the campaign takes seconds. Each
// worker names itself in EHLO (its own SMTP_URL's ?name=), so the server sees
// who sent what. Shown: every allowed member got the campaign exactly once;
// both workers sent; a one-click unsubscribe through either API process, in
// the middle of the send, stops that person's mail from the moment it is
// answered (and the next campaign leaves them out); and the request limits,
// counted in PostgreSQL, hold across the two API processes over real HTTP.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { selectRows } from '../../db/client.js'
import { consentEvents, contacts, subscriptions } from '../../db/schema/index.js'
import { storedAddressHash } from '../../src/lib/email.js'
import { signLink } from '../../src/lib/link-tokens.js'
import { createList } from '../factories.js'
import { build, freshDatabase, LINK_SECRET, PEPPER, processEnv, signTestToken, type TestApp } from '../helper.js'
import { scanProcessLogs } from '../support/log-scanner.js'
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js'
import { entryPoint } from '../support/entry-point.js'

const onPostgres = process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (TEST_DATABASE_URL): processes of their own share one database'

const MEMBERS = 400
/** Unsubscribed through the API processes while the first campaign sends. */
const LEAVING = 8
/** Per worker: with the sink's delay, the campaign takes a few seconds, so both workers and the unsubscribes meet it mid-send. */
const SMTP_RATE_PER_SECOND = 60
/** The API processes' limits: low, to be reached in a few requests split between them. */
const TOKEN_LIMIT = 6
const AUTH_FAILURE_LIMIT = 3

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

interface Started {
  child: ChildProcess
  /** Resolves with the first log line whose msg matches. */
  logged(pattern: RegExp): Promise<string>
}

/** Starts a process of the service and reads its log lines (checked for personal data, as the suite's own). */
function startProcess(t: Test, app: TestApp, script: string, env: NodeJS.ProcessEnv, children: Set<ChildProcess>): Started {
  const child = spawn(process.execPath, entryPoint(script), { env, stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  scanProcessLogs(t, app.config, child.stdout!)
  const messages: string[] = []
  const waiting = new Set<() => void>()
  let partial = ''
  child.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      try {
        messages.push(String((JSON.parse(line) as { msg?: unknown }).msg ?? ''))
      } catch {
        messages.push(line)
      }
    }
    for (const check of waiting) check()
  })
  return {
    child,
    logged: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find((m) => pattern.test(m))
          if (found === undefined) return
          waiting.delete(check)
          resolve(found)
        }
        child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before logging ${pattern}`)))
        waiting.add(check)
        check()
      }),
  }
}

/** A list of MEMBERS people subscribed with consent, and the staff app in this process (no workers, counters in memory). */
async function seedList(app: TestApp) {
  const list = await createList(app, { kind: 'newsletter', name: 'Skalering' })
  const people = await app.app.db
    .insert(contacts)
    .values(Array.from({ length: MEMBERS }, (_, i) => ({ email: `scale.${i}@example.no`, name: `Person ${i}` })))
    .returning({ id: contacts.id, email: contacts.email })
  await app.app.db.insert(subscriptions).values(people.map((p) => ({ contactId: p.id, listId: list.id, status: 'active' as const, source: 'form' as const })))
  const past = new Date(Date.now() - 60_000)
  await app.app.db.insert(consentEvents).values(
    people.map((p) => ({
      contactId: p.id,
      addressHash: storedAddressHash(p.email, PEPPER),
      listId: list.id,
      purpose: list.purpose,
      type: 'granted' as const,
      basis: 'consent' as const,
      source: 'form' as const,
      occurredAt: past,
      actorId: 'test',
    })),
  )
  return { list, people }
}

async function startCampaign(app: TestApp, listId: string, headline: string): Promise<string> {
  const created = await app.as('staff')({ method: 'POST', url: '/v1/campaigns', payload: { name: headline, listId, template: 'newsletter', data: { headline, body: 'Tekst' } } })
  const id = created.json().id as string
  const started = await app.as('staff')({ method: 'POST', url: `/v1/campaigns/${id}/start` })
  if (started.statusCode !== 200) throw new Error(`start: ${started.statusCode} ${started.body}`)
  return id
}

async function campaignOf(app: TestApp, id: string) {
  return (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${id}` })).json()
}

/** How many messages with this subject each address received. */
function receivedBy(sink: SmtpSink, subject: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const m of sink.received) if (m.parsed.subject === subject) for (const to of m.envelope.to) counts.set(to, (counts.get(to) ?? 0) + 1)
  return counts
}

/** Members of the campaign whose message has not reached the server and is in no worker's hands (not claimed, or not fanned out yet). */
async function notYetSent(app: TestApp, sink: SmtpSink, campaignId: string, people: { id: string; email: string }[]) {
  const arrived = new Set(sink.received.flatMap((m) => m.envelope.to))
  const claimed = await selectRows<{ contact_id: string }>(
    app.app.db,
    sql`select m.contact_id from messages m left join delivery_queue q on q.message_id = m.id
        where m.campaign_id = ${campaignId}::uuid and (q.message_id is null or q.lease_owner is not null)`,
  )
  const taken = new Set(claimed.map((r) => r.contact_id))
  return people.filter((p) => !arrived.has(p.email) && !taken.has(p.id))
}

interface Cluster {
  workers: Started[]
  apis: Started[]
  /** The API processes' addresses, e.g. http://127.0.0.1:PORT. */
  urls: string[]
}

/** Two workers, each greeting the server with its own name, and two API processes with low limits counted in PostgreSQL; resolves when all four are up. */
async function startCluster(t: Test, app: TestApp, sink: SmtpSink, databaseUrl: string): Promise<Cluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'samtykke-scale-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const children = new Set<ChildProcess>()
  t.teardown(() => {
    for (const child of children) child.kill('SIGKILL')
  })
  const common = { databaseUrl, dataDir, LOG_LEVEL: 'info' }
  const workers = ['worker-a', 'worker-b'].map((name) =>
    startProcess(t, app, 'src/cli/worker.ts', processEnv({
      ...common,
      // The EHLO name this worker greets the server with: how the server tells the workers apart.
      smtpUrl: `${sink.url}/?name=${name}`,
      SMTP_RATE_PER_SECOND: String(SMTP_RATE_PER_SECOND),
      SMTP_MAX_CONNECTIONS: '2',
    }), children),
  )
  const apis = [0, 1].map(() =>
    startProcess(t, app, 'src/server.ts', processEnv({
      ...common,
      smtpUrl: sink.url,
      PORT: '0',
      RUN_WORKERS: 'false',
      RUN_JOBS: 'false',
      RATE_LIMIT_STORE: 'postgres',
      RATE_LIMIT_PER_MINUTE: String(TOKEN_LIMIT),
      AUTH_FAILURE_LIMIT_PER_MINUTE: String(AUTH_FAILURE_LIMIT),
    }), children),
  )
  await Promise.all(workers.map((w) => w.logged(/^delivery worker running$/)))
  const listening = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/
  const urls = await Promise.all(apis.map(async (api) => listening.exec(await api.logged(listening))![1]!))
  return { workers, apis, urls }
}

async function stopCluster(cluster: Cluster) {
  const all = [...cluster.workers, ...cluster.apis].map((p) => p.child)
  for (const child of all) child.kill('SIGTERM')
  await Promise.all(all.map((child) => new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)))))
}

/**
 * One-click unsubscribes (RFC 8058) for these people, all at once, half
 * through each API process, as mailbox providers post them. Returns how many
 * messages the server had when each was answered: the server records a
 * message before it answers the sender, and an unsubscribe waits for a
 * handover to that person under way, so a message to them after that mark
 * went out after the answer.
 */
async function unsubscribeThroughEither(t: Test, cluster: Cluster, sink: SmtpSink, listId: string, people: { id: string; email: string }[]) {
  const answeredAt = new Map<string, number>()
  const answers = await Promise.all(
    people.map(async (person, i) => {
      const token = signLink([{ id: 'test', secret: LINK_SECRET }], 'unsubscribe', { contactId: person.id, listId })
      const res = await fetch(`${cluster.urls[i % 2]}/unsubscribe/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
        redirect: 'manual',
      })
      answeredAt.set(person.email, sink.received.length)
      return res.status
    }),
  )
  t.same(answers, Array(people.length).fill(200), 'every one-click unsubscribe answered 200, through either API process')
  return answeredAt
}

/** Each allowed member once, nobody twice, the campaign's counts what the server got, and both workers sent a share. */
async function checkFirstCampaign(t: Test, app: TestApp, sink: SmtpSink, campaignId: string, staying: { email: string }[]) {
  const received = receivedBy(sink, 'Første')
  t.same(staying.filter((p) => received.get(p.email) !== 1).map((p) => p.email), [], 'every member who stayed got the first campaign exactly once')
  t.same([...received.values()].filter((n) => n > 1), [], 'nobody got it twice')
  const counts = (await campaignOf(app, campaignId)).counts
  t.equal(counts.sent, received.size, "the campaign's sent count is what the server received")
  t.equal(counts.sent + counts.blocked, MEMBERS, 'each member either sent or blocked (at delivery, after leaving)')
  t.equal(counts.possibleDuplicates, 0)

  const byWorker = new Map<string, number>()
  for (const m of sink.received) byWorker.set(m.client, (byWorker.get(m.client) ?? 0) + 1)
  t.same([...byWorker.keys()].sort(), ['worker-a', 'worker-b'], 'every message came from one of the two workers (the API processes send nothing)')
  for (const [name, n] of byWorker) t.ok(n >= MEMBERS / 10, `${name} sent a fair share (${n} of ${sink.received.length})`)
  return received
}

/** Over HTTP: one token's requests, and one address's failed authentications, split between the API processes, are counted together. */
async function checkSharedLimits(t: Test, app: TestApp, urls: string[]) {
  const get = (url: string, bearer: string) => fetch(`${url}/v1/contacts?limit=1`, { headers: { authorization: `Bearer ${bearer}` } })
  const token = signTestToken('staff', { config: app.config })
  const statuses: number[] = []
  for (let i = 0; i < TOKEN_LIMIT; i++) statuses.push((await get(urls[i % 2]!, token)).status)
  t.same(statuses, Array(TOKEN_LIMIT).fill(200), `${TOKEN_LIMIT} requests, split between the processes`)
  for (const url of urls) {
    const refused = await get(url, token)
    t.equal(refused.status, 429, 'then each process refuses the token')
    t.equal(((await refused.json()) as { code: string }).code, 'rate_limited')
  }
  const forged = signTestToken('admin', { config: app.config, secret: 'a-guessed-secret-a-guessed-secret-a-guessed' })
  for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) t.equal((await get(urls[i % 2]!, forged)).status, 401, `failure ${i + 1}`)
  t.equal((await get(urls[AUTH_FAILURE_LIMIT % 2]!, forged)).status, 429, 'the failure past the limit is refused')
  for (const url of urls) t.equal((await get(url, signTestToken('staff', { config: app.config }))).status, 429, 'a good token from the address is refused by each process')
}

t.test('two workers and two API processes on one database: once each, both send, an unsubscribe through either stops the next message, shared limits', { skip: onPostgres, timeout: 240_000 }, async (t) => {
  const sink = await startSmtpSink({ delayMs: 15 })
  t.teardown(() => sink.close())
  const database = await freshDatabase(t)
  if (database.engine !== 'postgres') throw new Error('unreachable')
  // The processes decide on the real clock; so does this one.
  const app = await build(t, { config: { smtpUrl: sink.url }, clock: { now: () => new Date() } as TestApp['clock'], database })
  const { list, people } = await seedList(app)
  const cluster = await startCluster(t, app, sink, database.url)
  t.not(cluster.urls[0], cluster.urls[1], 'two API processes, each on its own port')

  // The first campaign; in the middle of it, people whose message has not gone yet unsubscribe through one API process or the other.
  const first = await startCampaign(app, list.id, 'Første')
  await waitUntil('a third of the campaign to arrive', () => sink.received.length >= MEMBERS / 3)
  const leaving = (await notYetSent(app, sink, first, people)).slice(-LEAVING)
  t.equal(leaving.length, LEAVING, `${LEAVING} members whose message has not gone yet`)
  const answeredAt = await unsubscribeThroughEither(t, cluster, sink, list.id, leaving)
  t.equal((await campaignOf(app, first)).status, 'sending', 'the unsubscribes came while the campaign was still sending')

  await waitUntil('the first campaign to finish', async () => (await campaignOf(app, first)).status === 'finished')
  const late = leaving.filter((p) => sink.received.slice(answeredAt.get(p.email)).some((m) => m.envelope.to.includes(p.email)))
  t.same(late.map((p) => p.email), [], 'nobody received anything after their unsubscribe was answered')
  const leavingEmails = new Set(leaving.map((p) => p.email))
  const staying = people.filter((p) => !leavingEmails.has(p.email))
  const firstReceived = await checkFirstCampaign(t, app, sink, first, staying)
  const stoppedBeforeSending = leaving.filter((p) => !firstReceived.has(p.email))
  t.ok(stoppedBeforeSending.length > 0, `the unsubscribes stopped messages still to go (${stoppedBeforeSending.length} of ${LEAVING})`)

  // The next campaign leaves out whoever unsubscribed, and still goes once to everyone else.
  const second = await startCampaign(app, list.id, 'Andre')
  await waitUntil('the second campaign to finish', async () => (await campaignOf(app, second)).status === 'finished')
  const secondReceived = receivedBy(sink, 'Andre')
  t.same(leaving.filter((p) => secondReceived.has(p.email)).map((p) => p.email), [], 'the next campaign reached nobody who had left')
  t.same(staying.filter((p) => secondReceived.get(p.email) !== 1).map((p) => p.email), [], 'and everyone else exactly once')

  await checkSharedLimits(t, app, cluster.urls)
  await stopCluster(cluster)
})
