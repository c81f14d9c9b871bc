// One batch of an import's rows (as rows.ts read them), inside one
// transaction: each row's list found, a repeat of an address for the same
// list found (in the batch, and in earlier batches through the import's
// bookkeeping), what the file says of the person taken at its word, and —
// when applying — the rest judged and applied (apply.ts). What comes back is
// the batch's tally: the rows not applied, by line and code, and the counts.
import { createHash } from 'node:crypto'
import type { Queryable } from '../../db/client.js'
import type { ListService } from '../lists/service.js'
import type { ListRow } from '../lists/queries.js'
import { ImportRowCode, ListKind } from '../vocabulary.js'
import { judgeAndApply, type ApplyContext, type ApplyDeps, type Candidate } from './apply.js'
import type { ColumnPlan } from './fields.js'
import { recordSeenRows, type ImportRowOutcome } from './queries.js'
import type { ImportRow, RowReading } from './rows.js'

export interface BatchDeps extends ApplyDeps {
  lists: Pick<ListService, 'findListsBySlugs'>
}

export interface RunContext extends ApplyContext {
  plan: ColumnPlan
  pepper: string
  /** When the import started: opt-ins after it are refused, and suppressions are judged as of it. */
  startedAt: Date
  defaultList: ListRow | null
  /** The lists met so far, by slug (null: there is none): looked up once per import, so both passes see the same. */
  lists: Map<string, ListRow | null>
}

export interface BatchTally {
  /** The rows not applied (invalid, kept out, already there is not among them): the report. */
  outcomes: ImportRowOutcome[]
  counts: Partial<Record<ImportRowCode, number>>
  applied: number
  contactsCreated: number
}

/** `check`: only what makes a row invalid (all or nothing, first pass); `apply`: everything, applying what may be; `applyChecked`: the same after a check pass, which found the repeats already. */
export type BatchMode = 'check' | 'apply' | 'applyChecked'

/** Newsletter and marketing lists that are not archived: course lists follow enrollments, transactional ones take no one. */
export const isImportable = (list: ListRow) => (list.kind === ListKind.newsletter || list.kind === ListKind.marketing) && list.archivedAt === null

/** A digest of the list and the keyed address hash: what a repeat is known by (db/schema/imports.ts). */
const rowKey = (row: ImportRow, list: ListRow) => createHash('sha256').update(`${list.id}:${row.addressHash}`).digest('base64url').slice(0, 22)

async function listsFor(q: Queryable, rows: ImportRow[], run: RunContext, deps: BatchDeps) {
  const missing = [...new Set(rows.flatMap((r) => (r.listSlug && !run.lists.has(r.listSlug) ? [r.listSlug] : [])))]
  if (missing.length === 0) return
  const found = new Map((await deps.lists.findListsBySlugs(q, missing)).map((l) => [l.slug, l]))
  for (const slug of missing) run.lists.set(slug, found.get(slug) ?? null)
}

/** The list a row goes to, or why it cannot. */
function listOf(row: ImportRow, run: RunContext): ListRow | { code: ImportRowCode; detail: string | null } {
  if (!row.listSlug) return run.defaultList ?? { code: ImportRowCode.missingList, detail: 'no list in the row, and the import names none' }
  const list = run.lists.get(row.listSlug)
  if (!list) return { code: ImportRowCode.unknownList, detail: null }
  if (!isImportable(list)) return { code: ImportRowCode.listNotImportable, detail: list.archivedAt ? 'archived' : `a ${list.kind} list` }
  return list
}

/**
 * Which of `lanes` batches in flight at once a row goes to: by its address,
 * so that one address is only ever in one of them — their transactions never
 * wait for each other on a contact, a subscription or a repeat.
 */
export function laneOf(reading: RowReading, lanes: number): number {
  return reading.ok ? parseInt(reading.row.addressHash.slice(0, 8), 16) % lanes : 0
}

export async function processBatch(tx: Queryable, readings: RowReading[], run: RunContext, mode: BatchMode, deps: BatchDeps): Promise<BatchTally> {
  const tally: BatchTally = { outcomes: [], counts: {}, applied: 0, contactsCreated: 0 }
  const note = (line: number, code: ImportRowCode, detail: string | null = null, reported = true) => {
    tally.counts[code] = (tally.counts[code] ?? 0) + 1
    if (reported) tally.outcomes.push({ line, code, detail })
  }

  const rows: ImportRow[] = []
  for (const reading of readings) {
    if (reading.ok) rows.push(reading.row)
    else note(reading.problem.line, reading.problem.code, reading.problem.detail)
  }
  await listsFor(tx, rows, run, deps)

  const keyed: { row: ImportRow; list: ListRow; key: string }[] = []
  const firstInBatch = new Map<string, number>()
  for (const row of rows) {
    const list = listOf(row, run)
    if ('code' in list) {
      note(row.line, list.code, list.detail)
      continue
    }
    const key = rowKey(row, list)
    const first = firstInBatch.get(key)
    if (first !== undefined) note(row.line, ImportRowCode.duplicateInFile, `the address is on line ${first} for the same list`)
    else {
      firstInBatch.set(key, row.line)
      keyed.push({ row, list, key })
    }
  }
  const metBefore =
    mode === 'applyChecked' ? new Map<string, number>() : new Map((await recordSeenRows(tx, run.importId, keyed.map((k) => ({ key: k.key, line: k.row.line })))).map((s) => [s.key, s.line]))
  const candidates: Candidate[] = []
  for (const { row, list, key } of keyed) {
    const first = metBefore.get(key)
    if (first !== undefined) note(row.line, ImportRowCode.duplicateInFile, `the address is on line ${first} for the same list`)
    else if (mode !== 'check' && row.notSubscribed) note(row.line, ImportRowCode.notSubscribedInSource, row.notSubscribed)
    else if (mode !== 'check') candidates.push({ row, list })
  }
  if (mode === 'check') return tally

  const { judged, contactsCreated } = await judgeAndApply(tx, candidates, run, deps)
  tally.contactsCreated = contactsCreated
  for (const { line, verdict } of judged) {
    if (verdict.code === ImportRowCode.added) tally.applied++
    note(line, verdict.code, 'detail' in verdict ? verdict.detail : null, verdict.code !== ImportRowCode.added && verdict.code !== ImportRowCode.alreadySubscribed)
  }
  return tally
}
