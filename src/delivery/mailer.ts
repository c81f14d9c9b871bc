// Hands one rendered message to SMTP (a pooled, rate-limited transport) or,
// with no SMTP URL configured, to the outbox folder as an .eml file. It owns
// how a message becomes RFC 5322 bytes (nodemailer), DKIM signing, and turning
// every transport failure into a DeliveryOutcome. It must not decide who may
// be mailed, retry, or log: the delivery worker does those, and logs ids only,
// never addresses (nodemailer's own logger stays off for the same reason).
import { createPrivateKey } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import nodemailer, { type DKIMOptions, type SendMailOptions, type SMTPPoolOptions } from 'nodemailer'
import { newId } from '../lib/ids.js'
import { classifySmtpError, flattenReply, type DeliveryOutcome } from './smtp-reply.js'

export interface OutgoingMessage {
  /** The Message-ID header value, e.g. "<0192...@samtykke.example>"; made by the caller, used as-is. */
  messageId: string
  /** The envelope sender (where bounces go), a VERP address naming this message; absent: the From address. */
  returnPath?: string
  /** "Name <addr>" */
  from: string
  to: string
  subject: string
  html: string
  text: string
  /** Extra headers such as List-Unsubscribe, List-Unsubscribe-Post, List-Id; set exactly as given. */
  headers: Record<string, string>
}

export interface Mailer {
  /** Never throws for SMTP or outbox trouble: the trouble is classified. */
  send(message: OutgoingMessage): Promise<DeliveryOutcome>
  /** Closes the SMTP pool and resolves once no send is in flight. */
  close(): Promise<void>
}

export interface MailerConfig {
  /** Absent: messages are written to the outbox. */
  smtpUrl: string | undefined
  /** The outbox is `${dataDir}/outbox`. */
  dataDir: string
  smtpRatePerSecond: number
  smtpMaxConnections: number
  dkim: { domainName: string; keySelector: string; privateKey: string } | undefined
}

/**
 * The header fields a DKIM signature covers (its `h=` tag names those the
 * message has). RFC 8058 only honours one-click unsubscribe when the signature
 * covers List-Unsubscribe and List-Unsubscribe-Post. nodemailer 10's default
 * list names both too, but it is spelled out here so an upgrade cannot quietly
 * drop them.
 */
export const DKIM_SIGNED_HEADERS = [
  'From', 'Sender', 'Reply-To', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References',
  'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Content-ID', 'Content-Description',
  'List-Id', 'List-Help', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Subscribe', 'List-Post',
  'List-Owner', 'List-Archive', 'Feedback-ID',
].join(':')

/** The outbox when no SMTP URL is configured, the pool otherwise. Throws at once on a DKIM key nodemailer could not sign with. */
export function createMailer(config: MailerConfig): Mailer {
  if (config.dkim) assertSigningKey(config.dkim.privateKey)
  return config.smtpUrl ? createSmtpMailer(config.smtpUrl, config) : createOutboxMailer(config)
}

/**
 * Options for nodemailer's pooled SMTP transport. nodemailer parses `url`
 * into host, port, secure and auth; keys set in the URL's query string
 * (e.g. `?maxConnections=2`) win over the ones given here.
 */
export function buildSmtpTransportOptions(
  smtpUrl: string,
  config: Pick<MailerConfig, 'smtpRatePerSecond' | 'smtpMaxConnections' | 'dkim'>,
): SMTPPoolOptions & { pool: true } {
  return {
    url: smtpUrl,
    pool: true,
    maxConnections: config.smtpMaxConnections,
    // rateLimit counts messages per rateDelta milliseconds: one second makes it a per-second rate.
    rateDelta: 1000,
    rateLimit: config.smtpRatePerSecond,
    ...sharedTransportOptions(config.dkim),
  }
}

// --- SMTP ------------------------------------------------------------------------

function createSmtpMailer(smtpUrl: string, config: MailerConfig): Mailer {
  const transport = nodemailer.createTransport(buildSmtpTransportOptions(smtpUrl, config))
  const inFlight = trackInFlight()
  return {
    send: (message) =>
      inFlight.add(
        transport.sendMail(toMailOptions(message)).then(
          (info): DeliveryOutcome => ({ type: 'accepted', reply: flattenReply(String(info.response)) }),
          classifySmtpError,
        ),
      ),
    async close() {
      // Idle connections close now; a connection mid-delivery finishes it first,
      // and queued messages fail (deferred), so waiting for them ends soon.
      transport.close()
      await inFlight.settled()
    },
  }
}

// --- outbox ----------------------------------------------------------------------

function createOutboxMailer(config: MailerConfig): Mailer {
  const folder = join(config.dataDir, 'outbox')
  // CRLF, as on the wire: the file is then exactly what SMTP would have carried,
  // and a DKIM signature over it verifies as it stands.
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...sharedTransportOptions(config.dkim) })
  const inFlight = trackInFlight()
  return {
    send(message) {
      // Named when send is called, so the folder lists messages in send order
      // even when composing them finishes out of order (uuidv7 is time-ordered
      // and monotonic within the process).
      const name = `${newId()}.eml`
      const written = transport.sendMail(toMailOptions(message)).then(async (info): Promise<DeliveryOutcome> => {
        if (!Buffer.isBuffer(info.message)) throw new Error('stream transport returned no buffer')
        await writeFileAtomically(folder, name, info.message)
        return { type: 'accepted', reply: `outbox ${name}` }
      })
      return inFlight.add(written.catch(classifySmtpError))
    },
    async close() {
      await inFlight.settled()
    },
  }
}

/** Readers of the outbox see a whole .eml or nothing: the bytes go to a hidden temp file that is then renamed. */
async function writeFileAtomically(folder: string, name: string, content: Buffer): Promise<void> {
  await mkdir(folder, { recursive: true })
  const temp = join(folder, `.${name}.tmp`)
  try {
    // 0600: the file holds a person's address and the message to them.
    await writeFile(temp, content, { flag: 'wx', mode: 0o600 })
    await rename(temp, join(folder, name))
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

// --- shared ----------------------------------------------------------------------

function sharedTransportOptions(dkim: MailerConfig['dkim']) {
  return {
    // nodemailer's log lines name recipients.
    logger: false,
    // Content always arrives as strings: a path or URL inside a message must never be read.
    disableFileAccess: true,
    disableUrlAccess: true,
    ...(dkim ? { dkim: { ...dkim, headerFieldNames: DKIM_SIGNED_HEADERS } satisfies DKIMOptions } : {}),
  }
}

function toMailOptions(message: OutgoingMessage): SendMailOptions {
  return {
    messageId: message.messageId,
    from: message.from,
    to: message.to,
    subject: message.subject,
    html: message.html,
    text: message.text,
    headers: { ...message.headers },
    ...(message.returnPath ? { envelope: { from: message.returnPath, to: message.to } } : {}),
  }
}

/**
 * nodemailer signs RSA only, and when signing fails it sends the message
 * unsigned without a word. A key that cannot sign is a configuration error,
 * so it stops the mailer from being built instead.
 */
function assertSigningKey(privateKey: string): void {
  let keyType: string | undefined
  try {
    keyType = createPrivateKey(privateKey).asymmetricKeyType
  } catch (error) {
    throw new Error(`DKIM private key cannot be read: ${(error as Error).message}`)
  }
  if (keyType !== 'rsa') throw new Error(`DKIM private key must be an RSA key (nodemailer signs rsa-sha256 only), not ${keyType}`)
}

/** The sends not yet finished, so close() can wait for them. */
function trackInFlight() {
  const pending = new Set<Promise<unknown>>()
  return {
    add<T>(promise: Promise<T>): Promise<T> {
      pending.add(promise)
      void promise.finally(() => pending.delete(promise))
      return promise
    },
    async settled(): Promise<void> {
      await Promise.allSettled([...pending])
    },
  }
}
