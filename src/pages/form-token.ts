// The form token on every form of the preference page (CSRF): an HMAC, under
// the link signing key, of the page's own link token and the time the page
// was served. A post carries it back; one that lacks it, is older than a
// working day, or was made for another page is refused. Stateless: no
// session, no cookie — a person's mail client may open the page anywhere.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { SigningKey } from '../lib/link-tokens.js'

/** How long a served page's forms stay good. */
const MAX_AGE_SECONDS = 12 * 60 * 60

const mac = (secret: string, pageToken: string, issued: string) =>
  createHmac('sha256', secret).update(`form:${pageToken}:${issued}`).digest().subarray(0, 16)

export function formToken(keys: SigningKey[], pageToken: string, now: Date): string {
  const key = keys[0]
  if (!key) throw new Error('no link signing key configured')
  const issued = Math.floor(now.getTime() / 1000).toString(36)
  return `${key.id}.${issued}.${mac(key.secret, pageToken, issued).toString('base64url')}`
}

export function verifyFormToken(keys: SigningKey[], pageToken: string, token: unknown, now: Date): boolean {
  if (typeof token !== 'string' || token.length > 200) return false
  const [kid, issued, signature, extra] = token.split('.')
  if (!kid || !issued || !signature || extra !== undefined) return false
  const key = keys.find((k) => k.id === kid)
  const issuedSeconds = parseInt(issued, 36)
  if (!key || !Number.isFinite(issuedSeconds)) return false
  const age = now.getTime() / 1000 - issuedSeconds
  if (age < -60 || age > MAX_AGE_SECONDS) return false
  const given = Buffer.from(signature, 'base64url')
  const expected = mac(key.secret, pageToken, issued)
  // Only the one spelling of the MAC: base64url's last character carries spare bits that decoding ignores.
  if (given.toString('base64url') !== signature) return false
  return given.length === expected.length && timingSafeEqual(given, expected)
}
