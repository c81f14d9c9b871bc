// SQL for the reports that came back (return_reports): each kept once by its
// reporter's key, an address's recent history for the soft-bounce rule, the
// daily counts, the sweep of old rejected ones, and what erasure and the
// export need. Nothing here holds an address or a report's own text.
import { and, asc, desc, eq, gte, lt, sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { returnReports } from '../../db/schema/index.js'
import type { ReturnEffect } from '../vocabulary.js'

export type ReturnReportRow = typeof returnReports.$inferSelect
export type NewReturnReportRow = typeof returnReports.$inferInsert

/** The report kept under this key, if one is. */
export async function findReturnReport(db: Queryable, channel: string, reportKeyHash: string): Promise<ReturnReportRow | undefined> {
  const [row] = await db.select().from(returnReports).where(and(eq(returnReports.channel, channel), eq(returnReports.reportKeyHash, reportKeyHash)))
  return row
}

/**
 * Keeps a report; undefined when one with its key is there already (a repeat,
 * perhaps at the same moment). ON CONFLICT rather than catching the unique
 * violation: on PostgreSQL that would abort the caller's transaction.
 */
export async function insertReturnReport(db: Queryable, row: NewReturnReportRow): Promise<ReturnReportRow | undefined> {
  const [inserted] = await db.insert(returnReports).values(row).onConflictDoNothing({ target: [returnReports.channel, returnReports.reportKeyHash] }).returning()
  return inserted
}

/** One address's applied reports since `since`, for the soft-bounce rule. */
export async function findAddressHistory(db: Queryable, addressHash: string, since: Date): Promise<{ effect: ReturnEffect; occurredAt: Date }[]> {
  const rows = await db
    .select({ effect: returnReports.effect, occurredAt: returnReports.occurredAt })
    .from(returnReports)
    .where(and(eq(returnReports.addressHash, addressHash), gte(returnReports.occurredAt, since), eq(returnReports.outcome, 'applied')))
    .orderBy(asc(returnReports.occurredAt))
  return rows.filter((r): r is { effect: ReturnEffect; occurredAt: Date } => r.effect !== null)
}

/** Kept reports newest first, a page at a time (for staff). */
export async function listReturnReports(db: Queryable, filter: { outcome?: 'applied' | 'rejected'; messageId?: string; before?: { at: Date; id: string }; limit: number }) {
  const conditions = [
    filter.outcome ? eq(returnReports.outcome, filter.outcome) : undefined,
    filter.messageId ? eq(returnReports.messageId, filter.messageId) : undefined,
    filter.before ? sql`(${returnReports.receivedAt}, ${returnReports.id}) < (${filter.before.at}, ${filter.before.id}::uuid)` : undefined,
  ].filter((c) => c !== undefined)
  return db
    .select()
    .from(returnReports)
    .where(and(...conditions))
    .orderBy(desc(returnReports.receivedAt), desc(returnReports.id))
    .limit(filter.limit)
}

/** Per day (UTC) in [from, to): applied reports by effect. */
export async function countEffectsPerDay(db: Queryable, from: Date, to: Date): Promise<{ day: string; effect: ReturnEffect; count: number }[]> {
  return selectRows<{ day: string; effect: ReturnEffect; count: number }>(
    db,
    sql`select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, effect, count(distinct coalesce(message_id::text, id::text))::int as count
        from return_reports where outcome = 'applied' and occurred_at >= ${from.toISOString()}::timestamptz and occurred_at < ${to.toISOString()}::timestamptz
        group by 1, 2 order by 1, 2`,
  )
}

/**
 * Applied reports received since `since`, by effect (the metrics): a range of
 * the (received_at, outcome) index, however many reports the table holds.
 */
export async function countEffectsSince(db: Queryable, since: Date): Promise<{ effect: ReturnEffect; count: number }[]> {
  return selectRows<{ effect: ReturnEffect; count: number }>(
    db,
    sql`select effect, count(*)::int as count from return_reports
        where received_at >= ${since.toISOString()}::timestamptz and outcome = 'applied' and effect is not null
        group by effect`,
  )
}

/** The sweep: rejected reports received before `cutoff` go. */
export async function deleteRejectedBefore(db: Queryable, cutoff: Date): Promise<number> {
  const rows = await db
    .delete(returnReports)
    .where(and(eq(returnReports.outcome, 'rejected'), lt(returnReports.receivedAt, cutoff)))
    .returning({ id: returnReports.id })
  return rows.length
}

/** The reports about one person's address (the access export); erasure keeps them, as they hold only the keyed hash. */
export async function findReportsForAddress(db: Queryable, addressHash: string): Promise<ReturnReportRow[]> {
  return db.select().from(returnReports).where(eq(returnReports.addressHash, addressHash)).orderBy(asc(returnReports.occurredAt), asc(returnReports.id))
}
