import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import { createSigner } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { openDatabase } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { createContact } from '../factories.js'
import { build, JWT_SECRET, testConfig } from '../helper.js'

// (a) and (b) are about the embedded engine's data folder, so they run on
// PGlite whatever TEST_DATABASE_URL says; (c) runs on the database build(t) gives.

function tempDataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-db-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function buildOnFolder(dataDir: string): Promise<FastifyInstance> {
  return buildApp(testConfig(), { database: { engine: 'pglite', dataDir }, logger: false })
}

/** Rows of a raw query on either driver (postgres.js answers an array, PGlite `{ rows }`). */
async function rows<T>(app: FastifyInstance, query: SQL): Promise<T[]> {
  const result = (await app.db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}

async function appliedMigrations(app: FastifyInstance): Promise<{ hash: string; created_at: string }[]> {
  return rows(app, sql`select hash, created_at::text from drizzle.__drizzle_migrations order by id`)
}

/** The messages of an error and its causes, joined: Drizzle wraps the driver's error. */
async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    const messages: string[] = []
    for (let e: unknown = error; e instanceof Error; e = e.cause) messages.push(e.message)
    return messages.join(' / ')
  }
  return 'no error'
}

const staffToken = createSigner({ key: JWT_SECRET })({ sub: 'staff:test', name: 'Test staff', role: 'staff' })

t.test('an embedded database keeps its data across restarts and migrates only once', async (t) => {
  const dataDir = tempDataDir(t)
  const first = await buildOnFolder(dataDir)
  const before = await appliedMigrations(first)
  t.ok(before.length >= 2, 'the committed migrations were applied')
  const created = await first.inject({
    method: 'POST',
    url: '/v1/contacts',
    headers: { authorization: `Bearer ${staffToken}` },
    payload: { email: 'kari@example.no', name: 'Kari Nordmann' },
  })
  t.equal(created.statusCode, 201)
  await first.close()

  const second = await buildOnFolder(dataDir)
  t.teardown(() => second.close())
  t.same(await appliedMigrations(second), before, 'no migration ran again')
  const got = await second.inject({
    method: 'GET',
    url: `/v1/contacts/${created.json().id}`,
    headers: { authorization: `Bearer ${staffToken}` },
  })
  t.equal(got.statusCode, 200)
  t.equal(got.json().name, 'Kari Nordmann')
})

t.test('an embedded database folder is opened by one handle at a time', async (t) => {
  const dataDir = tempDataDir(t)
  const first = await openDatabase({ engine: 'pglite', dataDir })
  await t.rejects(openDatabase({ engine: 'pglite', dataDir }), /in use/, 'a second open in the same process is refused')
  await first.close()
  const again = await openDatabase({ engine: 'pglite', dataDir })
  t.pass('after close it opens')
  await again.close()
})

t.test('a second process is refused while the embedded database is open', async (t) => {
  const dataDir = tempDataDir(t)
  const handle = await openDatabase({ engine: 'pglite', dataDir })
  t.teardown(() => handle.close())
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const server = spawnSync(resolve('node_modules/.bin/tsx'), ['src/server.ts'], { env, encoding: 'utf8', timeout: 60_000 })
  t.equal(server.status, 1, 'the server exits with an error')
  t.match(server.stderr, new RegExp(`in use by process ${process.pid}`))
})

t.test('a lock left by a process that no longer runs is taken over', async (t) => {
  const dataDir = tempDataDir(t)
  const gone = spawn(process.execPath, ['-e', ''])
  await new Promise((done) => gone.once('exit', done))
  writeFileSync(join(dataDir, 'pglite.lock'), String(gone.pid))
  const handle = await openDatabase({ engine: 'pglite', dataDir })
  t.pass('opened')
  await handle.close()
})

t.test('the audit log refuses UPDATE, DELETE and TRUNCATE', async (t) => {
  const app = await build(t)
  const contact = await createContact(app)
  const statements = {
    UPDATE: sql`update audit_events set actor_name = 'someone else'`,
    DELETE: sql`delete from audit_events`,
    TRUNCATE: sql`truncate audit_events`,
  }
  for (const [operation, statement] of Object.entries(statements)) {
    t.match(await failureOf(app.app.db.execute(statement)), `append-only: ${operation} refused`, `${operation} refused`)
  }
  const trail = await app.app.services.audit.listEntityAudit('contact', contact.id)
  t.equal(trail.length, 1, 'the entry is still there')
  t.equal(trail[0]!.actorName, 'Test staff', 'unchanged')
})
