// Email address rules in one place: what we accept, how we store it, and the
// canonical form that suppression hashes and uniqueness are built from.
import { createHmac } from 'node:crypto'
import { domainToASCII, domainToUnicode } from 'node:url'

export interface ParsedEmail {
  /** Stored form: trimmed, NFC, domain lower-cased in its Unicode form. */
  email: string
  /** Canonical form: lower-cased local part, ASCII (punycode) domain. */
  canonical: string
}

export type EmailProblem = { ok: false; message: string }

// RFC 5322 dot-atom characters, plus any non-ASCII letter (RFC 6531, SMTPUTF8).
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

/** Parses an address as a person typed it; returns why not when it is not one. */
export function parseEmail(input: string): ({ ok: true } & ParsedEmail) | EmailProblem {
  const trimmed = input.trim().normalize('NFC')
  const at = trimmed.lastIndexOf('@')
  if (at <= 0 || at === trimmed.length - 1) return { ok: false, message: 'must have the form name@domain' }
  const local = trimmed.slice(0, at)
  const domain = trimmed.slice(at + 1).replace(/\.$/, '')
  if (local.length > 64) return { ok: false, message: 'the part before @ is longer than 64 characters' }
  if (!LOCAL_PART.test(local)) return { ok: false, message: 'the part before @ has characters an address cannot have' }
  const ascii = domainToASCII(domain.toLowerCase())
  if (!ascii) return { ok: false, message: 'the domain is not a valid domain name' }
  const labels = ascii.split('.')
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1)!)) {
    return { ok: false, message: 'the domain is not a valid domain name' }
  }
  const canonical = `${local.toLowerCase()}@${ascii}`
  if (canonical.length > 254) return { ok: false, message: 'the address is longer than 254 characters' }
  return { ok: true, email: `${local}@${domainToUnicode(ascii)}`, canonical }
}

/**
 * The keyed hash suppressions are stored under: HMAC-SHA256 of the canonical
 * address with a secret pepper. A bare hash of an address is reversed by a
 * dictionary of addresses; without the pepper this one is not.
 */
export function addressHash(canonicalAddress: string, pepper: string): string {
  return createHmac('sha256', pepper).update(canonicalAddress, 'utf8').digest('hex')
}

/** The keyed hash of an address we already hold (stored addresses are valid by construction). */
export function storedAddressHash(storedEmail: string, pepper: string): string {
  const parsed = parseEmail(storedEmail)
  if (!parsed.ok) throw new Error('a stored address no longer parses')
  return addressHash(parsed.canonical, pepper)
}
