// Owns the connection to Postgres, whichever engine it is: PGlite in process
// (embedded default) or PostgreSQL through postgres.js. The differences between
// the two drivers are hidden here and in db/errors.ts, nowhere else.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
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
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url))

/** Arbitrary but fixed: serialises migrations of several instances starting at once. */
const MIGRATION_LOCK_KEY = 7_311_964_021

export type DatabaseLocation =
  | { engine: 'postgres'; url: string; max?: number }
  | { engine: 'pglite'; dataDir: string | 'memory' }

export async function openDatabase(location: DatabaseLocation): Promise<DatabaseHandle> {
  if (location.engine === 'postgres') return openPostgres(location.url, location.max ?? 10)
  return openPglite(location.dataDir)
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
  }
}

async function openPglite(dataDir: string | 'memory'): Promise<DatabaseHandle> {
  const releaseLock = dataDir === 'memory' ? () => {} : lockDataDir(dataDir)
  let client: PGlite
  try {
    client = dataDir === 'memory' ? new PGlite() : new PGlite(join(dataDir, 'pgdata'))
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
  }
}

/**
 * Two processes opening one PGlite folder corrupt it, so embedded mode takes a
 * lock file holding its pid. A lock left by a process that no longer runs is
 * taken over; a live one makes this process refuse to start.
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const lockPath = join(dataDir, 'pglite.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(lockPath, { force: true })
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
