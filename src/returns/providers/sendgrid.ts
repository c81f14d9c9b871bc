// SendGrid's event webhook: a JSON array of events, verified by SendGrid's
// signed event webhook (ECDSA P-256 with SHA-256 over the timestamp header
// followed by the raw body, checked with the public key SendGrid shows), then
// read into our report shape. bounce, dropped (for an address SendGrid has
// already found bad), deferred, spamreport and delivered become reports;
// processed, open, click and the unsubscribe events yield nothing — our own
// links handle unsubscribes. Pure: no I/O, no logging, no Fastify.
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../../lib/clock.js'
import { UnreadableReportError, type ParsedReport, type ReturnReport } from '../report.js'
import {
  asRecord,
  asText,
  checkSignedTime,
  normaliseMessageId,
  parseJson,
  readBodyText,
  readDiagnostic,
  readSingleHeader,
  readStatus,
  referenceTo,
  type ProviderRequest,
} from './input.js'

export interface SendGridSettings {
  /** The verification key SendGrid shows for its signed event webhook: base64 DER (SubjectPublicKeyInfo); a PEM is taken too. */
  publicKey: string
}

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature'
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp'

/** Refuses a SendGrid post whose signature does not verify, or that was signed more than an hour ago. */
export function verifySendGridRequest(request: ProviderRequest, settings: SendGridSettings, deps: { clock?: Clock } = {}): void {
  readBodyText(request.body)
  const key = readPublicKey(settings.publicKey)
  const signature = readSingleHeader(request.headers, SENDGRID_SIGNATURE_HEADER)
  const timestamp = readSingleHeader(request.headers, SENDGRID_TIMESTAMP_HEADER)
  if (signature === undefined || timestamp === undefined) throw invalid('The SendGrid event is not signed (no signature or timestamp header)')
  if (!/^\d{1,12}$/.test(timestamp)) throw invalid('The SendGrid timestamp header is not a time in seconds')
  checkSignedTime(new Date(Number(timestamp) * 1000), (deps.clock ?? systemClock).now(), 'SendGrid')
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body
  let valid: boolean
  try {
    valid = verifySignature('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signature, 'base64'))
  } catch {
    valid = false
  }
  if (!valid) throw invalid('The SendGrid signature does not match the event')
}

function readPublicKey(text: string): KeyObject {
  let key: KeyObject
  try {
    key = text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' })
  } catch {
    throw invalid('The configured SendGrid public key cannot be read')
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalid('The configured SendGrid public key is not a P-256 key')
  }
  return key
}

/** The reports in one verified SendGrid post, in the order of its events. */
export function parseSendGridEvents(body: Buffer | string): ParsedReport[] {
  const events = parseJson(readBodyText(body), 'The SendGrid post')
  if (!Array.isArray(events)) throw new UnreadableReportError('report_not_a_report', 'The body is not a SendGrid event array')
  const reports: ParsedReport[] = []
  for (const item of events) {
    const event = asRecord(item)
    if (event === undefined || typeof event.event !== 'string') throw new UnreadableReportError('report_unparsable', 'A SendGrid event is not an object with an event name')
    const returnReport = readEvent(event)
    if (returnReport === undefined) continue
    const eventId = asText(event.sg_event_id)
    if (eventId === undefined) throw new UnreadableReportError('report_unparsable', `A SendGrid ${event.event} event has no sg_event_id`)
    reports.push({
      report: returnReport,
      message: referenceTo(normaliseMessageId(event['smtp-id'])),
      recipient: asText(event.email) ?? null,
      reportKey: `sendgrid:${eventId}`,
      occurredAt: typeof event.timestamp === 'number' && Number.isFinite(event.timestamp) ? new Date(event.timestamp * 1000) : null,
    })
  }
  return reports
}

function readEvent(event: Record<string, unknown>): ReturnReport | undefined {
  switch (event.event) {
    case 'bounce':
      return readBounce(event)
    case 'dropped':
      return readDropped(event)
    case 'deferred':
      // SendGrid keeps trying; each deferral is its own event (its own sg_event_id).
      return { type: 'bounce', severity: 'transient', status: readStatus(event.status, event.response), providerType: 'deferred', diagnostic: readDiagnostic(event.response) }
    case 'spamreport':
      return { type: 'complaint', feedbackType: null }
    case 'delivered':
      return { type: 'delivered' }
    default:
      return undefined
  }
}

/**
 * A bounce event is either a bounce proper (type "bounce": the server refused
 * for good, unless its status says 4.x.x) or a block (type "blocked": a refusal
 * for policy or reputation, which may pass).
 */
function readBounce(event: Record<string, unknown>): ReturnReport {
  const type = asText(event.type) ?? 'bounce'
  const status = readStatus(event.status, event.reason)
  const severity = type === 'blocked' || status?.startsWith('4.') ? 'transient' : 'permanent'
  return { type: 'bounce', severity, status, providerType: type, diagnostic: readDiagnostic(event.reason) }
}

/**
 * Reasons for a drop that are SendGrid's verdict on the address itself: it
 * bounced before ("Bounced Address") or is on SendGrid's invalid-address list
 * ("Invalid"). A drop for another reason (the address unsubscribed or
 * complained at SendGrid, a quota, a bad header) says nothing about the
 * address that our own records do not already say better.
 */
const ADDRESS_DROP_REASONS = new Set(['Bounced Address', 'Invalid'])

function readDropped(event: Record<string, unknown>): ReturnReport | undefined {
  const reason = asText(event.reason)
  if (reason === undefined || !ADDRESS_DROP_REASONS.has(reason)) return undefined
  // The message never reached a server: the status on a drop ("5.0.0") is SendGrid's placeholder, not a reply.
  return { type: 'bounce', severity: 'permanent', status: null, providerType: `dropped/${reason}`, diagnostic: reason }
}

function invalid(message: string): UnreadableReportError {
  return new UnreadableReportError('report_signature_invalid', message)
}
