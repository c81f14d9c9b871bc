// The world of the tests with real processes on PostgreSQL
// (test/campaigns/crash.test.ts, test/operations/shutdown.test.ts): a
// newsletter list with allowed, unsubscribed and suppressed members, a
// campaign to it (created, not started), an in-process SMTP server that
// counts per recipient, and a way to start workers or whole services as
// processes of their own on the same database.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { consentEvents, contacts, subscriptions, suppressions } from '../../db/schema/index.js'
import { storedAddressHash } from '../../src/lib/email.js'
import { createList } from '../factories.js'
import { build, freshDatabase, PEPPER, processEnv, type TestApp } from '../helper.js'
import { startSmtpSink, type SmtpSink } from './smtp-sink.js'
import { entryPoint } from './entry-point.js'

export const onPostgres = process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (TEST_DATABASE_URL): workers in processes of their own share one database'

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

export interface CampaignWorld {
  app: TestApp
  sink: SmtpSink
  databaseUrl: string
  campaignId: string
  /** Member contact id → address, of those the campaign may reach and those it may not. */
  allowed: Map<string, string>
  blocked: Map<string, string>
  /** Starts a worker (`npm run worker`) or a whole service on the world's database and SMTP server; killed at teardown. */
  spawnProcess(kind: 'worker' | 'service', env?: Record<string, string>): ChildProcess
}

export interface WorldOptions {
  /** The list's and the campaign's name; also the members' addresses' prefix. */
  name: string
  allowed: number
  unsubscribed: number
  suppressed: number
  sinkDelayMs?: number
  /** The processes' own settings, by kind (added to what every process gets). */
  processSettings(kind: 'worker' | 'service'): Record<string, string>
}

export async function setUpCampaignWorld(t: Test, options: WorldOptions): Promise<CampaignWorld> {
  const sink = await startSmtpSink({ delayMs: options.sinkDelayMs ?? 20 })
  t.teardown(() => sink.close())
  const database = await freshDatabase(t)
  if (database.engine !== 'postgres') throw new Error('unreachable')
  // The processes decide on the real clock; so does this one.
  const clock = { now: () => new Date() }
  const app = await build(t, { config: { smtpUrl: sink.url }, clock: clock as TestApp['clock'], database })
  const api = app.app

  const list = await createList(app, { kind: 'newsletter', name: options.name })
  const total = options.allowed + options.unsubscribed + options.suppressed
  const prefix = options.name.toLowerCase()
  const people = await api.db
    .insert(contacts)
    .values(Array.from({ length: total }, (_, i) => ({ email: `${prefix}.${i}@example.no`, name: `Person ${i}` })))
    .returning()
  const allowed = new Map<string, string>()
  const blocked = new Map<string, string>()
  const past = new Date(Date.now() - 60_000)
  for (const [i, person] of people.entries()) {
    const unsubscribed = i >= options.allowed && i < options.allowed + options.unsubscribed
    const suppressed = i >= options.allowed + options.unsubscribed
    ;(unsubscribed || suppressed ? blocked : allowed).set(person.id, person.email)
    await api.db.insert(subscriptions).values({ contactId: person.id, listId: list.id, status: unsubscribed ? 'unsubscribed' : 'active', source: 'form' })
    const addressHash = storedAddressHash(person.email, PEPPER)
    await api.db.insert(consentEvents).values({ contactId: person.id, addressHash, listId: list.id, purpose: list.purpose, type: 'granted', basis: 'consent', source: 'form', occurredAt: past, actorId: 'test' })
    if (suppressed) {
      await api.db.insert(suppressions).values({ contactId: person.id, addressHash, scope: 'all-mail', reason: 'manual', createdAt: past, createdById: 'test' })
    }
  }

  const created = await app.as('staff')({
    method: 'POST',
    url: '/v1/campaigns',
    payload: { name: options.name, listId: list.id, template: 'newsletter', data: { headline: 'Hei', body: 'Tekst' } },
  })
  const campaignId = created.json().id as string
  const dataDir = mkdtempSync(join(tmpdir(), `samtykke-${prefix}-`))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))

  const children = new Set<ChildProcess>()
  t.teardown(() => {
    for (const child of children) child.kill('SIGKILL')
  })
  return {
    app,
    sink,
    databaseUrl: database.url,
    campaignId,
    allowed,
    blocked,
    spawnProcess(kind, env = {}) {
      const environment = processEnv({
        databaseUrl: database.url,
        smtpUrl: sink.url,
        dataDir,
        SMTP_RATE_PER_SECOND: '150',
        SMTP_MAX_CONNECTIONS: '4',
        PORT: '0',
        ...options.processSettings(kind),
        ...env,
      })
      const script = kind === 'worker' ? 'src/cli/worker.ts' : 'src/server.ts'
      const child = spawn(process.execPath, entryPoint(script), { env: environment, stdio: ['ignore', 'ignore', 'inherit'] })
      children.add(child)
      child.on('exit', () => children.delete(child))
      return child
    },
  }
}

/** The campaign as staff see it (GET /v1/campaigns/:id). */
export async function campaignOf(world: CampaignWorld) {
  return (await world.app.as('staff')({ method: 'GET', url: `/v1/campaigns/${world.campaignId}` })).json()
}
