// The inbound SMTP listener (RETURN_SMTP_PORT; off by default): where a
// relay delivers the bounces addressed to our VERP return paths, and where
// mail clients send the mailto: unsubscribes of List-Unsubscribe. It takes
// mail only for those tagged addresses (anything else is refused at RCPT, so
// it relays nothing), at most MAX_REPORT_BYTES, and hands each to the intake
// (./intake.ts). It answers 250 once a mail is read — a report that is forged
// or names no message is kept as rejected, and refusing it would only send a
// bounce of the bounce — and 451 when we could not take it now. Logs ids and
// outcomes only, never an address. No AUTH or TLS: it sits on loopback or a
// private network behind the relay.
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import { AppError } from '../lib/errors.js'
import type { ReportIntakeService } from './intake.js'
import { MAX_REPORT_BYTES } from './report.js'
import { mailParser } from './report-fields.js'

export interface ListenerLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** An SMTP reply with its code, as smtp-server sends an error's responseCode. */
const reply = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code })

/** Reads the whole message, or fails with 552 once it is over the limit (the rest is drained, as SMTP needs). */
function readMessage(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_REPORT_BYTES) chunks.push(chunk)
    })
    stream.on('error', reject)
    stream.on('end', () => (size > MAX_REPORT_BYTES || stream.sizeExceeded ? reject(reply(552, '5.3.4 Message too big for this address')) : resolve(Buffer.concat(chunks))))
  })
}

/** The address a mail is from, as its header says (a mail client's unsubscribe), else its envelope. */
async function senderOf(raw: Buffer, session: SMTPServerSession): Promise<string> {
  const parsed = await (await mailParser())(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true })
  const from = parsed.from?.value[0]?.address
  return from ?? (session.envelope.mailFrom ? session.envelope.mailFrom.address : '')
}

export function createReturnListener(deps: { intake: Pick<ReportIntakeService, 'recipientKind' | 'receiveBounceMail' | 'unsubscribeByMail'>; log: ListenerLog }) {
  const { intake, log } = deps

  async function take(raw: Buffer, session: SMTPServerSession): Promise<void> {
    for (const { address } of session.envelope.rcptTo) {
      const kind = intake.recipientKind(address)
      try {
        if (kind === 'return-path') {
          const results = await intake.receiveBounceMail(raw, address)
          log.info({ session: session.id, results: results.map((r) => ({ outcome: r.outcome, effect: r.effect, messageId: r.messageId })) }, 'bounce mail')
        } else if (kind === 'unsubscribe') {
          log.info({ session: session.id, outcome: await intake.unsubscribeByMail(address, await senderOf(raw, session)) }, 'mailto unsubscribe')
        }
      } catch (error) {
        // A refused report is kept as rejected by the intake; it is an answer, not a fault.
        if (!(error instanceof AppError) || error.status >= 500) throw error
        log.info({ session: session.id, refused: error.code }, 'inbound mail refused')
      }
    }
  }

  const server = new SMTPServer({
    name: 'samtykke-returns',
    banner: 'Samtykke returns: bounces and unsubscribes only',
    size: MAX_REPORT_BYTES,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (intake.recipientKind(address.address)) return callback()
      callback(reply(550, '5.1.1 No such recipient here'))
    },
    onData(stream, session, callback) {
      readMessage(stream)
        .then((raw) => take(raw, session))
        .then(
          () => callback(),
          (error: Error & { responseCode?: number }) => {
            if (error.responseCode) return callback(error)
            log.error({ session: session.id, err: error.message }, 'inbound mail failed')
            callback(reply(451, '4.3.0 Could not take the message now; try again later'))
          },
        )
    },
  })
  server.on('error', (error) => log.warn({ err: error.message }, 'inbound SMTP'))

  return {
    /** Listens; resolves once the port is bound. */
    listen: (port: number, host: string) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve((server.server.address() as { port: number }).port)
        })
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
