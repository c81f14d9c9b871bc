// SQL for imports: the jobs (progress, status, lease), their reports (the
// rows not applied, by line) and the bookkeeping a running import keeps of
// the addresses it has met. Batches travel as one JSON parameter each.
import { and, asc, eq, gt, lt, sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { importJobs, importRowOutcomes, importSeenRows } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'
import type { ImportRowCode } from '../vocabulary.js'

export type ImportJobRow = typeof importJobs.$inferSelect
export type NewImportJob = typeof importJobs.$inferInsert
export type ImportRowOutcome = { line: number; code: ImportRowCode; detail: string | null }

export async function insertImportJob(db: Queryable, job: NewImportJob): Promise<ImportJobRow> {
  const [row] = await db.insert(importJobs).values(job).returning()
  return row!
}

export async function findImportJob(db: Queryable, id: string): Promise<ImportJobRow | undefined> {
  const [row] = await db.select().from(importJobs).where(eq(importJobs.id, id))
  return row
}

/** A page of imports in the order they were made. */
export async function listImportJobRows(db: Queryable, page: { after?: Cursor; limit: number }): Promise<ImportJobRow[]> {
  return db
    .select()
    .from(importJobs)
    .where(afterCursor(page.after, importJobs.createdAt, importJobs.id))
    .orderBy(asc(importJobs.createdAt), asc(importJobs.id))
    .limit(page.limit)
}

/** Changes a running import's row (progress, lease, phase); an import no longer running is not changed. Returns whether it was. */
export async function updateRunningImport(db: Queryable, id: string, patch: Partial<NewImportJob>): Promise<boolean> {
  const rows = await db
    .update(importJobs)
    .set(patch)
    .where(and(eq(importJobs.id, id), eq(importJobs.status, 'running')))
    .returning({ id: importJobs.id })
  return rows.length > 0
}

/**
 * A batch's transaction need not wait for its commit to reach the disk: if
 * the server crashes first, the batch is lost with the progress that counts
 * it (the job is then found interrupted, and importing the file again adds
 * what is missing). What other transactions see, and in what order, is
 * unchanged. Saves a disk flush per batch.
 */
export async function relaxCommitWait(tx: Queryable): Promise<void> {
  await tx.execute(sql`set local synchronous_commit to off`)
}

/**
 * Adds a committed batch's tally to a running import's progress, in the
 * batch's own transaction, and renews its lease: the row says exactly what
 * the committed batches did, however many are in flight. Returns whether the
 * import was still running (one found interrupted is not changed).
 */
export async function addImportProgress(
  db: Queryable,
  id: string,
  tally: { rows: number; applied: number; contactsCreated: number; counts: Record<string, number>; bytesRead: number; leasedUntil: Date },
): Promise<boolean> {
  const rows = await selectRows(
    db,
    sql`update import_jobs set
          rows_read = rows_read + ${tally.rows},
          rows_applied = rows_applied + ${tally.applied},
          contacts_created = contacts_created + ${tally.contactsCreated},
          bytes_read = greatest(bytes_read, ${tally.bytesRead}),
          counts = counts || coalesce((select jsonb_object_agg(key, coalesce((counts ->> key)::int, 0) + value::int)
                                       from jsonb_each_text(${JSON.stringify(tally.counts)}::jsonb)), '{}'::jsonb),
          leased_until = ${tally.leasedUntil.toISOString()}::timestamptz
        where id = ${id}::uuid and status = 'running'
        returning id`,
  )
  return rows.length > 0
}

/**
 * Marks every running import whose lease ran out before `now` as
 * interrupted: its process stopped without saying so. Served by the partial
 * index on running imports. Returns those marked.
 */
export async function interruptExpiredImports(db: Queryable, now: Date, error: string): Promise<ImportJobRow[]> {
  return db
    .update(importJobs)
    .set({ status: 'interrupted', errorCode: 'import_interrupted', error, finishedAt: now, leasedUntil: null })
    .where(and(eq(importJobs.status, 'running'), lt(importJobs.leasedUntil, now)))
    .returning()
}

/** Appends the rows of a batch that were not applied to the import's report. */
export async function insertRowOutcomes(db: Queryable, importId: string, outcomes: ImportRowOutcome[]): Promise<void> {
  if (outcomes.length === 0) return
  await db.execute(sql`
    insert into import_row_outcomes (import_id, line, code, detail)
    select ${importId}::uuid, x.line, x.code, x.detail
    from json_to_recordset(${JSON.stringify(outcomes)}::json) as x(line integer, code import_row_code, detail text)
    on conflict do nothing`)
}

/** A page of an import's report in line order, optionally of one code. */
export async function listRowOutcomes(db: Queryable, importId: string, page: { afterLine?: number; code?: ImportRowCode; limit: number }): Promise<ImportRowOutcome[]> {
  return db
    .select({ line: importRowOutcomes.line, code: importRowOutcomes.code, detail: importRowOutcomes.detail })
    .from(importRowOutcomes)
    .where(
      and(
        eq(importRowOutcomes.importId, importId),
        page.code ? eq(importRowOutcomes.code, page.code) : undefined,
        page.afterLine !== undefined ? gt(importRowOutcomes.line, page.afterLine) : undefined,
      ),
    )
    .orderBy(asc(importRowOutcomes.line))
    .limit(page.limit)
}

/**
 * Records the row keys of a batch as met, and returns those met before (by
 * an earlier batch of the same import), each with the line it was first met
 * on. One statement: the join reads the table as it was before this
 * statement's own inserts, so it finds exactly the earlier ones.
 */
export async function recordSeenRows(db: Queryable, importId: string, rows: { key: string; line: number }[]): Promise<{ key: string; line: number }[]> {
  if (rows.length === 0) return []
  return selectRows(
    db,
    sql`with batch as (select * from json_to_recordset(${JSON.stringify(rows)}::json) as x(key text, line integer)),
        added as (
          insert into import_seen_rows (import_id, row_key, line)
          select ${importId}::uuid, key, line from batch
          on conflict do nothing
        )
        select b.key, s.line from batch b join import_seen_rows s on s.import_id = ${importId}::uuid and s.row_key = b.key`,
  )
}

/** An import's bookkeeping of addresses met goes when it ends. */
export async function deleteSeenRows(db: Queryable, importId: string): Promise<void> {
  await db.delete(importSeenRows).where(eq(importSeenRows.importId, importId))
}
