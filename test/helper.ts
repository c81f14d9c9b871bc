// build(t): the real app, built by the same buildApp as production, on a fresh
// database for this test file — PGlite in memory by default, a new database
// on the PostgreSQL server named by TEST_DATABASE_URL when it is set.
import { createHash, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import postgres from 'postgres'
import type { Test } from 'tap'
import { PGlite } from '@electric-sql/pglite'
import { pgliteExtensions, pgliteHandle, type DatabaseLocation } from '../db/client.js'
import type { Role } from '../src/vocabulary.js'
import { buildApp, loggerOptions } from '../src/app.js'
import { prepareDatabase } from '../src/prepare-database.js'
import { parseConfig, type Config } from '../src/config.js'
import type { Clock } from '../src/lib/clock.js'
import { signToken } from '../src/tokens/sign.js'
import { tokenSettings } from '../src/tokens/settings.js'
import { registerPayload, registerPersonalData, scanLogs, type LogScanner } from './support/log-scanner.js'

export const JWT_SECRET = 'test-secret-test-secret-test-secret-42'
export const PEPPER = 'test-pepper-test-pepper-test-pepper-42'
export const LINK_SECRET = 'test-link-key-test-link-key-test-link-42'

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...parseConfig({ DATA_DIR: '/nonexistent-test-data-dir' }),
    jwtSecret: JWT_SECRET,
    suppressionPepper: PEPPER,
    linkSigningKeys: [{ id: 'test', secret: LINK_SECRET }],
    // As in production: every line is checked for personal data (support/log-scanner.ts).
    logLevel: 'info',
    // Jobs and delivery workers run only in the tests about them: elsewhere their polling is noise.
    runJobs: false,
    runWorkers: false,
    // Limits only where a test is about them: a test file sends thousands of requests from one address.
    rateLimitPerMinute: 1_000_000,
    anonymousRateLimitPerMinute: 1_000_000,
    authFailureLimitPerMinute: 1_000_000,
    signupRateLimitPerMinute: 1_000_000,
    oneClickRateLimitPerMinute: 1_000_000,
    ...overrides,
  }
}

/** A token signed as the service signs them, for the test configuration (or another secret). */
export function signTestToken(role: Role, o: { name?: string | null; sub?: string; lifetimeSeconds?: number; secret?: string; config?: Config } = {}): string {
  const config = o.config ?? testConfig()
  const name = o.name === undefined ? `Test ${role}` : o.name
  // The actor's name is a person's name: no log line may carry it.
  registerPersonalData(name)
  return signToken(
    { ...tokenSettings(config), secret: o.secret ?? config.jwtSecret },
    { role, sub: o.sub ?? `${role}:test`, name, lifetimeSeconds: o.lifetimeSeconds ?? 3600 },
  ).token
}

/** A clock tests can move. */
export class TestClock implements Clock {
  constructor(private current = new Date('2026-03-02T09:00:00.000Z')) {}
  now() {
    return new Date(this.current)
  }
  set(at: Date | string) {
    this.current = new Date(at)
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms)
  }
  advanceDays(days: number) {
    this.advance(days * 24 * 60 * 60 * 1000)
  }
}

const migrationsDir = fileURLToPath(new URL('../db/migrations', import.meta.url))
const mjmlDir = fileURLToPath(new URL('../mjml', import.meta.url))
/** Besides the migrations, what a prepared database holds: pg-boss's schema (its version), the queues of these jobs, and the shipped templates. */
const preparationInputs = [
  fileURLToPath(new URL('../src/jobs.ts', import.meta.url)),
  fileURLToPath(new URL('../node_modules/pg-boss/package.json', import.meta.url)),
  // The shipped templates are installed when a database is prepared.
  fileURLToPath(new URL('../src/templates/render.ts', import.meta.url)),
  fileURLToPath(new URL('../src/templates/source-rules.ts', import.meta.url)),
  ...readdirSync(mjmlDir, { recursive: true })
    .map(String)
    .filter((file) => /\.(mjml|json)$/.test(file))
    .sort()
    .map((file) => join(mjmlDir, file)),
]
let migratedSnapshot: Promise<{ path: string; blob: Blob }> | undefined

/**
 * The template databases leave the snapshot: nothing on the embedded engine
 * creates a database, and they are 600 of its 1,300 files and 15 of its 43 MB,
 * which every PGlite start unpacks again (0.35 s of CPU of 1.1 s, about 100
 * starts a suite).
 */
const DROP_TEMPLATE_DATABASES = [
  `update pg_database set datistemplate = false where datname in ('template0', 'template1')`,
  'drop database template0',
  'drop database template1',
  'checkpoint',
]

/**
 * A prepared, empty PGlite database as a snapshot, made once per set of
 * migrations (and job engine) and shared by every test process through a file
 * in the temp folder (a tar of its data folder): starting from it takes well
 * under a second, an empty start several.
 */
function pgliteSnapshot(): Promise<{ path: string; blob: Blob }> {
  migratedSnapshot ??= (async () => {
    const hash = createHash('sha256').update(DROP_TEMPLATE_DATABASES.join(';'))
    for (const file of readdirSync(migrationsDir, { recursive: true }).map(String).sort()) {
      if (file.endsWith('.sql') || file.endsWith('.json')) hash.update(file).update(readFileSync(join(migrationsDir, file)))
    }
    for (const file of preparationInputs) hash.update(readFileSync(file))
    const path = join(tmpdir(), `samtykke-test-db-${hash.digest('hex').slice(0, 16)}.tar`)
    if (existsSync(path)) return { path, blob: new Blob([readFileSync(path)]) }
    const client = new PGlite({ extensions: pgliteExtensions })
    const handle = pgliteHandle(client)
    await prepareDatabase(handle, { engine: 'pglite', dataDir: 'memory' })
    // One at a time: several in one exec are one transaction, which DROP DATABASE refuses.
    for (const statement of DROP_TEMPLATE_DATABASES) await client.exec(statement)
    const snapshot = await client.dumpDataDir('none')
    await handle.close()
    // Written aside and renamed: parallel test processes never read half a file.
    const partial = `${path}.${process.pid}`
    writeFileSync(partial, Buffer.from(await snapshot.arrayBuffer()))
    renameSync(partial, path)
    return { path, blob: snapshot }
  })()
  return migratedSnapshot
}

/**
 * A DATA_DIR whose embedded database is already prepared (the snapshot's
 * data folder unpacked into its pgdata), removed at teardown: for tests of
 * what runs on the embedded database — a command, a second process — rather
 * than of its first start, which is test/db/database.test.ts's.
 */
export async function preparedDataDir(t: Test, prefix = 'samtykke-data-'): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const pgdata = join(dataDir, 'pgdata')
  mkdirSync(pgdata)
  execFileSync('tar', ['-xf', (await pgliteSnapshot()).path, '-C', pgdata], { stdio: 'ignore' })
  return dataDir
}

/** A fresh, empty database for one test file, dropped again at teardown. */
export async function freshDatabase(t: Test): Promise<DatabaseLocation> {
  const serverUrl = process.env.TEST_DATABASE_URL
  if (!serverUrl) return { engine: 'pglite', dataDir: 'memory', snapshot: (await pgliteSnapshot()).blob }
  const name = `samtykke_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  t.teardown(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  })
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return { engine: 'postgres', url: url.toString() }
}

export interface TestApp {
  app: FastifyInstance
  clock: TestClock
  config: Config
  /** A signed token for a role, valid for an hour unless told; the name is the actor in the audit log. */
  token(role: Role, options?: { name?: string; sub?: string; lifetimeSeconds?: number; secret?: string }): string
  /** inject() with a bearer token for the role (one token per call of as()), or none for null; the personal fields of its payloads are registered with the log scanner. */
  as(role: Role | null): (options: InjectOptions) => Promise<LightMyRequestResponse>
  /** The app's log destination: every line checked for personal data, failing the test at teardown if one carries any. */
  logs: LogScanner
}

/**
 * The logger of an app a test builds: the production settings at the
 * configured level, into a destination that fails the test on a line with
 * personal data in it.
 */
export function testLogger(t: Test, config: Config, options: { keepLines?: boolean } = {}) {
  const logs = scanLogs(t, config, options)
  return { logs, logger: { ...loggerOptions(config), stream: logs } }
}

export interface BuildTestOptions {
  config?: Partial<Config>
  clock?: TestClock
  /** A database made already (freshDatabase), when the test also hands it to processes of its own. */
  database?: DatabaseLocation
  /** Keep every log line in `logs.lines`, for tests about the log itself. */
  keepLogLines?: boolean
}

export async function build(t: Test, options: BuildTestOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? new TestClock()
  const config = testConfig(options.config)
  const { logs, logger } = testLogger(t, config, { keepLines: options.keepLogLines })
  const app = await buildApp(config, { database: options.database ?? (await freshDatabase(t)), clock, logger })
  t.teardown(() => app.close())
  const token: TestApp['token'] = (role, o = {}) => signTestToken(role, { ...o, config })
  return {
    app,
    clock,
    config,
    token,
    logs,
    as: (role) => {
      // One token per as(): signing is not what a test measures or means.
      const authorization = role ? { authorization: `Bearer ${token(role)}` } : {}
      return (injectOptions) => {
        registerPayload(injectOptions.payload)
        return app.inject({ ...injectOptions, headers: { ...authorization, ...injectOptions.headers } })
      }
    },
  }
}

/** What a promise failed with: the messages of the error and its causes, joined (Drizzle wraps the driver's error); 'no error' when it did not fail. */
export async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    const messages: string[] = []
    for (let e: unknown = error; e instanceof Error; e = e.cause) messages.push(e.message)
    return messages.join(' / ')
  }
  return 'no error'
}

/** The audit trail of one entity, oldest first, as the audit service lists it. */
export async function auditTrail(t: TestApp, entityType: string, entityId: string) {
  return (await t.app.services.audit.listAudit({ entityType, entityId, limit: 200 })).items
}

/** The environment for a service or worker process of its own, with the test secrets (and without the test runner's loader options). */
export function processEnv(settings: { databaseUrl: string; smtpUrl: string; dataDir: string } & Record<string, string>): NodeJS.ProcessEnv {
  const { databaseUrl, smtpUrl, dataDir, ...rest } = settings
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    JWT_SECRET,
    SUPPRESSION_PEPPER: PEPPER,
    LINK_SIGNING_KEYS: `test:${LINK_SECRET}`,
    SMTP_URL: smtpUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // Workers answer /ready and /metrics on a port of their own: any free one, as several run at once.
    WORKER_PORT: '0',
    ...rest,
  }
  delete env.NODE_OPTIONS
  return env
}
