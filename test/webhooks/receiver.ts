// A webhook receiver in this process (node:http), as the course system would
// run one: it checks each delivery the way Standard Webhooks documents, keeps
// what it got, and can be taken down (connections refused) and brought back
// on the same port.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  id: string
  timestamp: string
  signature: string
  body: string
  headers: IncomingHttpHeaders
}

/** How old (or early) a webhook-timestamp may be: Standard Webhooks' suggested five minutes. */
export const TOLERANCE_SECONDS = 5 * 60

export type Verdict = 'valid' | 'missing_headers' | 'timestamp_out_of_range' | 'signature_mismatch'

/**
 * The documented check (https://www.standardwebhooks.com, "Verifying webhook
 * authenticity"): the timestamp within the tolerance of the receiver's clock,
 * and at least one `v1,` signature in webhook-signature equal, in constant
 * time, to base64(HMAC-SHA256(base64-decode(secret without whsec_),
 * "<webhook-id>.<webhook-timestamp>.<body>")).
 */
export function verifyWebhook(secret: string, headers: { id?: string; timestamp?: string; signature?: string }, body: string, nowSeconds: number): Verdict {
  const { id, timestamp, signature } = headers
  if (!id || !timestamp || !signature) return 'missing_headers'
  const at = Number(timestamp)
  if (!Number.isInteger(at) || Math.abs(nowSeconds - at) > TOLERANCE_SECONDS) return 'timestamp_out_of_range'
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest()
  for (const part of signature.split(' ')) {
    const [version, value] = part.split(',')
    if (version !== 'v1' || !value) continue
    const given = Buffer.from(value, 'base64')
    if (given.length === expected.length && timingSafeEqual(given, expected)) return 'valid'
  }
  return 'signature_mismatch'
}

export async function startReceiver(t: { teardown: (fn: () => Promise<void>) => void }) {
  const received: Received[] = []
  /** The statuses to answer with next, in turn; 200 once they run out. */
  const answers: number[] = []
  let server: Server | undefined
  let port = 0

  const listen = async () => {
    server = createServer((request, response) => {
      let body = ''
      request.setEncoding('utf8')
      request.on('data', (chunk) => (body += chunk))
      request.on('end', () => {
        const header = (name: string) => String(request.headers[name] ?? '')
        received.push({ id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), body, headers: request.headers })
        response.statusCode = answers.shift() ?? 200
        response.end()
      })
    })
    await new Promise<void>((done) => server!.listen(port, '127.0.0.1', done))
    port = (server.address() as AddressInfo).port
  }
  const stop = () =>
    new Promise<void>((done) => {
      if (!server) return done()
      server.closeAllConnections()
      server.close(() => done())
      server = undefined
    })

  await listen()
  t.teardown(stop)
  return {
    url: `http://127.0.0.1:${port}/hooks/samtykke`,
    received,
    answers,
    /** Down: connections are refused. */
    stop,
    /** Up again, on the same port. */
    start: listen,
    /** The bodies received, parsed. */
    payloads: () => received.map((r) => JSON.parse(r.body) as { type: string; timestamp: string; data: Record<string, unknown> }),
  }
}
