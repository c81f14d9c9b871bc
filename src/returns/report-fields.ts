// What delivery status notifications (RFC 3464) and abuse feedback reports
// (RFC 5965) share: opening the multipart/report envelope (RFC 6522) and
// refusing what is not one, reading its machine-readable part as header-style
// field blocks, reading the headers of the returned original, and naming the
// report itself. parse-dsn.ts and parse-arf.ts say what the fields mean; this
// module must not. Pure: no database, no HTTP, no logging. Every refusal is an
// UnreadableReportError with a stable code.

import { createHash } from 'node:crypto'
import type { AddressObject, Attachment, EmailAddress } from 'mailparser'
import { MAX_REPORT_BYTES, UnreadableReportError } from './report.js'

/** mailparser, loaded when the first report is read: a process that reads none (most of them) does not pay its start. */
export const mailParser = async () => (await import('mailparser')).simpleParser

/** One block of `Name: value` fields, names lower-cased; a name may repeat (Original-Rcpt-To). */
export type FieldBlock = ReadonlyMap<string, readonly string[]>

/** What a report names of the message it came back about, read from the returned original's headers. */
export interface ReturnedOriginal {
  /** Its Message-ID, angle brackets included, or null. */
  messageId: string | null
  /** The addresses in its To header, in order; empty when it has none or they were redacted away. */
  to: string[]
}

/** A multipart/report that passed the checks, with the parts the two parsers read. */
export interface OpenedReport {
  /** The report's own Message-ID, or `sha256:<hex>` of the raw bytes when it has none: what makes it unique. */
  identity: string
  /** The report's Date header, or null. */
  date: Date | null
  /** The machine-readable part (message/delivery-status, message/feedback-report), decoded. */
  fieldText: string
  /** The returned original (its full text or only its headers), or null when the report returned neither. */
  original: ReturnedOriginal | null
}

export interface ReportKind {
  /** The report-type parameter the multipart/report must carry, lower case. */
  reportType: string
  /** The content types the machine-readable part may have, lower case. */
  fieldPartTypes: readonly string[]
  /** How refusals name what was expected, e.g. "a delivery status notification". */
  description: string
}

/**
 * The forms a report returns the original in: the whole message or only its
 * headers (RFC 6522), and their RFC 6532 UTF-8 twins (RFC 6533).
 */
const ORIGINAL_PART_TYPES = new Set(['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'])

const PARSER_OPTIONS = {
  // Without this mailparser folds message/delivery-status into the text body.
  keepDeliveryStatus: true,
  // The returned original stays one attachment, so its own parts never mix with the report's.
  ignoreEmbedded: true,
  // Attachments are read, not stored: no checksum (and no MD5 on a FIPS host).
  checksumAlgo: false,
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipImageLinks: true,
  skipTextLinks: true,
} as const

/**
 * Opens raw bytes as a multipart/report of the given kind, or refuses them:
 * report_too_large before anything is read, report_unparsable when they are
 * not a message at all, report_not_a_report when they are a message but not
 * this kind of report.
 */
export async function openReport(raw: Buffer | string, kind: ReportKind): Promise<OpenedReport> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
  if (bytes.length > MAX_REPORT_BYTES) {
    throw new UnreadableReportError('report_too_large', `the report is ${bytes.length} bytes; at most ${MAX_REPORT_BYTES} are read`)
  }
  const mail = await parseMime(bytes)
  // mailparser reads anything as a message; a message whose first lines hold
  // not one header field was never mail (garbage, plain text, nothing).
  if (!mail.headerLines.some((line) => line.key !== '')) {
    throw new UnreadableReportError('report_unparsable', 'the report does not start with a header section')
  }
  checkReportType(mail.headers.get('content-type'), kind)
  const fieldPart = mail.attachments.find((part) => kind.fieldPartTypes.includes(part.contentType.toLowerCase()))
  if (fieldPart === undefined) {
    throw new UnreadableReportError('report_not_a_report', `the report has no ${kind.fieldPartTypes.join(' or ')} part`)
  }
  const originalPart = mail.attachments.find((part) => ORIGINAL_PART_TYPES.has(part.contentType.toLowerCase()))
  return {
    identity: mail.messageId ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    date: validDate(mail.date),
    fieldText: fieldPart.content.toString('utf8'),
    original: originalPart === undefined ? null : await readReturnedOriginal(originalPart),
  }
}

async function parseMime(bytes: Buffer) {
  try {
    return await (await mailParser())(bytes, PARSER_OPTIONS)
  } catch (error) {
    // mailparser gives up on too many parts or an oversized header block.
    const reason = error instanceof Error ? error.message : String(error)
    throw new UnreadableReportError('report_unparsable', `the report is not readable MIME: ${reason}`)
  }
}

function checkReportType(contentType: unknown, kind: ReportKind): void {
  const header = typeof contentType === 'object' && contentType !== null && 'value' in contentType
    ? (contentType as { value: string; params?: Record<string, string> })
    : { value: typeof contentType === 'string' ? contentType : 'text/plain', params: {} }
  const mediaType = header.value.toLowerCase()
  if (mediaType !== 'multipart/report') {
    throw new UnreadableReportError('report_not_a_report', `the message is ${mediaType}, not ${kind.description} (multipart/report)`)
  }
  const reportType = header.params?.['report-type']?.trim().toLowerCase()
  if (reportType !== kind.reportType) {
    throw new UnreadableReportError(
      'report_not_a_report',
      `the multipart/report has report-type ${reportType ?? '(none)'}, not ${kind.reportType}`,
    )
  }
}

/**
 * The Message-ID and To of the returned original. Only its header section is
 * read; one that cannot be read leaves the report without an original rather
 * than refusing it, since the report's own fields still say what happened.
 */
async function readReturnedOriginal(part: Attachment): Promise<ReturnedOriginal | null> {
  try {
    const headers = await (await mailParser())(headerSectionOf(part.content), PARSER_OPTIONS)
    return { messageId: headers.messageId ?? null, to: addressesOf(headers.to) }
  } catch {
    return null
  }
}

/** The bytes up to the first empty line, leading empty lines skipped (some MTAs put one before the original). */
function headerSectionOf(content: Buffer): Buffer {
  let start = 0
  while (content[start] === 0x0d || content[start] === 0x0a) start += 1
  const ends = [content.indexOf('\r\n\r\n', start), content.indexOf('\n\n', start)].filter((index) => index >= 0)
  return content.subarray(start, ends.length === 0 ? content.length : Math.min(...ends))
}

function addressesOf(header: AddressObject | AddressObject[] | undefined): string[] {
  const flatten = (entries: EmailAddress[]): string[] =>
    entries.flatMap((entry) => [...(entry.address ? [entry.address] : []), ...flatten(entry.group ?? [])])
  return [header ?? []].flat().flatMap((object) => flatten(object.value))
}

// --- field blocks ----------------------------------------------------------------

/**
 * Reads header-style fields (RFC 3464 2.1, RFC 5965 3.1): blocks separated by
 * empty lines, continuation lines unfolded onto their field. A line that is no
 * field is skipped; empty blocks are dropped.
 */
export function readFieldBlocks(text: string): FieldBlock[] {
  const blocks: Map<string, string[]>[] = []
  let block = new Map<string, string[]>()
  let current: { name: string; index: number } | null = null
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') {
      if (block.size > 0) blocks.push(block)
      block = new Map()
      current = null
    } else if (/^[ \t]/.test(line)) {
      // RFC 5322 2.2.3 unfolding: the line break goes, the white space stays.
      if (current !== null) appendToField(block, current, line)
    } else {
      const field = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line)
      current = field ? addField(block, field[1]!.toLowerCase(), field[2]!) : null
    }
  }
  if (block.size > 0) blocks.push(block)
  return blocks.map((fields) => new Map([...fields].map(([name, values]) => [name, values.map((value) => value.trim())])))
}

function addField(block: Map<string, string[]>, name: string, value: string): { name: string; index: number } {
  const values = block.get(name) ?? []
  values.push(value)
  block.set(name, values)
  return { name, index: values.length - 1 }
}

function appendToField(block: Map<string, string[]>, field: { name: string; index: number }, line: string): void {
  const values = block.get(field.name)!
  values[field.index] += line
}

/** The first value of a field, or undefined when the block does not have it or it is empty. */
export function fieldValue(block: FieldBlock | undefined, name: string): string | undefined {
  const value = block?.get(name)?.[0]
  return value === undefined || value === '' ? undefined : value
}

/** Every non-empty value of a field, in order. */
export function fieldValues(block: FieldBlock | undefined, name: string): string[] {
  return (block?.get(name) ?? []).filter((value) => value !== '')
}

// --- values ----------------------------------------------------------------------

/**
 * Splits a typed value, `rfc822; nobody@example.org` or `smtp; 550 5.1.1 …`,
 * into its type (lower-cased) and text. A value without the `type;` prefix
 * has type null and is all text.
 */
export function splitTypedValue(value: string): { type: string | null; text: string } {
  const typed = /^([A-Za-z0-9][A-Za-z0-9.+-]*)[ \t]*;(.*)$/s.exec(value)
  return typed ? { type: typed[1]!.toLowerCase(), text: typed[2]!.trim() } : { type: null, text: value.trim() }
}

/** An address as a report writes it, angle brackets and surrounding space removed: `<a@b>` → `a@b`. */
export function unwrapAddress(text: string): string {
  const trimmed = text.trim()
  return /^<.*>$/s.test(trimmed) ? trimmed.slice(1, -1).trim() : trimmed
}

/**
 * A date-time field (RFC 5322, as DSN and ARF dates are), or null. Anything
 * without a time of day is refused: Date.parse would take "2025" as a date.
 */
export function readReportDate(value: string | undefined): Date | null {
  if (value === undefined || !/\d{1,2}:\d{2}/.test(value)) return null
  return validDate(new Date(value))
}

function validDate(date: Date | undefined): Date | null {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date : null
}
