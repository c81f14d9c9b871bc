// What every email provider's event arrives as, and how its parts are read:
// the raw body (size-capped before anything looks at it), its headers, the
// JSON inside, and the fields our report shape takes from it (a Message-ID in
// angle brackets, a time, an enhanced status, a one-line diagnostic). Pure:
// no I/O, no logging, no Fastify types; a bad input becomes an
// UnreadableReportError and nothing else.
import { flattenReply, readEnhancedStatus } from '../../delivery/smtp-reply.js'
import { MAX_REPORT_BYTES, UnreadableReportError, type MessageReference, type ParsedReport } from '../report.js'

/** Request headers as Node gives them: names in any case, a repeated header as an array. */
export type HeaderRecord = Record<string, string | string[] | undefined>

/** One POST from a provider, as the route hands it over: the body exactly as received. */
export interface ProviderRequest {
  body: Buffer | string
  headers: HeaderRecord
}

/** What a provider's post comes to. */
export interface ProviderEvents {
  reports: ParsedReport[]
  /** An SNS SubscriptionConfirmation that verified: the caller visits this URL to confirm (we never do it here). */
  confirmSubscription?: string
}

/**
 * How old a signed timestamp may be: replays of a captured post are refused
 * after this. SNS signs the time a message was published and keeps it through
 * its retries, whose whole policy cannot run longer than an hour.
 */
export const MAX_SIGNED_AGE_MS = 60 * 60 * 1000

/** How far ahead of our clock a signed timestamp may be: the sender's and our clocks drift apart a little, not by minutes. */
export const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000

/** The body as text, refused unread when it is larger than a report can be. */
export function readBodyText(body: Buffer | string): string {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length
  if (size > MAX_REPORT_BYTES) {
    throw new UnreadableReportError('report_too_large', `The event is ${size} bytes; at most ${MAX_REPORT_BYTES} are taken`)
  }
  return typeof body === 'string' ? body : body.toString('utf8')
}

/** JSON.parse that fails as report_unparsable, naming what was being read. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new UnreadableReportError('report_unparsable', `${what} is not JSON`)
  }
}

/** A header's one value, whatever the case of its name; undefined when absent, empty or repeated (a repeated signature header is not to be chosen from). */
export function readSingleHeader(headers: HeaderRecord, name: string): string | undefined {
  const wanted = name.toLowerCase()
  const values: string[] = []
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue
    values.push(...(Array.isArray(value) ? value : [value]))
  }
  return values.length === 1 && values[0] !== '' ? values[0] : undefined
}

/** Refuses a signed time too old (a replay) or too far ahead of ours. */
export function checkSignedTime(signedAt: Date, now: Date, provider: string): void {
  const age = now.getTime() - signedAt.getTime()
  if (Number.isNaN(age)) throw new UnreadableReportError('report_signature_invalid', `${provider} event has no readable signing time`)
  if (age > MAX_SIGNED_AGE_MS) throw new UnreadableReportError('report_signature_invalid', `${provider} event was signed more than an hour ago`)
  if (-age > MAX_CLOCK_AHEAD_MS) throw new UnreadableReportError('report_signature_invalid', `${provider} event is signed for a time ahead of ours`)
}

// --- fields --------------------------------------------------------------------------

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

/** A non-empty string, trimmed; anything else is undefined. */
export function asText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  return text === '' ? undefined : text
}

/**
 * A Message-ID as our MessageReference keeps it, angle brackets included. A
 * provider that drops the brackets still gets matched; a value that is no
 * Message-ID at all (a provider's own id without an @) is not one of ours.
 */
export function normaliseMessageId(value: unknown): string | undefined {
  const text = asText(value)
  if (text === undefined) return undefined
  const bare = text.startsWith('<') && text.endsWith('>') ? text.slice(1, -1).trim() : text
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test(bare)) return undefined
  return `<${bare}>`
}

/** The reference a provider's event gives, without a headerMessageId key when there is none. */
export function referenceTo(headerMessageId: string | undefined): MessageReference {
  return headerMessageId === undefined ? {} : { headerMessageId }
}

/** An ISO 8601 time, or null when missing or unreadable. */
export function readIsoTime(value: unknown): Date | null {
  const text = asText(value)
  if (text === undefined) return null
  const time = new Date(text)
  return Number.isNaN(time.getTime()) ? null : time
}

/** The first enhanced status (RFC 3463, normalised) found in these texts, in order, or null. */
export function readStatus(...texts: unknown[]): string | null {
  for (const text of texts) {
    const status = typeof text === 'string' ? readEnhancedStatus(text) : undefined
    if (status !== undefined) return status
  }
  return null
}

/** The remote server's words on one line, or null when there are none. */
export function readDiagnostic(value: unknown): string | null {
  const text = asText(value)
  return text === undefined ? null : flattenReply(text)
}
