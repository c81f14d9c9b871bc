// A real SMTP server inside the test process, for tests that send mail: it
// keeps every message it accepts (raw bytes and parsed), can be told to refuse
// the next messages with a given reply, and closes without waiting on clients
// that keep pooled connections open. Plain text only: no STARTTLS, no AUTH
// required, listening on 127.0.0.1 at a free port.
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer, type SMTPServerError } from 'smtp-server'

export interface ReceivedMessage {
  envelope: { from: string; to: string[] }
  /** The name the client gave in EHLO (nodemailer's `name`, e.g. `?name=worker-a` in an SMTP URL): which sender it was. */
  client: string
  raw: Buffer
  parsed: ParsedMail
}

export interface SmtpReply {
  code: number
  /** The text after the code, sent as given, e.g. '4.3.0 Try again later'. */
  message: string
  /** When to refuse: at RCPT TO, or at the end of DATA (the default). */
  at?: 'rcpt' | 'data'
}

export interface SmtpSink {
  /** e.g. "smtp://127.0.0.1:PORT" */
  url: string
  /** The accepted messages, in the order they arrived; refused ones are not here. */
  received: ReceivedMessage[]
  /** Queues a refusal for the next message, consumed one per message, e.g. { code: 451, message: '4.3.0 Try again later' }. */
  rejectNext(reply: SmtpReply): void
  /** Resolves with the received messages once there are at least `count`; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>
  close(): Promise<void>
}

/** How long close() lets clients hang up on their own before the server sends them 421 and drops them. */
const CLOSE_GRACE_MS = 200
/** Long enough for a slow CI machine, short enough that a missing message fails the test quickly. */
const DEFAULT_WAIT_MS = 5000

/** `delayMs`: how long the sink takes over each message before it answers (a slow server; for crash tests). */
export async function startSmtpSink(options: { delayMs?: number } = {}): Promise<SmtpSink> {
  const received: ReceivedMessage[] = []
  const refusals: SmtpReply[] = []
  const arrivals = new Set<() => void>()

  const refusalError = (reply: SmtpReply): SMTPServerError =>
    Object.assign(new Error(reply.message), { responseCode: reply.code })

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // smtp-server would otherwise be free to put its own enhanced status code
    // in front of ours (it maps 550 to 5.1.1): the reply must be the test's words alone.
    hideENHANCEDSTATUSCODES: true,
    logger: false,
    closeTimeout: CLOSE_GRACE_MS,
    onRcptTo(_address, _session, callback) {
      if (refusals[0]?.at === 'rcpt') return callback(refusalError(refusals.shift()!))
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      // A broken stream ends without 'end'; nothing else will answer the client then.
      stream.once('error', (error) => callback(error))
      stream.on('end', () => {
        if (refusals[0] !== undefined && refusals[0].at !== 'rcpt') return callback(refusalError(refusals.shift()!))
        const raw = Buffer.concat(chunks)
        // Recorded before the client hears 250, so a test that awaited its send finds the message here.
        simpleParser(raw).then(
          (parsed) => {
            received.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              client: session.hostNameAppearsAs,
              raw,
              parsed,
            })
            for (const notify of arrivals) notify()
            if (options.delayMs) setTimeout(() => callback(), options.delayMs)
            else callback()
          },
          (error: Error) => callback(error),
        )
      })
    },
  })
  // A client dropping its connection is the sender's business; tests assert on
  // what the sender saw. Without a listener the event would crash the run.
  server.on('error', () => {})

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.server.address() as AddressInfo

  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    rejectNext(reply) {
      refusals.push(reply)
    },
    waitFor(count, timeoutMs = DEFAULT_WAIT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return
          done()
          resolve([...received])
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`smtp sink: expected ${count} message(s) within ${timeoutMs} ms, got ${received.length}`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          arrivals.delete(check)
        }
        arrivals.add(check)
        check()
      })
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
