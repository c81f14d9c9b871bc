// Imports of existing subscribers from another tool's CSV export: the job
// from its start (the file's header, the list and the notice checked before
// anything is recorded) through its batches (batch.ts, one transaction
// each, the job's progress in the same one) to its report and audit entry.
// The file is streamed and memory stays flat; a run applies every valid row,
// or with all or nothing first checks every row and applies none if one is
// invalid. A job runs in the process that took it; its lease, renewed with
// every batch, lets any instance see when that process stopped. Knows no HTTP.
// Reading the file (csv.ts, fields.ts, rows.ts) and judging a row (rules.ts)
// are pure files of their own, tested without a database; batch.ts and
// apply.ts are the database side of one batch.
import { rm } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Database } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { ConsentService } from '../consent/service.js'
import { createdBy, type Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { NotFoundError, UnprocessableError } from '../lib/errors.js'
import { decodeCursor, decodeSequenceCursor, encodeSequenceCursor, toPage } from '../lib/pagination.js'
import type { ListRow } from '../lists/queries.js'
import { ImportPhase, ImportRowCode, ImportStatus } from '../vocabulary.js'
import type { ApplyDeps } from './apply.js'
import { isImportable, laneOf, processBatch, type BatchDeps, type BatchMode, type BatchTally, type RunContext } from './batch.js'
import { MalformedCsvError, readCsvRecords, readCsvShape, type CsvShape } from './csv.js'
import { readRow, type RowReading } from './rows.js'
import { detectFormat, planColumns } from './fields.js'
import {
  addImportProgress,
  deleteSeenRows,
  findImportJob,
  insertImportJob,
  insertRowOutcomes,
  interruptExpiredImports,
  listImportJobRows,
  listRowOutcomes,
  relaxCommitWait,
  updateRunningImport,
  type ImportJobRow,
  type NewImportJob,
} from './queries.js'

/** Rows per batch (and per transaction): large enough that a statement per batch is cheap per row, small enough to hold the one PGlite connection briefly. */
export const BATCH_ROWS = 2000
/**
 * Batches in flight at once, each in its own transaction: two keep
 * PostgreSQL busy while this process reads the file (on PGlite, with its one
 * connection, they take turns).
 */
export const LANES = 2
/** How long a running import's claim holds without a batch renewing it: far longer than any batch takes. */
export const LEASE_MS = 2 * 60 * 1000
const INTERRUPTED = 'The process running the import stopped before it finished; rows applied before that stay applied, and importing the file again adds the rest'

export interface ImportOptions {
  /** The list rows without a list column go to (its slug). */
  list?: string
  noticeKey: string
  noticeVersion: number
  dryRun?: boolean
  allOrNothing?: boolean
  /** Header → field (or `ignore`), over the defaults. */
  mapping?: Record<string, string>
}

export interface ImportInput {
  path: string
  /** The file is the import's (an upload): deleted when the import ends, or if it never starts. */
  ownsFile: boolean
  options: ImportOptions
}

export type ImportProgress = Pick<ImportJobRow, 'phase' | 'rowsRead' | 'rowsApplied' | 'bytesRead' | 'bytesTotal'>

interface Prepared {
  job: ImportJobRow
  input: ImportInput
  shape: CsvShape
  run: RunContext
}

export interface ImportDeps extends ApplyDeps, BatchDeps {
  db: Database
  clock: Clock
  pepper: string
  /** Where uploads are kept while they are imported, and the largest taken. */
  importDir: string
  importMaxBytes: number
  audit: AuditRecorder
  lists: BatchDeps['lists']
  consent: ApplyDeps['consent'] & Pick<ConsentService, 'resolveNotice'>
  batchRows?: number
}

class Interrupted extends Error {}

/** Who marks an import interrupted when its process was found gone. */
const IMPORT_SUPERVISOR: Actor = { id: 'system:imports', name: 'Samtykke imports', role: 'admin' }

const add = (into: Partial<Record<ImportRowCode, number>>, from: Partial<Record<ImportRowCode, number>>) => {
  for (const [code, n] of Object.entries(from) as [ImportRowCode, number][]) into[code] = (into[code] ?? 0) + n
}

export function createImportService(deps: ImportDeps) {
  const { db, clock, audit } = deps
  const batchRows = deps.batchRows ?? BATCH_ROWS
  /** The imports this process runs, so it can stop them when it closes. */
  const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>()

  async function requireImportable(slug: string): Promise<ListRow> {
    const [list] = await deps.lists.findListsBySlugs(db, [slug])
    if (!list) throw new UnprocessableError('list_not_found', `There is no list "${slug}"`)
    if (!isImportable(list)) {
      throw new UnprocessableError('list_not_importable', `List "${slug}" is ${list.archivedAt ? 'archived' : `a ${list.kind} list`}: imports fill newsletter and marketing lists that are open`)
    }
    return list
  }

  /** The running import's row and its audit entry (who started it, with what), in one transaction. */
  function recordStart(fields: Omit<NewImportJob, 'status' | 'createdAt' | 'leasedUntil' | keyof ReturnType<typeof createdBy>>, actor: Actor, now: Date) {
    return db.transaction(async (tx) => {
      const row = await insertImportJob(tx, {
        ...fields,
        status: ImportStatus.running,
        ...createdBy(actor),
        createdAt: now,
        leasedUntil: new Date(now.getTime() + LEASE_MS),
      })
      const changes = { listId: row.listId, noticeId: row.noticeId, dryRun: row.dryRun, allOrNothing: row.allOrNothing, format: row.format, bytes: row.bytesTotal }
      await audit.record(tx, actor, now, { action: 'import.started', entityType: 'import', entityId: row.id, changes })
      return row
    })
  }

  /** Checks the file's header, the list and the notice, and records the running import (audited); nothing is recorded if one is wrong. */
  async function prepare(input: ImportInput, actor: Actor): Promise<Prepared> {
    const { options } = input
    const shape = await readCsvShape(input.path)
    const plan = planColumns(shape.headers, options.mapping ?? {})
    const defaultList = options.list ? await requireImportable(options.list) : null
    if (!defaultList && !plan.fields.list) throw new UnprocessableError('list_required', 'The file has no list column: name the list the rows go to')
    const now = clock.now()
    const notice = await deps.consent.resolveNotice(db, { key: options.noticeKey, version: options.noticeVersion }, now)
    const format = detectFormat(shape.headers)
    const job = await recordStart(
      {
        phase: options.allOrNothing && !options.dryRun ? ImportPhase.checking : ImportPhase.applying,
        dryRun: options.dryRun ?? false,
        allOrNothing: options.allOrNothing ?? false,
        listId: defaultList?.id ?? null,
        noticeId: notice.id,
        format,
        columns: plan.columns,
        bytesTotal: shape.bytes,
      },
      actor,
      now,
    )
    const run: RunContext = {
      importId: job.id,
      format,
      noticeId: notice.id,
      dryRun: job.dryRun,
      actor,
      now,
      plan,
      pepper: deps.pepper,
      startedAt: now,
      defaultList,
      lists: new Map(defaultList ? [[defaultList.slug, defaultList]] : []),
    }
    return { job, input, shape, run }
  }

  /**
   * One pass over the file: its rows read (and their addresses hashed) as it
   * streams, into LANES batches by address, each batch committed with its
   * share of the job's progress. A lane's next batch waits for its last; the
   * lanes run side by side (on PostgreSQL, on connections of their own), and
   * the file goes on being read while they work.
   */
  async function runPass(prepared: Prepared, mode: BatchMode, signal: AbortSignal, onProgress: (p: ImportProgress) => void) {
    const { job, run } = prepared
    const totals = { rowsRead: 0, rowsApplied: 0, contactsCreated: 0, counts: {} as Partial<Record<ImportRowCode, number>> }
    let bytesRead = 0
    const commit = async (readings: RowReading[]) => {
      const now = clock.now()
      const tally: BatchTally = await db.transaction(async (tx) => {
        await relaxCommitWait(tx)
        const counted = await processBatch(tx, readings, { ...run, now }, mode, deps)
        await insertRowOutcomes(tx, job.id, counted.outcomes)
        const progress = { rows: readings.length, applied: counted.applied, contactsCreated: counted.contactsCreated, counts: counted.counts as Record<string, number> }
        if (!(await addImportProgress(tx, job.id, { ...progress, bytesRead, leasedUntil: new Date(clock.now().getTime() + LEASE_MS) }))) throw new Interrupted()
        return counted
      })
      totals.rowsRead += readings.length
      totals.rowsApplied += tally.applied
      totals.contactsCreated += tally.contactsCreated
      add(totals.counts, tally.counts)
      onProgress({ phase: mode === 'check' ? ImportPhase.checking : ImportPhase.applying, rowsRead: totals.rowsRead, rowsApplied: totals.rowsApplied, bytesRead, bytesTotal: job.bytesTotal })
      if (signal.aborted) throw new Interrupted()
    }
    const lanes = Array.from({ length: LANES }, () => ({ batch: [] as RowReading[], inFlight: Promise.resolve() }))
    const send = async (lane: (typeof lanes)[number]) => {
      await lane.inFlight
      lane.inFlight = commit(lane.batch)
      lane.batch = []
      // Awaited before the lane's next batch goes (or at the end); until then a failure must not count as unhandled.
      lane.inFlight.catch(() => {})
    }
    const drain = async () => {
      for (const lane of lanes) await send(lane)
      await Promise.all(lanes.map((l) => l.inFlight))
    }
    try {
      for await (const record of readCsvRecords(prepared.input.path, prepared.shape.delimiter, (b) => (bytesRead = b))) {
        const reading = readRow(record, run)
        const lane = lanes[laneOf(reading, LANES)]!
        lane.batch.push(reading)
        if (lane.batch.length >= batchRows) await send(lane)
      }
    } catch (error) {
      // The rows read whole before the file broke off count like any others (a check pass finds them, an apply pass applies them).
      if (error instanceof MalformedCsvError) await drain()
      else await Promise.allSettled(lanes.map((l) => l.inFlight))
      throw error
    }
    await drain()
    return totals
  }

  /** The end of an import, whatever it was: its status, the bookkeeping emptied, the audit entry with the counts. */
  async function finish(prepared: Prepared, status: ImportStatus, failure: { code: string; message: string } | null): Promise<ImportJobRow> {
    const { job } = prepared
    // Before the job says it is done: whoever sees it done sees the upload gone.
    if (prepared.input.ownsFile) await rm(prepared.input.path, { force: true })
    const now = clock.now()
    const finished = await db.transaction(async (tx) => {
      const ended = await updateRunningImport(tx, job.id, { status, errorCode: failure?.code ?? null, error: failure?.message ?? null, finishedAt: now, leasedUntil: null })
      const row = (await findImportJob(tx, job.id))!
      // Found interrupted already (its lease ran out): that was recorded then.
      if (!ended) return row
      await deleteSeenRows(tx, job.id)
      const changes = { status: row.status, rowsRead: row.rowsRead, rowsApplied: row.rowsApplied, contactsCreated: row.contactsCreated, counts: row.counts }
      await audit.record(tx, prepared.run.actor, now, { action: 'import.finished', entityType: 'import', entityId: job.id, changes })
      return row
    })
    return finished
  }

  /** Runs a prepared import to its end and returns the finished job; what went wrong is in its status and error, not thrown. */
  async function execute(prepared: Prepared, signal: AbortSignal, onProgress: (p: ImportProgress) => void): Promise<ImportJobRow> {
    const { job } = prepared
    try {
      if (job.phase === ImportPhase.checking) {
        const checked = await runPass(prepared, 'check', signal, onProgress)
        const invalid = Object.values(checked.counts).reduce((sum, n) => sum + (n ?? 0), 0)
        if (invalid > 0) return await finish(prepared, ImportStatus.rejected, null)
        await updateRunningImport(db, job.id, { phase: ImportPhase.applying, rowsRead: 0, bytesRead: 0 })
      }
      const totals = await runPass(prepared, job.phase === ImportPhase.checking ? 'applyChecked' : 'apply', signal, onProgress)
      const invalid = job.allOrNothing && job.dryRun && Object.entries(totals.counts).some(([code, n]) => n && isInvalid(code as ImportRowCode))
      return await finish(prepared, invalid ? ImportStatus.rejected : ImportStatus.completed, null)
    } catch (error) {
      if (error instanceof Interrupted) return finish(prepared, ImportStatus.interrupted, { code: 'import_interrupted', message: INTERRUPTED })
      if (error instanceof MalformedCsvError) return finish(prepared, ImportStatus.failed, { code: error.code, message: error.message })
      await finish(prepared, ImportStatus.failed, { code: 'internal_error', message: 'The import failed on our side; the service log has what went wrong' }).catch(() => {})
      throw error
    }
  }

  async function requireImport(id: string): Promise<ImportJobRow> {
    await interruptStale()
    const job = await findImportJob(db, id)
    if (!job) throw new NotFoundError('Import', 'import_not_found')
    return job
  }

  /** Running imports whose process stopped (their lease ran out) are marked interrupted, and their bookkeeping emptied. */
  async function interruptStale(): Promise<number> {
    const marked = await db.transaction(async (tx) => {
      const rows = await interruptExpiredImports(tx, clock.now(), INTERRUPTED)
      for (const row of rows) {
        await deleteSeenRows(tx, row.id)
        await audit.record(tx, IMPORT_SUPERVISOR, clock.now(), {
          action: 'import.finished',
          entityType: 'import',
          entityId: row.id,
          changes: { status: row.status, rowsRead: row.rowsRead, rowsApplied: row.rowsApplied, contactsCreated: row.contactsCreated, counts: row.counts },
        })
      }
      return rows
    })
    return marked.length
  }

  return {
    interruptStale,

    /** The largest file POST /v1/imports takes. */
    uploadLimit: deps.importMaxBytes,

    /** Where a file POST /v1/imports takes goes: a new path in the upload folder. */
    newUploadPath: () => join(deps.importDir, `upload-${randomUUID()}.csv`),

    /**
     * Checks and records the import, then runs it in the background in this
     * process; returns the running job at once. `onFailure` hears an error
     * the job could not be marked failed for (the database gone).
     */
    async startImport(input: ImportInput, actor: Actor, onFailure: (importId: string, error: unknown) => void): Promise<ImportJobRow> {
      let prepared: Prepared
      try {
        prepared = await prepare(input, actor)
      } catch (error) {
        if (input.ownsFile) await rm(input.path, { force: true })
        throw error
      }
      const controller = new AbortController()
      const done = execute(prepared, controller.signal, () => {})
        .catch((error: unknown) => onFailure(prepared.job.id, error))
        .finally(() => running.delete(prepared.job.id))
      running.set(prepared.job.id, { controller, done })
      return prepared.job
    },

    /** Checks, records and runs an import in the caller's time (the command line), telling its progress; returns the finished job. */
    async importFile(input: ImportInput, actor: Actor, options: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void } = {}): Promise<ImportJobRow> {
      const prepared = await prepare(input, actor).catch(async (error: unknown) => {
        if (input.ownsFile) await rm(input.path, { force: true })
        throw error
      })
      return execute(prepared, options.signal ?? new AbortController().signal, options.onProgress ?? (() => {}))
    },

    /** Stops this process's imports after their current batch (each is marked interrupted), and waits for them. */
    async stopRunning(): Promise<void> {
      for (const { controller } of running.values()) controller.abort()
      await Promise.all([...running.values()].map((r) => r.done))
    },

    getImport: requireImport,

    async listImports(query: { cursor?: string; limit?: number }) {
      await interruptStale()
      const limit = query.limit ?? 50
      const rows = await listImportJobRows(db, { after: decodeCursor(query.cursor), limit: limit + 1 })
      return toPage(rows, limit, (j) => ({ at: j.createdAt, id: j.id }))
    },

    /** An import and the first rows of its report. */
    async importWithReport(id: string, rows: number) {
      const job = await requireImport(id)
      const page = await listRowOutcomes(db, id, { limit: rows + 1 })
      const items = page.slice(0, rows)
      return { import: job, rows: items, nextRowsCursor: page.length > rows ? encodeSequenceCursor(items.at(-1)!.line) : null }
    },

    /** A page of an import's report: the rows not applied, by line, optionally of one code. */
    async importRows(id: string, query: { cursor?: string; limit?: number; code?: ImportRowCode }) {
      await requireImport(id)
      const limit = query.limit ?? 100
      const rows = await listRowOutcomes(db, id, { afterLine: decodeSequenceCursor(query.cursor), code: query.code, limit: limit + 1 })
      const items = rows.slice(0, limit)
      return { items, nextCursor: rows.length > limit ? encodeSequenceCursor(items.at(-1)!.line) : null }
    },
  }
}
export type ImportService = ReturnType<typeof createImportService>

/** Codes of rows that are not wrong in themselves: applied, there already, or kept out. */
const VALID_OUTCOMES: ReadonlySet<ImportRowCode> = new Set([
  ImportRowCode.added,
  ImportRowCode.alreadySubscribed,
  ImportRowCode.erased,
  ImportRowCode.objected,
  ImportRowCode.leftList,
  ImportRowCode.suppressed,
  ImportRowCode.notSubscribedInSource,
])
export const isInvalid = (code: ImportRowCode) => !VALID_OUTCOMES.has(code)
