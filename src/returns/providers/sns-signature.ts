// Amazon SNS message verification: the JSON envelope SNS posts to an HTTP(S)
// subscriber, checked the way SNS signs it (SignatureVersion 1 SHA1withRSA, 2
// SHA256withRSA, over the canonical "Key\nValue\n" string) with the X.509
// certificate at SigningCertURL, fetched only from an SNS origin (or one the
// settings name) and cached. It also refuses a topic not allowed and a message
// published more than an hour ago. What the verified Message means is
// ./ses.ts's; this file never visits a SubscribeURL (the caller does), logs
// nothing and knows no Fastify.
import { X509Certificate, verify as verifySignature, type KeyObject } from 'node:crypto'
import { isIPv4 } from 'node:net'
import { systemClock, type Clock } from '../../lib/clock.js'
import { UnreadableReportError } from '../report.js'
import { asRecord, checkSignedTime, parseJson, readBodyText } from './input.js'

export interface SnsSettings {
  /**
   * Origins besides SNS's own (https://sns.<region>.amazonaws.com[.cn]) that
   * certificates and subscribe URLs may come from, e.g. "http://127.0.0.1:9324"
   * for a local SNS. Plain http counts only on a loopback host.
   */
  allowedCertificateOrigins?: string[]
  /** Topics whose messages are taken; empty or absent: any topic. */
  allowedTopicArns?: string[]
}

/** GETs a URL and gives its body as text; throws when it cannot. */
export type FetchText = (url: string) => Promise<string>

export interface SnsDeps {
  fetchText?: FetchText
  clock?: Clock
  certificates?: CertificateCache
}

/** An SNS message whose signature, certificate origin, topic and age were checked. */
export type VerifiedSnsMessage =
  | { type: 'Notification'; messageId: string; topicArn: string; timestamp: Date; message: string }
  | { type: 'SubscriptionConfirmation'; messageId: string; topicArn: string; timestamp: Date; subscribeUrl: string }
  | { type: 'UnsubscribeConfirmation'; messageId: string; topicArn: string; timestamp: Date }

/**
 * The signing certificate could not be had (network, timeout, an answer that
 * was not 200). Not an UnreadableReportError: nothing is known to be wrong
 * with the message, so the route should answer 5xx and SNS will retry it.
 */
export class SigningCertificateUnavailableError extends Error {
  constructor(url: string, options: { cause: unknown }) {
    super(`The SNS signing certificate at ${url} could not be fetched`, options)
    this.name = 'SigningCertificateUnavailableError'
  }
}

/** The fields each message type signs, in the order SNS puts them in the string to sign. */
const SIGNED_FIELDS = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
} as const
type SnsMessageType = keyof typeof SIGNED_FIELDS

/** Fields that are signed when the message has them: only a Notification's Subject. */
const OPTIONAL_FIELDS = new Set(['Subject'])

const SIGNATURE_ALGORITHMS: Record<string, string> = { '1': 'sha1', '2': 'sha256' }

/** SNS's own certificate hosts: sns.<region>.amazonaws.com, and .amazonaws.com.cn for the China regions. */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/

/** Verifies one SNS post; throws UnreadableReportError (or SigningCertificateUnavailableError) when it cannot be taken. */
export async function verifySnsMessage(body: Buffer | string, settings: SnsSettings, deps: SnsDeps = {}): Promise<VerifiedSnsMessage> {
  const envelope = asRecord(parseJson(readBodyText(body), 'The SNS message'))
  const type = envelope?.Type
  if (envelope === undefined || typeof type !== 'string') throw new UnreadableReportError('report_not_a_report', 'The body is not an SNS message')
  if (!Object.hasOwn(SIGNED_FIELDS, type)) throw new UnreadableReportError('report_not_a_report', `SNS message type ${type} is not one we take`)
  const snsType = type as SnsMessageType
  const stringToSign = buildStringToSign(snsType, envelope)
  const algorithm = SIGNATURE_ALGORITHMS[String(envelope.SignatureVersion)]
  if (algorithm === undefined) throw invalid(`SignatureVersion ${String(envelope.SignatureVersion)} is not one SNS uses`)
  if (typeof envelope.Signature !== 'string' || typeof envelope.SigningCertURL !== 'string') throw invalid('The SNS message is not signed')

  const certificateUrl = allowedUrl(envelope.SigningCertURL, settings, 'SigningCertURL')
  if (!certificateUrl.pathname.endsWith('.pem')) throw invalid('SigningCertURL does not name a .pem certificate')
  const topicArn = envelope.TopicArn as string
  const topics = settings.allowedTopicArns ?? []
  if (topics.length > 0 && !topics.includes(topicArn)) throw invalid(`Topic ${topicArn} is not one we take messages from`)
  const timestamp = new Date(envelope.Timestamp as string)
  checkSignedTime(timestamp, (deps.clock ?? systemClock).now(), 'SNS')

  const publicKey = await loadCertificateKey(certificateUrl.href, deps)
  const signature = Buffer.from(envelope.Signature, 'base64')
  if (!verifySignature(algorithm, Buffer.from(stringToSign, 'utf8'), publicKey, signature)) {
    throw invalid('The SNS signature does not match the message')
  }
  return verifiedMessage(snsType, envelope, topicArn, timestamp, settings)
}

/** The canonical string SNS signs: "Key\nValue\n" for each signed field, in order; a missing required field cannot be verified. */
export function buildStringToSign(type: SnsMessageType, envelope: Record<string, unknown>): string {
  let text = ''
  for (const key of SIGNED_FIELDS[type]) {
    const value = envelope[key]
    if (value === undefined && OPTIONAL_FIELDS.has(key)) continue
    if (typeof value !== 'string') throw invalid(`The SNS message has no ${key} to verify`)
    text += `${key}\n${value}\n`
  }
  return text
}

function verifiedMessage(type: SnsMessageType, envelope: Record<string, unknown>, topicArn: string, timestamp: Date, settings: SnsSettings): VerifiedSnsMessage {
  const messageId = envelope.MessageId as string
  switch (type) {
    case 'Notification':
      return { type, messageId, topicArn, timestamp, message: envelope.Message as string }
    case 'SubscriptionConfirmation': {
      const subscribeUrl = allowedUrl(envelope.SubscribeURL as string, settings, 'SubscribeURL')
      // The caller will GET this URL: make sure that is all it can do.
      if (subscribeUrl.searchParams.get('Action') !== 'ConfirmSubscription') throw invalid('SubscribeURL does not confirm a subscription')
      return { type, messageId, topicArn, timestamp, subscribeUrl: subscribeUrl.href }
    }
    case 'UnsubscribeConfirmation':
      return { type, messageId, topicArn, timestamp }
  }
}

// --- where certificates may come from ----------------------------------------------------------

/**
 * The URL if its origin is SNS's (https, default port, sns.<region>.amazonaws.com)
 * or one the settings allow; a configured plain-http origin counts only on a
 * loopback host, so a setting cannot open us to fetching over the network in clear.
 */
export function allowedUrl(text: string, settings: SnsSettings, field: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw invalid(`${field} is not a URL`)
  }
  if (url.username !== '' || url.password !== '') throw invalid(`${field} carries credentials`)
  const isSns = url.protocol === 'https:' && url.port === '' && SNS_HOST.test(url.hostname)
  if (!isSns && !configuredOrigins(settings).has(url.origin)) throw invalid(`${field} is not on an SNS origin (${url.origin})`)
  return url
}

function configuredOrigins(settings: SnsSettings): Set<string> {
  const origins = new Set<string>()
  for (const text of settings.allowedCertificateOrigins ?? []) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      continue
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) origins.add(url.origin)
  }
  return origins
}

/** 127.0.0.0/8, ::1 (as a URL writes it, in brackets) and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true
  return isIPv4(hostname) && hostname.startsWith('127.')
}

// --- fetching and caching certificates ---------------------------------------------------------

/** SNS certificates, by URL. SNS puts a new certificate at a new URL, so an entry never goes stale; the bound only stops junk URLs from growing it. */
export class CertificateCache {
  readonly #keys = new Map<string, KeyObject>()
  constructor(readonly limit = 16) {}

  get(url: string): KeyObject | undefined {
    return this.#keys.get(url)
  }

  set(url: string, key: KeyObject): void {
    this.#keys.delete(url)
    this.#keys.set(url, key)
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.#keys.size > this.limit) this.#keys.delete(this.#keys.keys().next().value as string)
  }
}

/** Shared by every verification not handed its own cache: the certificates are public and keyed by URL, so sharing them leaks nothing. */
const sharedCertificates = new CertificateCache()

/**
 * The public key of the certificate at an allowed URL. Its chain is not
 * checked: what vouches for it is where it came from (SNS's origin over https),
 * which allowedUrl has already settled.
 */
async function loadCertificateKey(url: string, deps: SnsDeps): Promise<KeyObject> {
  const cache = deps.certificates ?? sharedCertificates
  const cached = cache.get(url)
  if (cached !== undefined) return cached
  let pem: string
  try {
    pem = await (deps.fetchText ?? fetchCertificateText)(url)
  } catch (error) {
    throw new SigningCertificateUnavailableError(url, { cause: error })
  }
  let key: KeyObject
  try {
    key = new X509Certificate(pem).publicKey
  } catch {
    throw invalid('SigningCertURL did not give an X.509 certificate')
  }
  cache.set(url, key)
  return key
}

/** A signing certificate answers in well under a second; five lets a slow network through without holding the request for long. */
const CERTIFICATE_FETCH_TIMEOUT_MS = 5000

/** An SNS certificate PEM is about 2 KiB; anything past 64 KiB is not one. */
const MAX_CERTIFICATE_BYTES = 64 * 1024

/** The default FetchText: one GET, no redirects (they could lead off the allowed origin), a timeout and a size cap. */
export async function fetchCertificateText(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(CERTIFICATE_FETCH_TIMEOUT_MS) })
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel()
    throw new Error(`GET ${url} answered ${response.status}`)
  }
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_CERTIFICATE_BYTES) {
      await reader.cancel()
      throw new Error(`GET ${url} gave more than ${MAX_CERTIFICATE_BYTES} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function invalid(message: string): UnreadableReportError {
  return new UnreadableReportError('report_signature_invalid', message)
}
