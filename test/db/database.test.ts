import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { lockDataDir, openDatabase } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { createContact } from '../factories.js'
import { auditTrail, build, failureOf, preparedDataDir, signTestToken, testConfig, testLogger } from '../helper.js'
import { entryPoint } from '../support/entry-point.js'

// (a) and (b) are about the embedded engine's data folder, so they run on
// PGlite whatever TEST_DATABASE_URL says; (c) runs on the database build(t) gives.

function tempDataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-db-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function buildOnFolder(t: Test, dataDir: string): Promise<FastifyInstance> {
  const config = testConfig()
  return buildApp(config, { database: { engine: 'pglite', dataDir }, logger: testLogger(t, config).logger })
}

/** Rows of a raw query on either driver (postgres.js answers an array, PGlite `{ rows }`). */
async function rows<T>(app: FastifyInstance, query: SQL): Promise<T[]> {
  const result = (await app.db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}

async function appliedMigrations(app: FastifyInstance): Promise<{ hash: string; created_at: string }[]> {
  return rows(app, sql`select hash, created_at::text from drizzle.__drizzle_migrations order by id`)
}

const staffToken = signTestToken('staff')

t.test('an embedded database keeps its data across restarts and migrates only once', async (t) => {
  const dataDir = tempDataDir(t)
  const first = await buildOnFolder(t, dataDir)
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

  const second = await buildOnFolder(t, dataDir)
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
  const dataDir = await preparedDataDir(t, 'samtykke-db-')
  const first = await openDatabase({ engine: 'pglite', dataDir })
  await t.rejects(openDatabase({ engine: 'pglite', dataDir }), /in use/, 'a second open in the same process is refused')
  await first.close()
  const again = await openDatabase({ engine: 'pglite', dataDir })
  t.pass('after close it opens')
  await again.close()
})

t.test('a second process is refused while the embedded database is open', async (t) => {
  const dataDir = await preparedDataDir(t, 'samtykke-db-')
  const handle = await openDatabase({ engine: 'pglite', dataDir })
  t.teardown(() => handle.close())
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const server = spawnSync(process.execPath, entryPoint('src/server.ts'), { env, encoding: 'utf8', timeout: 60_000 })
  t.equal(server.status, 1, 'the server exits with an error')
  t.match(server.stderr, new RegExp(`in use by process ${process.pid}`))
})

t.test('a lock left by a process that no longer runs is taken over', async (t) => {
  const dataDir = tempDataDir(t)
  const gone = spawn(process.execPath, ['-e', ''])
  await new Promise((done) => gone.once('exit', done))
  writeFileSync(join(dataDir, 'pglite.lock'), JSON.stringify({ pid: gone.pid, bootId: null, startTicks: null, dataDir: resolve(dataDir) }))
  const release = lockDataDir(dataDir)
  t.match(JSON.parse(readFileSync(join(dataDir, 'pglite.lock'), 'utf8')), { pid: process.pid, dataDir: resolve(dataDir) }, 'the lock is ours now')
  release()
})

t.test('a lock naming a live process that is not its holder is taken over', async (t) => {
  const dataDir = tempDataDir(t)
  // A live process that is not this service: what a pid in an old lock names after a reboot.
  const unrelated = spawn('sleep', ['30'])
  t.teardown(() => unrelated.kill())
  await new Promise((done) => unrelated.once('spawn', done))
  const lockPath = join(dataDir, 'pglite.lock')
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  const locks = {
    'from before a reboot': { pid: unrelated.pid, bootId: '00000000-0000-4000-8000-000000000000', startTicks: null, dataDir: resolve(dataDir) },
    'from a process that started at another moment (the pid was reused)': { pid: unrelated.pid, bootId, startTicks: '1', dataDir: resolve(dataDir) },
    'for another folder (this one was copied from a backup)': { pid: process.pid, bootId, startTicks: null, dataDir: '/somewhere/else' },
    'of an older version, naming a process that is not Node': unrelated.pid,
  }
  for (const [what, lock] of Object.entries(locks)) {
    writeFileSync(lockPath, JSON.stringify(lock))
    const release = lockDataDir(dataDir)
    t.equal(JSON.parse(readFileSync(lockPath, 'utf8')).pid, process.pid, `a lock ${what} is taken over`)
    release()
  }
})

t.test('a lock naming its live holder on this folder refuses another process', async (t) => {
  const dataDir = tempDataDir(t)
  // Another process holds the folder: a lock as it writes it, naming its own start.
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
  t.teardown(() => holder.kill())
  await new Promise((done) => holder.once('spawn', done))
  const stat = readFileSync(`/proc/${holder.pid}/stat`, 'utf8')
  const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  writeFileSync(join(dataDir, 'pglite.lock'), JSON.stringify({ pid: holder.pid, bootId, startTicks, dataDir: resolve(dataDir) }))
  t.throws(() => lockDataDir(dataDir), new RegExp(`in use by process ${holder.pid}`))
  writeFileSync(join(dataDir, 'pglite.lock'), String(holder.pid))
  t.throws(() => lockDataDir(dataDir), /in use by process/, 'an older lock naming a live Node process is honoured')
})

t.test('the audit log refuses UPDATE, DELETE and TRUNCATE', async (t) => {
  const app = await build(t)
  const contact = await createContact(app)
  const statements = {
    UPDATE: sql`update audit_events set actor_name = 'someone else'`,
    DELETE: sql`delete from audit_events`,
    TRUNCATE: sql`truncate audit_events, audit_personal_values`,
  }
  for (const [operation, statement] of Object.entries(statements)) {
    t.match(await failureOf(app.app.db.execute(statement)), `append-only: ${operation} refused`, `${operation} refused`)
  }
  const trail = await auditTrail(app, 'contact', contact.id)
  t.equal(trail.length, 1, 'the entry is still there')
  t.equal(trail[0]!.actorName, 'Test staff', 'unchanged')
})
