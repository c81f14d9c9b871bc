// Addresses that name one message, signed: the VERP return path a message is
// sent with (`bounces+<token>@returns.example`), so a bounce to it says which
// message bounced, and the `mailto:` of its List-Unsubscribe header
// (`unsubscribe+<token>@example`), so an unsubscribe by mail says which
// message, and so which person and list, it answers. The token is the
// message id and an HMAC of it under the link-signing keys (the first signs,
// every one verifies), in lower-case hex: mail systems may change the case
// of a local part, and 32 + 16 characters keep it within the 64 RFC 5321
// allows. A token that does not verify is not one; nobody can make one.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { SigningKey } from '../lib/link-tokens.js'

/** What an address is for: a token made for one is refused for the other. */
export type MailAddressPurpose = 'return-path' | 'unsubscribe'

/** 64 bits of MAC: an address is no secret once mailed, but forging one for another message must be out of reach. */
const MAC_HEX = 16
const TOKEN = /^([0-9a-f]{32})([0-9a-f]{16})$/

const macOf = (key: SigningKey, purpose: MailAddressPurpose, hex: string) =>
  createHmac('sha256', key.secret).update(`mail-address:${purpose}:${hex}`).digest('hex').slice(0, MAC_HEX)

const uuidOf = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`

/** The token for one message. */
export function messageToken(keys: SigningKey[], purpose: MailAddressPurpose, messageId: string): string {
  const hex = messageId.replaceAll('-', '').toLowerCase()
  return hex + macOf(keys[0]!, purpose, hex)
}

/** The message a token names, or null when it does not verify under any key. */
export function verifyMessageToken(keys: SigningKey[], purpose: MailAddressPurpose, token: string): string | null {
  const match = TOKEN.exec(token.toLowerCase())
  if (!match) return null
  const [, hex, given] = match as unknown as [string, string, string]
  const ok = keys.some((key) => timingSafeEqual(Buffer.from(macOf(key, purpose, hex)), Buffer.from(given)))
  return ok ? uuidOf(hex) : null
}

/** `local@domain` with the token as its detail: `local+token@domain`. */
export function taggedAddress(base: string, token: string): string {
  const at = base.lastIndexOf('@')
  return `${base.slice(0, at)}+${token}@${base.slice(at + 1)}`
}

/**
 * The token in an address made by taggedAddress from `base`, or null when the
 * address is not one of them (another local part, another domain).
 * Compared without regard to case, as mail systems treat local parts.
 */
export function tokenIn(base: string, address: string): string | null {
  const at = base.lastIndexOf('@')
  const local = base.slice(0, at).toLowerCase()
  const domain = base.slice(at + 1).toLowerCase()
  const match = /^(.+)\+([^+@]+)@([^@]+)$/.exec(address.trim().replace(/^<|>$/g, '').toLowerCase())
  if (!match || match[1] !== local || match[3] !== domain) return null
  return match[2]!
}
