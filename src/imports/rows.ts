// One record of an import file read as a row: the address checked and
// hashed (as suppressions key it), the name, the list, the moment of the
// opt-in and the consent evidence, and whether the file itself says the
// person is subscribed there — or the stable code of what is wrong with it.
// Pure: no database; the list is a slug until the service looks it up.
import { isIP } from 'node:net'
import { addressHash, parseEmail } from '../lib/email.js'
import { isStorableText } from '../plugins/input.js'
import { ImportRowCode } from '../vocabulary.js'
import type { CsvRecord } from './csv.js'
import type { ColumnPlan, ImportField } from './fields.js'

export interface ImportRow {
  line: number
  /** The address as stored (src/lib/email.ts), and its canonical form. */
  email: string
  canonical: string
  /** The keyed hash suppressions, objections and erasures know the address by. */
  addressHash: string
  name: string | null
  /** The list's slug; null: the import's default list. */
  listSlug: string | null
  subscribedAt: Date | null
  consentSource: string | null
  consentText: string | null
  ip: string | null
  /** Set when the file says the person is not subscribed there: what it says (a status, or that a leaving time is given). */
  notSubscribed: string | null
}

export interface RowProblem {
  line: number
  code: ImportRowCode
  /** In our words only (a field name, a limit), never the cell's text. */
  detail: string | null
}

export type RowReading = { ok: true; row: ImportRow } | { ok: false; problem: RowProblem }

const LIMITS: Partial<Record<ImportField, number>> = { name: 200, firstName: 100, lastName: 100, consentSource: 200, consentText: 2000, list: 63 }

/** Statuses the three tools export for someone who gets their mail; the others mean the person left, bounced or never confirmed. */
const SUBSCRIBED = new Set(['', 'subscribed', 'enabled', 'active', 'confirmed'])
const NOT_SUBSCRIBED = new Set(['unsubscribed', 'blocklisted', 'blacklisted', 'disabled', 'bounced', 'complained', 'cleaned', 'pending', 'unconfirmed'])

/** Earliest opt-in time taken: older ones are typing errors, not consents. */
const EARLIEST = Date.UTC(1990, 0, 1)
/** A clock a little ahead of ours still gave a real time. */
const FUTURE_SKEW_MS = 5 * 60 * 1000

/**
 * ISO 8601 and the forms the exports write: Mailchimp's `2014-11-01
 * 20:53:34` (UTC), listmonk's Go time `2024-01-15 10:30:00.123456 +0000 UTC`,
 * and a bare date (midnight UTC). A time without a zone is UTC.
 */
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?(?:\s+(?:[A-Z]{2,5}|[+-]\d{2,4}))?$/

export function parseImportDate(text: string): Date | null {
  const m = DATE.exec(text.trim())
  if (!m) return null
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = m
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0').slice(0, 3)))
  const check = new Date(local)
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null
  if (!zone || zone === 'Z') return check
  const sign = zone.startsWith('-') ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  return new Date(local - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000)
}

const problem = (line: number, code: ImportRowCode, detail: string | null = null): RowReading => ({ ok: false, problem: { line, code, detail } })

/** The first non-empty cell of a field's columns, trimmed; null when the file has none. */
function cell(record: CsvRecord, plan: ColumnPlan, field: ImportField): string | null {
  for (const column of plan.fields[field] ?? []) {
    const value = record.cells[column]?.trim()
    if (value) return value
  }
  return null
}

export interface ReadContext {
  plan: ColumnPlan
  pepper: string
  /** When the import started: an opt-in after it is refused. */
  startedAt: Date
}

/** Reads one record; a row, or the first thing wrong with it. */
export function readRow(record: CsvRecord, { plan, pepper, startedAt }: ReadContext): RowReading {
  const { line } = record
  const value: Partial<Record<ImportField, string | null>> = {}
  for (const field of Object.keys(plan.fields) as ImportField[]) {
    const text = cell(record, plan, field)
    // U+FFFD is what bytes that are not UTF-8 were read as (a Windows-1252 file): the text is lost, not stored.
    if (text !== null && (!isStorableText(text) || text.includes('\uFFFD'))) return problem(line, ImportRowCode.invalidText, field)
    const limit = LIMITS[field]
    if (text !== null && limit !== undefined && text.length > limit) return problem(line, ImportRowCode.fieldTooLong, `${field}: at most ${limit} characters`)
    value[field] = text
  }
  if (!value.email) return problem(line, ImportRowCode.missingEmail)
  const parsed = parseEmail(value.email)
  if (!parsed.ok) return problem(line, ImportRowCode.invalidEmail, parsed.message)

  let subscribedAt: Date | null = null
  if (value.subscribedAt) {
    subscribedAt = parseImportDate(value.subscribedAt)
    if (!subscribedAt || subscribedAt.getTime() < EARLIEST) return problem(line, ImportRowCode.invalidDate, 'subscribedAt: not a date and time this import reads (ISO 8601, or YYYY-MM-DD HH:MM:SS in UTC)')
    if (subscribedAt.getTime() > startedAt.getTime() + FUTURE_SKEW_MS) return problem(line, ImportRowCode.dateInFuture, 'subscribedAt is after the import started')
  }
  if (value.leftAt && !parseImportDate(value.leftAt)) return problem(line, ImportRowCode.invalidDate, 'leftAt: not a date and time this import reads')
  const status = (value.status ?? '').toLowerCase()
  if (!SUBSCRIBED.has(status) && !NOT_SUBSCRIBED.has(status)) {
    return problem(line, ImportRowCode.invalidStatus, `status: one of ${[...SUBSCRIBED].filter(Boolean).join(', ')} (imported) or ${[...NOT_SUBSCRIBED].join(', ')} (kept out)`)
  }
  if (value.ip && isIP(value.ip) === 0) return problem(line, ImportRowCode.invalidIp)
  if (value.list && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(value.list)) return problem(line, ImportRowCode.unknownList, 'list: not a list slug')

  const name = value.name ?? ([value.firstName, value.lastName].filter(Boolean).join(' ') || null)
  return {
    ok: true,
    row: {
      line,
      email: parsed.email,
      canonical: parsed.canonical,
      addressHash: addressHash(parsed.canonical, pepper),
      name,
      listSlug: value.list ?? null,
      subscribedAt,
      consentSource: value.consentSource ?? null,
      consentText: value.consentText ?? null,
      ip: value.ip ?? null,
      notSubscribed: NOT_SUBSCRIBED.has(status) ? status : value.leftAt ? 'a time of leaving is given' : null,
    },
  }
}
