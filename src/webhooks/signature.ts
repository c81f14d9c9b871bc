// Standard Webhooks signing (https://www.standardwebhooks.com): a secret is
// `whsec_` and base64 of random bytes; a delivery is signed as
// `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">` under
// the secret's decoded bytes. While a rotated-out secret still signs, the
// webhook-signature header carries one signature per secret, space-separated,
// and a receiver accepts the delivery if any one verifies.
import { createHmac, randomBytes } from 'node:crypto'

const PREFIX = 'whsec_'
/** 24 bytes (192 bits): Standard Webhooks asks for 24 to 64. */
const SECRET_BYTES = 24

export function generateSecret(): string {
  return PREFIX + randomBytes(SECRET_BYTES).toString('base64')
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64')
}

/** One `v1,<signature>` for `id`, `timestamp` (seconds) and `body` under `secret`. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

/** The webhook-signature header: one signature per secret that still signs. */
export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets.map((secret) => sign(secret, id, timestamp, body)).join(' ')
}
