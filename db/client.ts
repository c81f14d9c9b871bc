// Owns the connection to Postgres, whichever engine it is: PGlite in process
// (embedded default) or PostgreSQL through postgres.js. The differences between
// the two drivers are hidden here and in db/errors.ts, nowhere else.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
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

export interface DatabaseHandle {
  db: Database
  engine: 'pglite' | 'postgres'
  /** Runs raw SQL and returns its rows, whichever driver answers. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>
  close(): Promise<void>
  /** PGlite only: the whole database as a tarball, to start another from. */
  snapshot?: () => Promise<Blob>
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
      /** Start an in-memory database from a snapshot made by `snapshotDatabase` (several times faster than an empty start). */
      snapshot?: Blob
    }

export async function openDatabase(location: DatabaseLocation): Promise<DatabaseHandle> {
  if (location.engine === 'postgres') return openPostgres(location.url, location.max ?? 10)
  return openPglite(location.dataDir, location.snapshot)
}

function openPostgres(url: string, max: number): DatabaseHandle {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    // Our JSON columns are read as objects, and timestamps as Date, on both engines.
    connection: { application_name: 'samtykke' },
  })
  const db = drizzlePostgres(client, { schema }) as unknown as Database
  return {
    db,
    engine: 'postgres',
    async rows<T>(query: SQL) {
      return (await db.execute(query)) as unknown as T[]
    },
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

async function openPglite(dataDir: string | 'memory', snapshot?: Blob): Promise<DatabaseHandle> {
  const releaseLock = dataDir === 'memory' ? () => {} : lockDataDir(dataDir)
  let client: PGlite
  try {
    client = dataDir === 'memory' ? new PGlite({ loadDataDir: snapshot }) : new PGlite(join(dataDir, 'pgdata'))
    await client.waitReady
  } catch (error) {
    releaseLock()
    throw error
  }
  const db = drizzlePglite(client, { schema }) as unknown as Database
  return {
    db,
    engine: 'pglite',
    async rows<T>(query: SQL) {
      return ((await db.execute(query)) as unknown as { rows: T[] }).rows
    },
    async close() {
      await client.close()
      releaseLock()
    },
    snapshot: () => client.dumpDataDir('none'),
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
 * Two processes opening one PGlite folder corrupt it, so embedded mode takes a
 * lock file holding its pid. A lock left by a process that no longer runs is
 * taken over; a live one makes this process refuse to start. A lock with our
 * own pid is stale (a container restarts with the same pid) unless this
 * process holds the folder open itself.
 */
function lockDataDir(dataDir: string): () => void {
  const folder = resolve(dataDir)
  if (openDataDirs.has(folder)) {
    throw new Error(`The embedded database in ${dataDir} is in use by this process (${process.pid}); close it first.`)
  }
  mkdirSync(dataDir, { recursive: true })
  const lockPath = join(dataDir, 'pglite.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      openDataDirs.add(folder)
      return () => {
        openDataDirs.delete(folder)
        rmSync(lockPath, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(readFileSync(lockPath, 'utf8').trim())
      if (holder && holder !== process.pid && isRunning(holder)) {
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${holder}. ` +
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
 * Applies the committed migrations. Applying them twice is a no-op (drizzle
 * records each one). On PostgreSQL an advisory lock makes instances that start
 * together take turns instead of racing on the same DDL.
 */
export async function migrateDatabase(handle: DatabaseHandle, location: DatabaseLocation): Promise<void> {
  if (location.engine === 'pglite') {
    await migratePglite(handle.db as never, { migrationsFolder })
    return
  }
  // One connection, so the advisory lock and the migration share a session.
  const client = postgres(location.url, { max: 1, onnotice: () => {} })
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    try {
      await migratePostgres(drizzlePostgres(client), { migrationsFolder })
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
    }
  } finally {
    await client.end({ timeout: 5 })
  }
}

export { sql }
