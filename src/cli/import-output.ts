// What `npm run import` shows: its progress on stderr — a bar redrawn in
// place on a terminal, a plain line every few seconds otherwise (a log, a
// pipe, CI) — and its report on stdout: the counts by outcome and the rows
// not applied, by line number and code. Never a row's address or name: the
// service's report holds none.
import type { ImportJobRow, ImportRowOutcome } from '../imports/queries.js'
import type { ImportProgress } from '../imports/service.js'

export interface Output {
  progress(progress: ImportProgress): void
  error(text: string): void
  /** The progress is over: a bar's line is ended. */
  done(): void
}

interface Stream {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

/** A redraw at most this often; a plain line at most this often. */
const BAR_EVERY_MS = 100
const LINE_EVERY_MS = 5000
const BAR_WIDTH = 30

const number = (n: number) => n.toLocaleString('en')

function describeProgress(p: ImportProgress): { share: number; text: string } {
  const share = p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : 0
  const what = p.phase === 'checking' ? 'checked' : 'read'
  return { share, text: `${Math.floor(share * 100)}% ${number(p.rowsRead)} rows ${what}, ${number(p.rowsApplied)} applied` }
}

export function progressReporter(stream: Stream, now: () => number = Date.now): Output {
  let last = -Infinity
  let drawn = false
  let pending: ImportProgress | null = null
  const draw = (p: ImportProgress) => {
    const { share, text } = describeProgress(p)
    if (stream.isTTY) {
      const filled = Math.floor(share * BAR_WIDTH)
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${text}${p.phase === 'checking' ? ' (checking every row first)' : ''}\x1b[K`)
      drawn = true
    } else {
      stream.write(`import: ${text}${p.phase === 'checking' ? ' (checking every row first)' : ''}\n`)
    }
    last = now()
    pending = null
  }
  return {
    progress(p) {
      if (now() - last >= (stream.isTTY ? BAR_EVERY_MS : LINE_EVERY_MS)) draw(p)
      else pending = p
    },
    error(text) {
      if (drawn) stream.write('\n')
      drawn = false
      stream.write(text)
    },
    done() {
      if (pending) draw(pending)
      if (drawn) stream.write('\n')
      drawn = false
    },
  }
}

const GROUPS: [string, string[]][] = [
  ['kept out', ['erased', 'objected', 'left_list', 'suppressed', 'not_subscribed_in_source']],
  [
    'invalid',
    ['missing_email', 'invalid_email', 'invalid_date', 'date_in_future', 'missing_list', 'unknown_list', 'list_not_importable', 'duplicate_in_file', 'invalid_status', 'invalid_ip', 'field_too_long', 'invalid_text'],
  ],
]

const STATUS_TEXT: Record<string, string> = {
  completed: 'completed',
  rejected: 'rejected: all or nothing, and some rows are invalid; no row was applied',
  failed: 'failed',
  interrupted: 'interrupted',
  running: 'still running',
}

/** The report: what happened, the counts, the first rows not applied. */
export function describeReport(job: Pick<ImportJobRow, 'id' | 'status' | 'dryRun' | 'rowsRead' | 'rowsApplied' | 'contactsCreated' | 'counts' | 'error'>, rows: ImportRowOutcome[], more: boolean): string {
  const counts = job.counts as Record<string, number>
  const lines = [`Import ${job.id} ${STATUS_TEXT[job.status] ?? job.status}${job.dryRun ? ' (dry run: nothing was written)' : ''}`]
  if (job.error) lines.push(`  ${job.error}`)
  lines.push(`  rows read: ${number(job.rowsRead)}; ${job.dryRun ? 'would be added' : 'added'}: ${number(job.rowsApplied)}; contacts created: ${number(job.contactsCreated)}`)
  if (counts.already_subscribed) lines.push(`  already on the list: ${number(counts.already_subscribed)}`)
  for (const [group, codes] of GROUPS) {
    const present = codes.filter((code) => counts[code])
    if (present.length > 0) lines.push(`  ${group}: ${present.map((code) => `${code} ${number(counts[code]!)}`).join(', ')}`)
  }
  if (rows.length > 0) {
    lines.push('Rows not applied (line: code, detail):')
    for (const row of rows) lines.push(`  ${row.line}: ${row.code}${row.detail ? `, ${row.detail}` : ''}`)
    if (more) lines.push(`  … more: GET /v1/imports/${job.id}/rows`)
  }
  return `${lines.join('\n')}\n`
}
