import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/**
 * Request counters of @fastify/rate-limit when they are shared by every
 * instance (RATE_LIMIT_STORE=postgres): one row per key (token, address) and
 * window. UNLOGGED (see the migration): a crash may lose the counts of the
 * current minute, which costs nothing, and no write-ahead log is written for a
 * counter bumped on every request. Expired rows are swept as they are met.
 */
export const rateLimitCounters = pgTable('rate_limit_counters', {
  key: text('key').primaryKey(),
  hits: integer('hits').notNull(),
  /** When this window ends and the count starts again. */
  resetsAt: timestamp('resets_at', { withTimezone: true, mode: 'date' }).notNull(),
})
