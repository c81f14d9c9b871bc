// Postmark webhooks: verified by the HTTP basic auth credentials Postmark
// sends (configured in the webhook URL as https://user:password@…), compared
// in constant time; then one event read into our report shape. Bounce,
// SpamComplaint and Delivery records become reports; other records (Open,
// Click, SubscriptionChange) and the bounce types that are no failure of
// delivery (auto-replies, challenge mails, subscribe requests…) yield
// nothing. Pure: no I/O, no logging, no Fastify.
import { createHash, timingSafeEqual } from 'node:crypto'
import { UnreadableReportError, type BounceSeverity, type ParsedReport, type ReturnReport } from '../report.js'
import {
  asRecord,
  asText,
  normaliseMessageId,
  parseJson,
  readBodyText,
  readDiagnostic,
  readIsoTime,
  readSingleHeader,
  readStatus,
  referenceTo,
  type ProviderRequest,
} from './input.js'

export interface PostmarkSettings {
  username: string
  password: string
}

/**
 * The metadata key our messages carry through Postmark (sent as the header
 * `X-PM-Metadata-samtykke-message-id: <uuid@host>`): Postmark does not echo
 * our Message-ID, only its own MessageID and the metadata.
 */
export const POSTMARK_MESSAGE_ID_METADATA = 'samtykke-message-id'

/** Refuses a Postmark post without the configured basic auth credentials. */
export function verifyPostmarkRequest(request: ProviderRequest, settings: PostmarkSettings): void {
  readBodyText(request.body)
  if (settings.username === '' || settings.password === '') throw invalid('Postmark events are not configured with credentials')
  const authorization = readSingleHeader(request.headers, 'authorization')
  const match = authorization === undefined ? null : /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization)
  if (match === null) throw invalid('The Postmark event carries no basic auth credentials')
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw invalid('The Postmark event carries no basic auth credentials')
  // Both are compared whatever the first gives, so the time taken tells nothing about either.
  const checks = [sameSecret(decoded.slice(0, colon), settings.username), sameSecret(decoded.slice(colon + 1), settings.password)]
  if (!checks.every(Boolean)) throw invalid('The Postmark event carries wrong credentials')
}

/** Equal-length digests, so timingSafeEqual can compare secrets of any length without telling their lengths apart. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/** The reports in one verified Postmark post (Postmark posts one record at a time). */
export function parsePostmarkEvent(body: Buffer | string): ParsedReport[] {
  const record = asRecord(parseJson(readBodyText(body), 'The Postmark event'))
  const recordType = asText(record?.RecordType)
  if (record === undefined || recordType === undefined) throw new UnreadableReportError('report_not_a_report', 'The body is not a Postmark webhook record')
  switch (recordType) {
    case 'Bounce':
      return readBounce(record)
    case 'SpamComplaint':
      return [report(record, { type: 'complaint', feedbackType: null })]
    case 'Delivery':
      return [report(record, { type: 'delivered' })]
    default:
      return []
  }
}

/** What a bounce type means for us: a severity, a complaint after all, or nothing to report. */
type BounceMeaning = BounceSeverity | 'complaint' | 'ignore'

/**
 * Postmark's bounce types (its Type name and TypeCode). Permanent: the address
 * is bad. Transient: the server or its policy refused for now, or refused us
 * (blocks, DMARC, content), not the address. Ignored: mail that is no failure
 * of delivery — an auto-reply or a challenge means the message arrived, and a
 * subscribe or unsubscribe request by mail is for our own links to handle.
 * Undetermined: ManuallyDeactivated is someone's decision in Postmark, not a
 * server's word; SMTPApiError and TemplateRenderingFailed are Postmark
 * refusing our message before any server saw it; Unknown is Postmark not
 * knowing. A type not here is undetermined too, so a new one is kept, not lost.
 */
const BOUNCE_TYPES: Record<string, { code: number; meaning: BounceMeaning }> = {
  HardBounce: { code: 1, meaning: 'permanent' },
  Transient: { code: 2, meaning: 'transient' },
  Unsubscribe: { code: 16, meaning: 'ignore' },
  Subscribe: { code: 32, meaning: 'ignore' },
  AutoResponder: { code: 64, meaning: 'ignore' },
  AddressChange: { code: 128, meaning: 'ignore' },
  DnsError: { code: 256, meaning: 'transient' },
  SpamNotification: { code: 512, meaning: 'transient' },
  OpenRelayTest: { code: 1024, meaning: 'ignore' },
  Unknown: { code: 2048, meaning: 'undetermined' },
  SoftBounce: { code: 4096, meaning: 'transient' },
  VirusNotification: { code: 8192, meaning: 'ignore' },
  ChallengeVerification: { code: 16384, meaning: 'ignore' },
  BadEmailAddress: { code: 100000, meaning: 'permanent' },
  SpamComplaint: { code: 100001, meaning: 'complaint' },
  ManuallyDeactivated: { code: 100002, meaning: 'undetermined' },
  Unconfirmed: { code: 100003, meaning: 'ignore' },
  Blocked: { code: 100006, meaning: 'transient' },
  SMTPApiError: { code: 100007, meaning: 'undetermined' },
  InboundError: { code: 100008, meaning: 'ignore' },
  DMARCPolicy: { code: 100009, meaning: 'transient' },
  TemplateRenderingFailed: { code: 100010, meaning: 'undetermined' },
}

/** The type's name, from Type or (when Type is missing) from TypeCode. */
function bounceTypeOf(record: Record<string, unknown>): string | undefined {
  const name = asText(record.Type)
  if (name !== undefined) return name
  return Object.keys(BOUNCE_TYPES).find((key) => BOUNCE_TYPES[key]?.code === record.TypeCode)
}

function readBounce(record: Record<string, unknown>): ParsedReport[] {
  const type = bounceTypeOf(record)
  const meaning = (type !== undefined ? BOUNCE_TYPES[type]?.meaning : undefined) ?? 'undetermined'
  if (meaning === 'ignore') return []
  if (meaning === 'complaint') return [report(record, { type: 'complaint', feedbackType: null })]
  return [
    report(record, {
      type: 'bounce',
      severity: meaning,
      status: readStatus(record.Details),
      providerType: type ?? null,
      // Details is the remote server's words; Description is Postmark's text for the type.
      diagnostic: readDiagnostic(record.Details),
    }),
  ]
}

/**
 * One report. A Bounce or SpamComplaint record is one of Postmark's bounce
 * records and has its own ID; a Delivery has none, and is one per message and
 * recipient. An ID past 2^53 cannot be read exactly from JSON (two near ones
 * would read alike), so such a record is keyed like one without an ID.
 */
function report(record: Record<string, unknown>, returnReport: ReturnReport): ParsedReport {
  const recordType = record.RecordType as string
  const isDelivery = recordType === 'Delivery'
  const recipient = asText(isDelivery ? record.Recipient : record.Email) ?? null
  const time = isDelivery ? record.DeliveredAt : record.BouncedAt
  return {
    report: returnReport,
    message: referenceTo(normaliseMessageId(asRecord(record.Metadata)?.[POSTMARK_MESSAGE_ID_METADATA])),
    recipient,
    reportKey: reportKeyOf(record, recordType, recipient ?? ''),
    occurredAt: readIsoTime(time),
  }
}

function reportKeyOf(record: Record<string, unknown>, recordType: string, recipient: string): string {
  const id = Number.isSafeInteger(record.ID) ? String(record.ID) : asText(record.ID)
  const messageId = asText(record.MessageID)
  if (recordType === 'Delivery' && messageId !== undefined) return `postmark:Delivery:${messageId}:${recipient}`
  if (recordType !== 'Delivery' && id !== undefined) return `postmark:${recordType}:${id}`
  // Without a usable ID, the time tells two bounces of one message to one address apart.
  if (messageId !== undefined) return `postmark:${recordType}:${messageId}:${recipient}:${asText(record.BouncedAt) ?? ''}`
  throw new UnreadableReportError('report_unparsable', `Postmark ${recordType} has neither an ID nor a MessageID`)
}

function invalid(message: string): UnreadableReportError {
  return new UnreadableReportError('report_signature_invalid', message)
}
