// Moving suppressions between instances (transfer-format.ts says what the
// file holds): the export writes every suppression in force as the decision
// sees it; the import writes them here as hash-only suppressions (no contact),
// which block anyone with that address, a contact made later included. The
// import refuses a file made under another pepper (its hashes would match
// nobody), reports lines it cannot use by number, and is idempotent: a
// suppression already in force here is not written again. Both are audited.
import { randomUUID } from 'node:crypto'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import type { Database } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { UnprocessableError } from '../lib/errors.js'
import type { ListService } from '../lists/service.js'
import type { SuppressionService } from './service.js'
import {
  parseHeader,
  parseRecord,
  TRANSFER_FORMAT,
  TRANSFER_VERSION,
  TransferProblemCode,
  type TransferHeader,
  type TransferRecord,
} from './transfer-format.js'

/**
 * Suppressions written per transaction. Each takes an advisory lock on its
 * address until commit, and PostgreSQL's lock table holds a few thousand per
 * server: one transaction for a whole file would run out of it.
 */
const IMPORT_BATCH = 500
/** Suppressions read per page while exporting. */
const EXPORT_PAGE = 500
/** The report names at most so many problem lines (and counts them all). */
const MAX_PROBLEMS_LISTED = 1000

export interface TransferProblem {
  line: number
  code: TransferProblemCode
  message: string
}

export interface ImportReport {
  id: string
  exportId: string
  /** Suppression lines in the file (the header and blank lines not counted). */
  records: number
  created: number
  /** The same suppression was in force here already (an import run twice, or one the person said here too). */
  alreadyInForce: number
  /** Expired since the export: nothing to carry over. */
  expired: number
  problemCount: number
  problems: TransferProblem[]
}

/** Text, bytes or a stream of them: what a file arrives as. */
export type TransferSource = string | AsyncIterable<string | Buffer> | Iterable<string | Buffer>

interface ReadFile {
  header: TransferHeader
  /** Suppression lines, usable or not. */
  recordLines: number
  records: { line: number; record: TransferRecord }[]
  problems: TransferProblem[]
}

export function createSuppressionTransferService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  lists: Pick<ListService, 'findListsByIds' | 'findListsBySlugs'>
  suppressions: Pick<SuppressionService, 'suppressIn' | 'listSuppressions'>
  /** transfer-format.ts pepperFingerprint of this instance's pepper (the pepper itself stays with the contacts). */
  pepperFingerprint: string
}) {
  const { db, clock, audit, lists, suppressions } = deps

  /** The file's lines read once: the header checked, each record parsed or reported. */
  async function readFile(source: TransferSource): Promise<ReadFile> {
    const input = typeof source === 'string' ? Readable.from([source]) : Readable.from(source)
    let header: TransferHeader | undefined
    const records: ReadFile['records'] = []
    const problems: TransferProblem[] = []
    let line = 0
    let recordLines = 0
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line += 1
      if (!header) {
        const parsed = parseHeader(text)
        if (!parsed.ok) throw new UnprocessableError('suppression_file_invalid', parsed.message)
        if (parsed.value.pepperFingerprint !== deps.pepperFingerprint) {
          throw new UnprocessableError(
            'pepper_mismatch',
            'The file was made under another SUPPRESSION_PEPPER: its hashes would match nobody here. Import it where the pepper is the same.',
          )
        }
        header = parsed.value
        continue
      }
      if (text.trim() === '') continue
      recordLines += 1
      const parsed = parseRecord(text)
      if (parsed.ok) records.push({ line, record: parsed.value })
      else problems.push({ line, code: TransferProblemCode.malformedLine, message: parsed.message })
    }
    if (!header) throw new UnprocessableError('suppression_file_invalid', 'The file is empty: it has no header line')
    return { header, recordLines, records, problems }
  }

  /** The ids of the lists the records name by slug; a record whose list is not here becomes a problem. */
  async function resolveLists(file: ReadFile): Promise<{ line: number; record: TransferRecord; listId: string | null }[]> {
    const slugs = [...new Set(file.records.flatMap(({ record }) => (record.list ? [record.list] : [])))]
    const bySlug = new Map((await lists.findListsBySlugs(db, slugs)).map((l) => [l.slug, l.id]))
    const resolved = []
    for (const { line, record } of file.records) {
      const listId = record.list ? bySlug.get(record.list) : null
      if (listId === undefined) {
        file.problems.push({ line, code: TransferProblemCode.unknownList, message: `no list here has the slug ${record.list}` })
      } else resolved.push({ line, record, listId })
    }
    file.problems.sort((a, b) => a.line - b.line)
    return resolved
  }

  /** Writes one batch in one transaction; counts what became of each record. */
  async function applyBatch(batch: { record: TransferRecord; listId: string | null }[], actor: Actor, counts: Pick<ImportReport, 'created' | 'alreadyInForce' | 'expired'>) {
    await db.transaction(async (tx) => {
      const now = clock.now()
      for (const { record, listId } of batch) {
        const expiresAt = record.expiresAt ? new Date(record.expiresAt) : null
        if (expiresAt && expiresAt.getTime() <= now.getTime()) {
          counts.expired += 1
          continue
        }
        // When the person said it, as the other instance recorded it; never later than now, or it would not yet be in force.
        const since = new Date(Math.min(Date.parse(record.createdAt), now.getTime()))
        const { created } = await suppressions.suppressIn(
          tx,
          actor,
          now,
          { contactId: null, addressHash: record.addressHash },
          { scope: record.scope, reason: record.reason, listId, purpose: record.purpose, expiresAt, since },
        )
        if (created) counts.created += 1
        else counts.alreadyInForce += 1
      }
    })
  }

  return {
    /**
     * Starts an export: audits it and answers the file's lines (header first),
     * read page by page as they are consumed. Each suppression in force when
     * its page is read is in the file once; none names a contact.
     */
    async exportSuppressions(actor: Actor): Promise<{ exportId: string; lines: AsyncIterable<string> }> {
      const exportId = randomUUID()
      const exportedAt = clock.now()
      await db.transaction((tx) =>
        audit.record(tx, actor, exportedAt, {
          action: 'suppressions.exported',
          entityType: 'suppression-transfer',
          entityId: exportId,
          changes: { pepperFingerprint: deps.pepperFingerprint },
        }),
      )
      const header: TransferHeader = { format: TRANSFER_FORMAT, version: TRANSFER_VERSION, pepperFingerprint: deps.pepperFingerprint, exportId, exportedAt: exportedAt.toISOString() }
      async function* lines() {
        yield `${JSON.stringify(header)}\n`
        let cursor: string | undefined
        do {
          const page = await suppressions.listSuppressions({ active: true, cursor, limit: EXPORT_PAGE })
          const slugs = new Map((await lists.findListsByIds(db, [...new Set(page.items.flatMap((s) => (s.listId ? [s.listId] : [])))])).map((l) => [l.id, l.slug]))
          let chunk = ''
          for (const s of page.items) {
            const record: TransferRecord = {
              addressHash: s.addressHash,
              scope: s.scope,
              reason: s.reason,
              list: s.listId ? slugs.get(s.listId)! : null,
              purpose: s.purpose,
              createdAt: s.createdAt.toISOString(),
              expiresAt: s.expiresAt?.toISOString() ?? null,
            }
            chunk += `${JSON.stringify(record)}\n`
          }
          if (chunk) yield chunk
          cursor = page.nextCursor ?? undefined
        } while (cursor)
      }
      return { exportId, lines: lines() }
    },

    /**
     * Imports a file made by exportSuppressions on this or another instance
     * with the same pepper. Lines that cannot be used (malformed, a list not
     * here) are reported by number and the rest applied; with `allOrNothing`,
     * any such line refuses the whole file (suppression_file_invalid, the
     * problems in the answer) and nothing is written.
     */
    async importSuppressions(source: TransferSource, options: { allOrNothing?: boolean }, actor: Actor): Promise<ImportReport> {
      const file = await readFile(source)
      const usable = await resolveLists(file)
      const problems = file.problems.slice(0, MAX_PROBLEMS_LISTED)
      if (options.allOrNothing && file.problems.length > 0) {
        throw new UnprocessableError('suppression_file_invalid', `${file.problems.length} line(s) cannot be imported; nothing was`, {
          problemCount: file.problems.length,
          problems,
        })
      }
      const counts = { created: 0, alreadyInForce: 0, expired: 0 }
      for (let i = 0; i < usable.length; i += IMPORT_BATCH) await applyBatch(usable.slice(i, i + IMPORT_BATCH), actor, counts)
      const report: ImportReport = { id: randomUUID(), exportId: file.header.exportId, records: file.recordLines, ...counts, problemCount: file.problems.length, problems }
      await db.transaction((tx) =>
        audit.record(tx, actor, clock.now(), {
          action: 'suppressions.imported',
          entityType: 'suppression-transfer',
          entityId: report.id,
          changes: { exportId: report.exportId, pepperFingerprint: deps.pepperFingerprint, records: report.records, ...counts, problems: report.problemCount },
        }),
      )
      return report
    },
  }
}
export type SuppressionTransferService = ReturnType<typeof createSuppressionTransferService>
