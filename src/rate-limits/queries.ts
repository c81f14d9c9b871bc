// Owns rate_limit_counters: the request counters of @fastify/rate-limit when
// every instance shares them (src/rate-limits/store.ts). The only code that
// reads or writes the table. Each function is one statement, so it needs no
// transaction (and runs the same on PGlite's one connection).
import { and, eq, gt, lte, sql } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { rateLimitCounters } from '../../db/schema/index.js'

/** A counter as it stands: hits in the current window, and when that window ends. */
export interface CounterState {
  hits: number
  resetsAt: Date
}

/** The upsert countHit runs, built once per database (see below). */
function countingStatement(db: Queryable) {
  const now = sql.placeholder('now')
  const ended = sql`${rateLimitCounters.resetsAt} <= ${now}::timestamptz`
  return db
    .insert(rateLimitCounters)
    .values({ key: sql.placeholder('key'), hits: 1, resetsAt: sql.placeholder('resetsAt') })
    .onConflictDoUpdate({
      target: rateLimitCounters.key,
      set: {
        hits: sql`case when ${ended} then 1 else ${rateLimitCounters.hits} + 1 end`,
        resetsAt: sql`case when ${ended} then excluded.resets_at else ${rateLimitCounters.resetsAt} end`,
      },
    })
    .returning({ hits: rateLimitCounters.hits, resetsAt: rateLimitCounters.resetsAt })
    .prepare('count_rate_limit_hit')
}

/**
 * Every counted request runs countHit, so its statement is built once per
 * database (drizzle's prepared query: no SQL text made per request) and not
 * per call. Keyed by the database object, so each app and test has its own.
 */
const countingStatements = new WeakMap<Queryable, ReturnType<typeof countingStatement>>()

/**
 * Counts one hit on `key` and returns the counter after it: a new key, or one
 * whose window ended by `now`, starts a window of `windowMs` at one hit.
 * One upsert, atomic on the key's row: two instances counting the same key at
 * the same moment take turns on the row lock, and each sees the other's hit.
 * Both SET expressions read the row as it was, so the reset and the new end
 * are decided on the same old window.
 */
export async function countHit(db: Queryable, key: string, now: Date, windowMs: number): Promise<CounterState> {
  let statement = countingStatements.get(db)
  if (!statement) countingStatements.set(db, (statement = countingStatement(db)))
  const [row] = await statement.execute({ key, now: now.toISOString(), resetsAt: new Date(now.getTime() + windowMs) })
  return row!
}

/** The counter of `key` in a window still running at `now`; null when there is none (never counted, or its window ended). */
export async function findRunningCounter(db: Queryable, key: string, now: Date): Promise<CounterState | null> {
  const [row] = await db
    .select({ hits: rateLimitCounters.hits, resetsAt: rateLimitCounters.resetsAt })
    .from(rateLimitCounters)
    .where(and(eq(rateLimitCounters.key, key), gt(rateLimitCounters.resetsAt, now)))
  return row ?? null
}

/**
 * Deletes the counters whose window ended by `now`: keys that are never seen
 * again (an address that came once) would otherwise stay for good. A counter
 * that countHit restarts meanwhile no longer matches when its row lock is
 * granted (READ COMMITTED checks the condition again) and stays.
 */
export async function deleteEndedCounters(db: Queryable, now: Date): Promise<void> {
  await db.delete(rateLimitCounters).where(lte(rateLimitCounters.resetsAt, now))
}
