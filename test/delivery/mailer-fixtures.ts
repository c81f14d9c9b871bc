// What the mailer tests share: an outgoing message with a long
// List-Unsubscribe pair and a fresh Message-ID each time, the mailer's
// configuration, a DKIM key pair, a header as the raw message carries it, a
// port nothing listens on, and send errors shaped as nodemailer builds them.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type AddressInfo } from 'node:net'
import type { ParsedMail } from 'mailparser'
import type { MailerConfig, OutgoingMessage } from '../../src/delivery/mailer.js'

const LONG_UNSUBSCRIBE = `<https://example.org/unsubscribe/${randomBytes(150).toString('base64url')}>, <mailto:unsub@example.org?subject=unsubscribe>`

let messageCounter = 0
export function outgoing(over: Partial<OutgoingMessage> = {}): OutgoingMessage {
  messageCounter += 1
  return {
    messageId: `<0192f3a1-7c2e-7000-8000-${String(messageCounter).padStart(12, '0')}@samtykke.example>`,
    from: 'Åse Yoga <post@samtykke.example>',
    to: 'Kari Nordmann <kari@example.org>',
    subject: 'Velkommen på kurs – uke 1',
    html: '<p>Hei Kari,</p><p>Velkommen på kurs. Vi ses på mandag.</p>',
    text: 'Hei Kari,\n\nVelkommen på kurs. Vi ses på mandag.',
    headers: {
      'List-Unsubscribe': LONG_UNSUBSCRIBE,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': 'Yoga news <yoga-news.samtykke.example>',
    },
    ...over,
  }
}

export function mailerConfig(over: Partial<MailerConfig> = {}): MailerConfig {
  return { smtpUrl: undefined, dataDir: '/nonexistent', smtpRatePerSecond: 50, smtpMaxConnections: 2, dkim: undefined, ...over }
}

export function dkimKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    publicKey,
    dkim: { domainName: 'samtykke.example', keySelector: 'mail2025', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
  }
}

/** A header's value as the raw message carries it, unfolded (RFC 5322 2.2.3), for checking nothing was changed on the way. */
export function rawHeader(parsed: ParsedMail, name: string): string | undefined {
  const line = parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line
  return line?.slice(line.indexOf(':') + 1).replace(/\r?\n(?=[ \t])/g, '').trim()
}

/** A port nothing listens on: bound by the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A nodemailer-shaped error, as SMTPConnection#_formatError builds them. */
export function smtpError(response: string, code = 'EENVELOPE', command = 'RCPT TO') {
  return Object.assign(new Error(`Recipient command failed: ${response}`), {
    code, command, response, responseCode: Number(response.slice(0, 3)),
  })
}
export function socketError(code: string, message: string) {
  return Object.assign(new Error(message), { code, command: 'CONN' })
}
