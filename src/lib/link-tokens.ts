// Signed tokens for the links in messages: each for one purpose, scoped to
// one contact and one list, signed with HMAC-SHA256 under a key that names
// itself (its id travels in the token). The first configured key signs; every
// configured key verifies, so a link in old mail keeps working after a new key
// is added. A token that does not verify is simply not one: no detail says why.
//
// Compact on purpose: `kid.payload.mac`, the payload a purpose byte and the
// two UUIDs as bytes, the MAC cut to 128 bits — about 75 characters, so a link
// fits a path segment and a List-Unsubscribe header stays short.
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface SigningKey {
  id: string
  secret: string
}

/**
 * What a link may do: a token made for one purpose is refused for another.
 * `unsubscribe`: the link in every message — one-click, and the preference
 * page for the person, opened on that list. `confirm`: a double opt-in
 * confirmation for one list.
 */
export const LinkPurpose = { unsubscribe: 1, confirm: 2 } as const
export type LinkPurpose = keyof typeof LinkPurpose

/** For whom a link acts. */
export interface LinkScope {
  contactId: string
  listId: string
}

const MAC_BYTES = 16
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const uuidBytes = (uuid: string) => Buffer.from(uuid.replaceAll('-', ''), 'hex')
const uuidText = (bytes: Buffer) => {
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
const mac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest().subarray(0, MAC_BYTES)

export function signLink(keys: SigningKey[], purpose: LinkPurpose, scope: LinkScope): string {
  const key = keys[0]
  if (!key) throw new Error('no link signing key configured')
  if (!UUID.test(scope.contactId) || !UUID.test(scope.listId)) throw new Error('a link is scoped to a contact id and a list id')
  const payload = Buffer.concat([Buffer.from([LinkPurpose[purpose]]), uuidBytes(scope.contactId), uuidBytes(scope.listId)]).toString('base64url')
  const signed = `${key.id}.${payload}`
  return `${signed}.${mac(key.secret, signed).toString('base64url')}`
}

/** The scope a token grants for `purpose`, or null when it does not verify under any configured key. */
export function verifyLink(keys: SigningKey[], purpose: LinkPurpose, token: string): LinkScope | null {
  const parts = token.split('.')
  if (parts.length !== 3 || token.length > 200) return null
  const [kid, payload, signature] = parts as [string, string, string]
  const key = keys.find((k) => k.id === kid)
  if (!key) return null
  const given = Buffer.from(signature, 'base64url')
  // Only the one spelling of the MAC: base64url's last character carries spare bits that decoding ignores.
  if (given.toString('base64url') !== signature) return null
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(key.secret, `${kid}.${payload}`))) return null
  const bytes = Buffer.from(payload, 'base64url')
  if (bytes.length !== 33 || bytes[0] !== LinkPurpose[purpose]) return null
  return { contactId: uuidText(bytes.subarray(1, 17)), listId: uuidText(bytes.subarray(17, 33)) }
}
