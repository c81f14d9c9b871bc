// Amazon SES events, as SNS delivers them: verified by ./sns-signature.ts,
// then read into our report shape. Both of SES's JSON forms are read: its
// feedback notifications (`notificationType`) and event publishing
// (`eventType`). Bounce, Complaint, Delivery and DeliveryDelay become reports,
// one per recipient; every other event (Send, Reject, Open, Click, Rendering
// Failure, Subscription, SES's own notices) verifies but yields nothing, as
// none of them says what became of a message at the recipient's server. Pure
// apart from the certificate fetch inside verification: no database, no
// logging, no Fastify; the caller visits a SubscribeURL, never this file.
import type { ParsedReport, ReturnReport } from '../report.js'
import { UnreadableReportError, type BounceSeverity } from '../report.js'
import {
  asRecord,
  asText,
  normaliseMessageId,
  readDiagnostic,
  readIsoTime,
  readStatus,
  referenceTo,
  type ProviderEvents,
  type ProviderRequest,
} from './input.js'
import { verifySnsMessage, type SnsDeps, type SnsSettings, type VerifiedSnsMessage } from './sns-signature.js'

export type SesSettings = SnsSettings
export type SesDeps = SnsDeps

/** Checks an SNS post from SES: signature, certificate origin, topic, age. The headers add nothing SNS signs, so only the body is read. */
export function verifySesRequest(request: ProviderRequest, settings: SesSettings, deps: SesDeps = {}): Promise<VerifiedSnsMessage> {
  return verifySnsMessage(request.body, settings, deps)
}

/** What a verified SNS message from SES comes to: reports, or a subscription for the caller to confirm. */
export function parseSesMessage(verified: VerifiedSnsMessage): ProviderEvents {
  switch (verified.type) {
    case 'SubscriptionConfirmation':
      return { reports: [], confirmSubscription: verified.subscribeUrl }
    case 'UnsubscribeConfirmation':
      return { reports: [] }
    case 'Notification':
      return { reports: parseSesEvent(verified.messageId, verified.message) }
  }
}

/**
 * The reports in one SES notification or event record. A Message that is not
 * a JSON object yields nothing: it was signed for our topic, and SES itself
 * publishes plain-text notices there ("Successfully validated SNS topic for
 * Amazon SES event publishing.").
 */
export function parseSesEvent(snsMessageId: string, message: string): ParsedReport[] {
  let event: Record<string, unknown> | undefined
  try {
    event = asRecord(JSON.parse(message))
  } catch {
    return []
  }
  if (event === undefined) return []
  const kind = event.notificationType ?? event.eventType
  const base = { snsMessageId, headerMessageId: headerMessageIdOf(asRecord(event.mail)) }
  switch (kind) {
    case 'Bounce':
      return readBounce(base, section(event, 'bounce'))
    case 'Complaint':
      return readComplaint(base, section(event, 'complaint'))
    case 'Delivery':
      return readDelivery(base, section(event, 'delivery'))
    case 'DeliveryDelay':
      return readDeliveryDelay(base, section(event, 'deliveryDelay'))
    default:
      return []
  }
}

interface EventBase {
  snsMessageId: string
  headerMessageId: string | undefined
}

const SEVERITIES: Record<string, BounceSeverity> = { Permanent: 'permanent', Transient: 'transient', Undetermined: 'undetermined' }

function readBounce(base: EventBase, bounce: Record<string, unknown>): ParsedReport[] {
  const bounceType = asText(bounce.bounceType)
  const providerType = [bounceType, asText(bounce.bounceSubType)].filter((part) => part !== undefined).join('/') || null
  const severity = (bounceType !== undefined ? SEVERITIES[bounceType] : undefined) ?? 'undetermined'
  const occurredAt = readIsoTime(bounce.timestamp)
  return recipientEntries(bounce, 'bouncedRecipients').map(({ address, entry }) =>
    report(base, address, occurredAt, {
      type: 'bounce',
      severity,
      status: readStatus(entry.status, entry.diagnosticCode),
      providerType,
      diagnostic: readDiagnostic(entry.diagnosticCode),
    }),
  )
}

function readComplaint(base: EventBase, complaint: Record<string, unknown>): ParsedReport[] {
  const feedbackType = asText(complaint.complaintFeedbackType) ?? null
  const occurredAt = readIsoTime(complaint.timestamp)
  return recipientEntries(complaint, 'complainedRecipients').map(({ address }) => report(base, address, occurredAt, { type: 'complaint', feedbackType }))
}

function readDelivery(base: EventBase, delivery: Record<string, unknown>): ParsedReport[] {
  const recipients = delivery.recipients
  if (!Array.isArray(recipients) || recipients.some((recipient) => asText(recipient) === undefined)) {
    throw new UnreadableReportError('report_unparsable', 'SES Delivery has no list of recipients')
  }
  const occurredAt = readIsoTime(delivery.timestamp)
  return recipients.map((recipient) => report(base, asText(recipient) as string, occurredAt, { type: 'delivered' }))
}

/** A delay is SES still trying: a transient failure for each recipient, in the bounce shape. */
function readDeliveryDelay(base: EventBase, delay: Record<string, unknown>): ParsedReport[] {
  const delayType = asText(delay.delayType)
  const providerType = delayType === undefined ? 'DeliveryDelay' : `DeliveryDelay/${delayType}`
  const occurredAt = readIsoTime(delay.timestamp)
  return recipientEntries(delay, 'delayedRecipients').map(({ address, entry }) =>
    report(base, address, occurredAt, {
      type: 'bounce',
      severity: 'transient',
      status: readStatus(entry.status, entry.diagnosticCode),
      providerType,
      diagnostic: readDiagnostic(entry.diagnosticCode),
    }),
  )
}

function report(base: EventBase, recipient: string, occurredAt: Date | null, returnReport: ReturnReport): ParsedReport {
  return {
    report: returnReport,
    message: referenceTo(base.headerMessageId),
    recipient,
    // One SNS message can name several recipients; each is its own report.
    reportKey: `ses:${base.snsMessageId}:${recipient}`,
    occurredAt,
  }
}

/** The event's own object (bounce, complaint…); an event without it is broken, not ignorable. */
function section(event: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = asRecord(event[name])
  if (value === undefined) throw new UnreadableReportError('report_unparsable', `SES ${String(event.notificationType ?? event.eventType)} has no ${name} object`)
  return value
}

/** The entries of a list of { emailAddress, … } objects, each with its address. */
function recipientEntries(parent: Record<string, unknown>, field: string): { address: string; entry: Record<string, unknown> }[] {
  const list = parent[field]
  if (!Array.isArray(list)) throw new UnreadableReportError('report_unparsable', `SES event has no ${field} list`)
  return list.map((item) => {
    const entry = asRecord(item)
    const address = asText(entry?.emailAddress)
    if (entry === undefined || address === undefined) throw new UnreadableReportError('report_unparsable', `SES ${field} has an entry without an emailAddress`)
    return { address, entry }
  })
}

/**
 * The Message-ID our message went out with. SES overwrites headers as it
 * sends and keeps the originals in mail.headers and mail.commonHeaders; the
 * literal header comes first, as commonHeaders.messageId (SES's digest) shows
 * SES's own id in its examples when none was set. SES's own ids have no @, so
 * normaliseMessageId drops them.
 */
function headerMessageIdOf(mail: Record<string, unknown> | undefined): string | undefined {
  if (mail === undefined) return undefined
  const headers = Array.isArray(mail.headers) ? mail.headers : []
  for (const header of headers) {
    const entry = asRecord(header)
    if (typeof entry?.name === 'string' && entry.name.toLowerCase() === 'message-id') {
      const id = normaliseMessageId(entry.value)
      if (id !== undefined) return id
    }
  }
  return normaliseMessageId(asRecord(mail.commonHeaders)?.messageId)
}
