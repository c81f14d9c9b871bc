// The campaign benchmark's SMTP server, in a process of its own so that its
// work does not count against the sender's. It accepts everything, reads each
// message to its end, and counts messages, bytes and messages per recipient;
// the parent asks over IPC: 'stats' (answered with SinkStats), 'arrivals'
// (when each recipient's messages arrived), 'reset', 'stop'.
// Started by test/bench/campaign.ts with fork(); prints nothing.
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface SinkStats {
  messages: number
  bytes: number
  recipients: number
  /** Recipients who received more than one message since the last reset. */
  doubled: number
}

let messages = 0
let bytes = 0
const perRecipient = new Map<string, number>()
/** When each recipient's messages arrived (ms since the epoch), for checks of order against other events. */
const arrivals = new Map<string, number[]>()

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  // Many clients at once: the baseline and the pipeline each keep a pool open.
  maxClients: 1000,
  onData(stream, session, callback) {
    let size = 0
    stream.on('data', (chunk: Buffer) => (size += chunk.length))
    stream.on('end', () => {
      messages++
      bytes += size
      const at = Date.now()
      for (const to of session.envelope.rcptTo) {
        perRecipient.set(to.address, (perRecipient.get(to.address) ?? 0) + 1)
        arrivals.set(to.address, [...(arrivals.get(to.address) ?? []), at])
      }
      callback(null, 'Queued')
    })
  },
})

server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.server.address() as AddressInfo).port })
})

process.on('message', (message: string) => {
  if (message === 'stats') {
    let doubled = 0
    for (const n of perRecipient.values()) if (n > 1) doubled++
    process.send!({ messages, bytes, recipients: perRecipient.size, doubled } satisfies SinkStats)
  } else if (message === 'arrivals') {
    process.send!(Object.fromEntries(arrivals))
  } else if (message === 'reset') {
    messages = 0
    bytes = 0
    perRecipient.clear()
    arrivals.clear()
    process.send!({ reset: true })
  } else if (message === 'stop') {
    server.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 500).unref()
  }
})
process.on('disconnect', () => process.exit(0))
