// The suppression transfer file: what moves from one instance to another so
// that everyone who left stays suppressed there. NDJSON — one JSON object a
// line, so it streams both ways, a problem has a line number, and the header
// can have another shape than the records (CSV gives every row one set of
// columns and no types). The first line is the header: format, version and a
// fingerprint of the pepper the hashes were made with. Each further line is
// one suppression in force: the keyed address hash, scope, reason, the list
// by slug (ids differ between instances) or the purpose, and its times.
// Never a contact id, an address, a name or a note: this file reads and
// writes nothing else, and a record with any other field is refused.
import { createHmac } from 'node:crypto'
import { SuppressionReason, SuppressionScope } from '../vocabulary.js'

export const TRANSFER_FORMAT = 'samtykke-suppressions'
export const TRANSFER_VERSION = 1
export const NDJSON = 'application/x-ndjson'

/** Why a line of a file was not imported. */
export const TransferProblemCode = { malformedLine: 'line_malformed', unknownList: 'list_unknown' } as const
export type TransferProblemCode = (typeof TransferProblemCode)[keyof typeof TransferProblemCode]

/**
 * Names the pepper without giving it away: an HMAC under the pepper of a fixed
 * text, cut to 128 bits. Two instances with the same fingerprint make the same
 * hashes; the fingerprint says nothing about an address, and nobody can get
 * the pepper back from it.
 */
export function pepperFingerprint(pepper: string): string {
  return createHmac('sha256', pepper).update('samtykke pepper fingerprint v1').digest('hex').slice(0, 32)
}

export interface TransferHeader {
  format: typeof TRANSFER_FORMAT
  version: typeof TRANSFER_VERSION
  pepperFingerprint: string
  /** The export's id; its audit entry on the exporting instance has it. */
  exportId: string
  exportedAt: string
}

export interface TransferRecord {
  addressHash: string
  scope: SuppressionScope
  reason: SuppressionReason
  /** The list's slug, for scope list; null otherwise. */
  list: string | null
  /** For scope purpose; null otherwise. */
  purpose: string | null
  createdAt: string
  expiresAt: string | null
}

const RECORD_FIELDS = ['addressHash', 'scope', 'reason', 'list', 'purpose', 'createdAt', 'expiresAt'] as const
const HASH = /^[0-9a-f]{64}$/
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/
// The purpose pattern of CreateSuppressionBody.
const PURPOSE = /^[a-z0-9][a-z0-9-]{0,62}$/
const SCOPES = new Set<string>(Object.values(SuppressionScope))
const REASONS = new Set<string>(Object.values(SuppressionReason))

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

const refuse = (message: string): { ok: false; message: string } => ({ ok: false, message })

function parseObject(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}

const isTime = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T/.test(value)

/** The header line, or why it is not one. */
export function parseHeader(line: string): Parsed<TransferHeader> {
  const o = parseObject(line)
  if (!o || o.format !== TRANSFER_FORMAT) {
    return refuse(`line 1 is not the header of a suppression export (a file written through "npm run" without -s starts with npm's own lines: use --out)`)
  }
  if (o.version !== TRANSFER_VERSION) return refuse(`the file is version ${JSON.stringify(o.version)}; this instance reads version ${TRANSFER_VERSION}`)
  if (typeof o.pepperFingerprint !== 'string' || typeof o.exportId !== 'string' || !isTime(o.exportedAt)) {
    return refuse('the header lacks pepperFingerprint, exportId or exportedAt')
  }
  return { ok: true, value: o as unknown as TransferHeader }
}

/** Whether the list and purpose fit the scope, as the table's checks demand. */
function scopeProblem(o: Record<string, unknown>): string | null {
  if ((o.scope === SuppressionScope.list) !== (o.list !== null)) return 'scope "list" needs a list slug, and only it takes one'
  if (o.list !== null && (typeof o.list !== 'string' || !SLUG.test(o.list))) return 'list is not a list slug'
  if ((o.scope === SuppressionScope.purpose) !== (o.purpose !== null)) return 'scope "purpose" needs a purpose, and only it takes one'
  if (o.purpose !== null && (typeof o.purpose !== 'string' || !PURPOSE.test(o.purpose))) return 'purpose is not a purpose name'
  return null
}

/** A record line, or why it is not one (never echoing the line: it is the person's hash at best). */
export function parseRecord(line: string): Parsed<TransferRecord> {
  const o = parseObject(line)
  if (!o) return refuse('not a JSON object')
  const unknown = Object.keys(o).filter((k) => !(RECORD_FIELDS as readonly string[]).includes(k))
  if (unknown.length > 0) return refuse(`fields this format does not have: ${unknown.join(', ')}`)
  const missing = RECORD_FIELDS.filter((k) => !(k in o))
  if (missing.length > 0) return refuse(`missing: ${missing.join(', ')}`)
  if (typeof o.addressHash !== 'string' || !HASH.test(o.addressHash)) return refuse('addressHash is not a keyed hash (64 hex digits)')
  if (typeof o.scope !== 'string' || !SCOPES.has(o.scope)) return refuse(`scope must be one of: ${[...SCOPES].join(', ')}`)
  if (typeof o.reason !== 'string' || !REASONS.has(o.reason)) return refuse(`reason must be one of: ${[...REASONS].join(', ')}`)
  const scope = scopeProblem(o)
  if (scope) return refuse(scope)
  if (!isTime(o.createdAt)) return refuse('createdAt is not a date-time')
  if (o.expiresAt !== null && !isTime(o.expiresAt)) return refuse('expiresAt is not a date-time or null')
  return { ok: true, value: o as unknown as TransferRecord }
}
