import { sql } from 'drizzle-orm'
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { importFormatEnum, importPhaseEnum, importRowCodeEnum, importStatusEnum, roleEnum } from './enums.js'
import { notices } from './consent.js'
import { lists } from './lists.js'

/**
 * An import of subscribers from a CSV file (src/imports): what was asked, who
 * asked, how far it got and what became of the rows, by code. Never a row's
 * address or name: the report names rows by line number only.
 */
export const importJobs = pgTable(
  'import_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    status: importStatusEnum('status').notNull(),
    phase: importPhaseEnum('phase').notNull(),
    dryRun: boolean('dry_run').notNull(),
    allOrNothing: boolean('all_or_nothing').notNull(),
    /** The list rows without a list column (or with an empty one) go to. */
    listId: uuid('list_id').references(() => lists.id),
    noticeId: uuid('notice_id')
      .notNull()
      .references(() => notices.id),
    format: importFormatEnum('format').notNull(),
    /** The file's header and what each column was read as (header name → field), as the import used it. */
    columns: jsonb('columns').$type<{ header: string; field: string | null }[]>().notNull(),
    bytesTotal: bigint('bytes_total', { mode: 'number' }).notNull(),
    bytesRead: bigint('bytes_read', { mode: 'number' }).notNull().default(0),
    rowsRead: integer('rows_read').notNull().default(0),
    rowsApplied: integer('rows_applied').notNull().default(0),
    contactsCreated: integer('contacts_created').notNull().default(0),
    /** Rows by outcome code (src/vocabulary.ts ImportRowCode). */
    counts: jsonb('counts').$type<Record<string, number>>().notNull().default({}),
    /** Why it failed: a stable code and our own words, never the file's content. */
    errorCode: text('error_code'),
    error: text('error'),
    createdById: text('created_by_id').notNull(),
    createdByName: text('created_by_name'),
    createdByRole: roleEnum('created_by_role'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    /** A running import's process renews this with every batch; one found past it is interrupted. */
    leasedUntil: timestamp('leased_until', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('import_jobs_created_at_id_idx').on(t.createdAt, t.id),
    index('import_jobs_running_idx').on(t.leasedUntil).where(sql`${t.status} = 'running'`),
  ],
)

/** The rows of an import that were not applied, by line number and code: the report. */
export const importRowOutcomes = pgTable(
  'import_row_outcomes',
  {
    importId: uuid('import_id')
      .notNull()
      .references(() => importJobs.id, { onDelete: 'cascade' }),
    line: integer('line').notNull(),
    code: importRowCodeEnum('code').notNull(),
    /** More of why, in our words: a suppression's reason, the field at fault, the line a duplicate repeats. */
    detail: text('detail'),
  },
  (t) => [primaryKey({ columns: [t.importId, t.line] })],
)

/**
 * The addresses an import has met so far, per list, to find a duplicate
 * further down the file without holding the file's addresses in memory.
 * UNLOGGED (see the migration) and emptied when the import ends: bookkeeping
 * of a running import, not a record of anyone. `row_key` is a digest of the
 * list and the keyed address hash, so no address (nor the hash suppressions
 * are stored under) sits here.
 */
export const importSeenRows = pgTable(
  'import_seen_rows',
  {
    importId: uuid('import_id').notNull(),
    rowKey: text('row_key').notNull(),
    line: integer('line').notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.rowKey] })],
)
