// Owns the connection to Postgres, whichever engine it is: PGlite in process
// (embedded default) or PostgreSQL through postgres.js. The differences between
// the two drivers are hidden here and in db/errors.ts, nowhere else.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'
import { sql, type SQL } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import * as schema from './schema/index.js'

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>
/** A transaction has the same query surface as the database. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0]
/** Either the database or an open transaction: what every query function takes. */
export type Queryable = Database | Tx

/**
 * Runs raw SQL in `q` (the database or an open transaction) and returns its
 * rows, whichever driver answers: postgres.js gives an array, PGlite an object
 * holding one.
 */
export async function selectRows<T>(q: Queryable, query: SQL): Promise<T[]> {
  const result = (await q.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}

/**
 * Awaits statements issued together on one transaction, and fails with the
 * first error only once every one of them has answered, so that no statement
 * of the transaction is still on its way when it rolls back. On PostgreSQL
 * they leave in one write (see `preparing` below) and cost one round trip
 * instead of one each; on PGlite they queue on its one connection. For
 * statements whose order does not matter: one that must see another's effect
 * (a read after a lock, a row its foreign key names) is awaited after it, not
 * sent with it. Given the pool instead of a transaction, they may run on
 * different connections in any order.
 */
export async function pipelined<T extends readonly unknown[]>(statements: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(statements)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> }
}

export interface DatabaseHandle {
  db: Database
  engine: 'pglite' | 'postgres'
  /** Runs raw SQL and returns its rows, whichever driver answers. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>
  close(): Promise<void>
  /** Raw SQL in the shape pg-boss's `db` option wants, on this same connection (pool). */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
}

/** postgres.js refuses undefined and plain objects as parameters; pg-boss passes both. */
function toParameter(value: unknown): unknown {
  if (value === undefined) return null
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return JSON.stringify(value)
  }
  return value
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url))

/** Arbitrary but fixed: serialises migrations of several instances starting at once. */
const MIGRATION_LOCK_KEY = 7_311_964_021

export type DatabaseLocation =
  | { engine: 'postgres'; url: string; max?: number }
  | {
      engine: 'pglite'
      dataDir: string | 'memory'
      /** Start an in-memory database from a dump of another (PGlite's dumpDataDir): several times faster than an empty start. */
      snapshot?: Blob
    }

export async function openDatabase(location: DatabaseLocation): Promise<DatabaseHandle> {
  if (location.engine === 'postgres') return openPostgres(location.url, location.max ?? 10)
  return openPglite(location.dataDir, location.snapshot)
}

/**
 * The client as drizzle is given it: every statement with parameters runs as
 * a named prepared statement. drizzle asks postgres.js for an unnamed one
 * unless a query was built with `.prepare(name)`, and postgres.js sends an
 * unnamed statement with parameters in two round trips (Parse and Describe,
 * a wait, then Bind and Execute), each its own socket write, and never
 * pipelines it behind another. A named one is parsed once per connection
 * (postgres.js keeps them by text and parameter types), and after that is one
 * write that pipelines: statements issued without awaiting each other inside
 * a transaction leave together. The types are the ones the server describes
 * either way, so nothing read or written changes. Transactions and savepoints
 * hand their own client to drizzle: it gets the same treatment.
 */
function preparing<T extends postgres.Sql>(client: T): T {
  return new Proxy(client, {
    get(target, key) {
      if (key === 'unsafe') {
        return (query: string, parameters?: never[], options?: object) => target.unsafe(query, parameters, { ...options, prepare: true })
      }
      if (key === 'begin' || key === 'savepoint') {
        return (...args: unknown[]) => {
          const work = args.pop() as (client: postgres.Sql) => unknown
          return (Reflect.get(target, key) as (...a: unknown[]) => unknown).call(target, ...args, (inner: postgres.Sql) => work(preparing(inner)))
        }
      }
      return Reflect.get(target, key)
    },
  })
}

function openPostgres(url: string, max: number): DatabaseHandle {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    // Our JSON columns are read as objects, and timestamps as Date, on both engines.
    connection: { application_name: 'samtykke' },
  })
  const db = drizzlePostgres(preparing(client), { schema }) as unknown as Database
  return {
    db,
    engine: 'postgres',
    rows: <T>(query: SQL) => selectRows<T>(db, query),
    close: () => client.end({ timeout: 5 }),
    async executeSql(text, values) {
      if (values?.length) return { rows: [...(await client.unsafe(text, values.map(toParameter) as never[]))] }
      // Parameterless strings may be several statements with their own BEGIN…COMMIT
      // (pg-boss's migrations): postgres.js runs those only on a reserved connection.
      const reserved = await client.reserve()
      try {
        return { rows: [...(await reserved.unsafe(text))] }
      } finally {
        reserved.release()
      }
    },
  }
}

/** The extensions the migrations create; PGlite ships them but loads only those it is given. */
export const pgliteExtensions = { pg_trgm }

/**
 * An in-memory database (the tests' one per app) holds a few megabytes:
 * 16 MB of shared buffers instead of PGlite's 128, which each start
 * allocates and clears again: a start from a snapshot takes 0.32 s of CPU
 * instead of 0.47 (docs/benchmarks.md, "The test suite").
 */
const IN_MEMORY_SETTINGS = ['-c', 'shared_buffers=16MB']

async function openPglite(dataDir: string | 'memory', snapshot?: Blob): Promise<DatabaseHandle> {
  const releaseLock = dataDir === 'memory' ? () => {} : lockDataDir(dataDir)
  let client: PGlite
  try {
    const options = { extensions: pgliteExtensions }
    client =
      dataDir === 'memory'
        ? new PGlite({ ...options, loadDataDir: snapshot, startParams: [...PGlite.defaultStartParams, ...IN_MEMORY_SETTINGS] })
        : new PGlite(join(dataDir, 'pgdata'), options)
    await client.waitReady
  } catch (error) {
    releaseLock()
    throw error
  }
  return pgliteHandle(client, releaseLock)
}

/** A handle on a PGlite instance (its one connection); closing it closes the instance, then runs `onClose`. */
export function pgliteHandle(client: PGlite, onClose: () => void = () => {}): DatabaseHandle {
  const db = drizzlePglite(client, { schema }) as unknown as Database
  return {
    db,
    engine: 'pglite',
    rows: <T>(query: SQL) => selectRows<T>(db, query),
    async close() {
      await client.close()
      onClose()
    },
    async executeSql(text, values) {
      try {
        // Parameterless strings may hold several statements (pg-boss's migrations, BEGIN…COMMIT blocks): exec runs them.
        if (values?.length) return { rows: (await client.query(text, values)).rows }
        const results = await client.exec(text)
        return { rows: results.at(-1)?.rows ?? [] }
      } catch (error) {
        // PGlite has one connection: a transaction left open by a failed block would wedge it for everyone.
        if (client.isInTransaction()) await client.exec('ROLLBACK')
        throw error
      }
    },
  }
}

/** PGlite folders this process has open: the lock file cannot tell them from a stale lock of an earlier process with our pid. */
const openDataDirs = new Set<string>()

/**
 * What a lock file records of the process that holds the folder: enough to
 * tell it from another process that got the same pid later (after a reboot,
 * or in a container that restarted), and the folder it locked (a folder
 * copied from a backup carries a lock meant for its original).
 */
interface LockHolder {
  pid: number
  /** /proc/sys/kernel/random/boot_id when the lock was taken; null where there is no /proc. */
  bootId: string | null
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat, field 22). */
  startTicks: string | null
  dataDir: string
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

const currentBootId = () => readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? null

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses, so count after its last ')'. */
function startTicksOf(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`)
  return stat ? (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null) : null
}

function parseLock(text: string): LockHolder | { legacyPid: number } | null {
  // Locks written before the holder was recorded held the pid alone.
  if (/^\d+$/.test(text.trim())) return { legacyPid: Number(text.trim()) }
  try {
    const lock = JSON.parse(text) as LockHolder
    return Number.isInteger(lock.pid) && typeof lock.dataDir === 'string' ? lock : null
  } catch {
    return null
  }
}

/**
 * Whether the lock's holder is a live process that really holds this folder:
 * the same pid, started at the same moment of the same boot, for this folder.
 * A lock from an older version names only a pid: it counts while that pid
 * runs Node, the closest check it allows.
 */
function holderIsLive(lock: LockHolder | { legacyPid: number }, folder: string): boolean {
  if ('legacyPid' in lock) {
    if (lock.legacyPid === process.pid || !isRunning(lock.legacyPid)) return false
    const program = readProc(`/proc/${lock.legacyPid}/cmdline`)?.split('\0')[0]
    return program === undefined || /(^|\/)node(js)?$/.test(program)
  }
  if (lock.dataDir !== folder || !isRunning(lock.pid)) return false
  const bootId = currentBootId()
  if (lock.bootId && bootId && lock.bootId !== bootId) return false
  const startTicks = startTicksOf(lock.pid)
  if (lock.startTicks && startTicks && lock.startTicks !== startTicks) return false
  // Our own pid with our own start: a lock this process left behind (it does not hold the folder now; see lockDataDir).
  return lock.pid !== process.pid
}

/**
 * Two processes opening one PGlite folder corrupt it, so embedded mode takes a
 * lock file naming its holder (see LockHolder). A lock whose holder no longer
 * runs, or is another process that got its pid, is taken over; a live holder
 * makes this process refuse to start.
 */
export function lockDataDir(dataDir: string): () => void {
  const folder = resolve(dataDir)
  if (openDataDirs.has(folder)) {
    throw new Error(`The embedded database in ${dataDir} is in use by this process (${process.pid}); close it first.`)
  }
  mkdirSync(dataDir, { recursive: true })
  const lockPath = join(dataDir, 'pglite.lock')
  const holder: LockHolder = { pid: process.pid, bootId: currentBootId(), startTicks: startTicksOf(process.pid), dataDir: folder }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, JSON.stringify(holder))
      closeSync(fd)
      openDataDirs.add(folder)
      return () => {
        openDataDirs.delete(folder)
        rmSync(lockPath, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const lock = parseLock(readFileSync(lockPath, 'utf8'))
      if (lock && holderIsLive(lock, folder)) {
        const pid = 'legacyPid' in lock ? lock.legacyPid : lock.pid
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${pid}. ` +
            'Stop it, or set DATABASE_URL to share a PostgreSQL server between processes.',
        )
      }
      rmSync(lockPath, { force: true })
    }
  }
  throw new Error(`Could not lock the embedded database in ${dataDir}`)
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Runs `work` with the handle that may change the schema, alone: on PGlite the
 * service's own handle (one connection, no roles); on PostgreSQL one
 * connection to `ownerUrl` (the tables' owner; the service's URL when none is
 * given) holding an advisory lock, so instances that start together take
 * turns instead of racing on the same DDL.
 */
export async function withSchemaOwner(
  service: DatabaseHandle,
  location: DatabaseLocation,
  ownerUrl: string | undefined,
  work: (owner: DatabaseHandle) => Promise<void>,
): Promise<void> {
  if (location.engine === 'pglite') return work(service)
  // One connection, so the advisory lock and the work share a session.
  const owner = openPostgres(ownerUrl ?? location.url, 1)
  try {
    await owner.rows(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
    try {
      await work(owner)
    } finally {
      await owner.rows(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`)
    }
  } finally {
    await owner.close()
  }
}

/** Applies the committed migrations; applying them twice is a no-op (drizzle records each one). */
export async function applyMigrations(owner: DatabaseHandle): Promise<void> {
  if (owner.engine === 'pglite') await migratePglite(owner.db as never, { migrationsFolder })
  else await migratePostgres(owner.db as never, { migrationsFolder })
}

/** The migrations this version ships, in order: drizzle-kit's journal, read once. */
let shippedMigrations: { tag: string; when: number }[] | undefined
function migrationJournal() {
  shippedMigrations ??= (JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] }).entries
  return shippedMigrations
}

/**
 * The tags of the shipped migrations the database has not applied. Drizzle's
 * migrator records each applied one in drizzle.__drizzle_migrations with the
 * journal's `when` as created_at (a bigint: text on one driver, a number on
 * the other). Migrations the database has beyond ours (a newer version
 * migrated it) are not missing.
 */
export async function missingMigrations(handle: Pick<DatabaseHandle, 'rows'>): Promise<string[]> {
  const applied = await handle.rows<{ createdAt: string | number }>(sql`select created_at as "createdAt" from drizzle.__drizzle_migrations`)
  const seen = new Set(applied.map((row) => Number(row.createdAt)))
  return migrationJournal()
    .filter((entry) => !seen.has(entry.when))
    .map((entry) => entry.tag)
}

/** The database role a handle's connections act as. */
export async function currentRole(handle: DatabaseHandle): Promise<string> {
  const [row] = await handle.rows<{ role: string }>(sql`select current_user as role`)
  return row!.role
}

