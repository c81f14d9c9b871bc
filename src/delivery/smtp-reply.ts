// What became of one send, read from whatever the transport threw: accepted,
// deferred (try again later), failed (about us: policy, content, config) or
// bounced (the address does not exist). The delivery worker acts on these four
// and nothing else. This module is pure: no I/O, no logging. It must never
// throw, and the reply it keeps is the server's words (or the error's message),
// short and on one line, never the message itself. What counts as a bad
// address is the return rules' (src/returns/rules.ts), for every report alike.
import { isAddressFailure } from '../returns/rules.js'

export type DeliveryOutcome =
  /** 2xx; reply = the server's final response, e.g. "250 2.0.0 Ok: queued as ABC". */
  | { type: 'accepted'; reply: string }
  /** 4xx, connection refused/reset/timeout, greeting failures, DNS errors, anything unknown: try again later. */
  | { type: 'deferred'; reply: string }
  /** 5xx other than a hard bounce, including 5.7.x policy blocks: about us, not the address. */
  | { type: 'failed'; reply: string }
  /**
   * 5xx with an enhanced status that says the address is bad (5.1.x, 5.2.1; the
   * return rules' isAddressFailure). A bare "550 no such user" without one stays
   * `failed`: basic 550 is also what servers say for policy blocks, and we would
   * rather retry or look than suppress a good address.
   */
  | { type: 'bounced'; reply: string }

/**
 * The SMTP commands whose refusal can be about the recipient. A 553 5.1.3 to
 * MAIL FROM is about our sender address: bouncing on it would suppress a good
 * recipient. An error that names no command is judged by its reply alone.
 */
const RECIPIENT_COMMANDS = new Set(['RCPT TO', 'DATA'])

/**
 * nodemailer codes for errors raised before anything reached a server, about
 * the message or our configuration: sending it again cannot help.
 */
const LOCAL_FAULT_CODES = new Set(['ECONFIG', 'ENOAUTH', 'EENVELOPE', 'EMAXRECIPIENTS', 'EFILEACCESS', 'EURLACCESS', 'EOTP'])

/** Long enough for a multi-line Gmail or Microsoft reply, short enough for a column and a log line. */
export const MAX_REPLY_LENGTH = 1000

/** Classifies a thrown send error; unknown shapes are deferred, as retrying is the safe side and the worker caps attempts. */
export function classifySmtpError(error: unknown): DeliveryOutcome {
  const fields = readErrorFields(error)
  const reply = describeError(fields)
  const responseCode = fields.responseCode ?? basicCodeOf(fields.response)
  if (responseCode !== undefined) {
    // 503 (bad sequence of commands) says the session was in the wrong state,
    // not that the message was refused: a new connection can carry it (RFC 5321
    // 4.2.1; nodemailer's isPermanentResponseCode makes the same exception).
    if (responseCode >= 500 && responseCode <= 599 && responseCode !== 503) {
      const status = readEnhancedStatus(fields.response ?? '')
      const aboutRecipient = fields.command === undefined || RECIPIENT_COMMANDS.has(fields.command)
      return { type: aboutRecipient && status !== undefined && isAddressFailure(status) ? 'bounced' : 'failed', reply }
    }
    // 4xx, 503, and a 2xx/3xx that arrived as an error (the client expected
    // something else): none of them is a permanent answer about this message.
    return { type: 'deferred', reply }
  }
  if (fields.code !== undefined && LOCAL_FAULT_CODES.has(fields.code)) return { type: 'failed', reply }
  // ECONNECTION, ETIMEDOUT, ESOCKET, EDNS, ETLS, a closed pool, a full disk, and
  // whatever else we do not recognise.
  return { type: 'deferred', reply }
}

/**
 * The enhanced status code of a reply, normalised ("5.01.1" → "5.1.1"), or
 * undefined. The one right after the basic code at the start of a line wins
 * (RFC 2034 puts it there); otherwise the first free-standing x.y.z in the
 * text, but never a piece of a dotted IP address such as 10.5.1.1.
 */
export function readEnhancedStatus(reply: string): string | undefined {
  const match = /(?:^|\n)\s*\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)/.exec(reply)
    ?? /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)/.exec(reply)
  if (!match) return undefined
  return `${match[1]}.${Number(match[2])}.${Number(match[3])}`
}

/** Squeezes a reply onto one line within MAX_REPLY_LENGTH: control characters (line breaks included) become spaces. */
export function flattenReply(text: string): string {
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/ {2,}/g, ' ').trim()
  return flat.length <= MAX_REPLY_LENGTH ? flat : `${flat.slice(0, MAX_REPLY_LENGTH - 1)}…`
}

// --- reading an unknown error ------------------------------------------------------

interface ErrorFields {
  responseCode: number | undefined
  response: string | undefined
  code: string | undefined
  command: string | undefined
  message: string | undefined
}

/** The parts of a nodemailer-shaped error we use, whatever was actually thrown. */
function readErrorFields(error: unknown): ErrorFields {
  if (typeof error !== 'object' || error === null) {
    return { responseCode: undefined, response: undefined, code: undefined, command: undefined, message: safeString(error) }
  }
  const record = error as Record<string, unknown>
  const read = (key: string): unknown => {
    // A getter on an exotic error object may throw; this function must not.
    try {
      return record[key]
    } catch {
      return undefined
    }
  }
  const rawCode = read('responseCode')
  const responseCode = typeof rawCode === 'number' || typeof rawCode === 'string' ? Number(rawCode) : NaN
  const response = read('response')
  const code = read('code')
  const command = read('command')
  const message = read('message')
  return {
    responseCode: Number.isInteger(responseCode) && responseCode >= 200 && responseCode <= 599 ? responseCode : undefined,
    response: typeof response === 'string' && response.trim() !== '' ? response : Buffer.isBuffer(response) ? response.toString('utf8') : undefined,
    code: typeof code === 'string' && code !== '' ? code : undefined,
    command: typeof command === 'string' && command !== '' ? command.toUpperCase() : undefined,
    message: typeof message === 'string' && message !== '' ? message : undefined,
  }
}

/** The basic reply code a response starts with, for errors that carry the reply but not its code. */
function basicCodeOf(response: string | undefined): number | undefined {
  const match = response === undefined ? null : /^\s*([2-5]\d\d)(?:[ -]|$)/.exec(response)
  return match ? Number(match[1]) : undefined
}

/**
 * The server's reply when there is one; otherwise the error's code and message
 * ("ESOCKET: connect ECONNREFUSED 127.0.0.1:25"). nodemailer's own message
 * repeats the reply and may name the recipient, so it is only the fallback.
 */
function describeError(fields: ErrorFields): string {
  if (fields.response !== undefined) return flattenReply(fields.response)
  const message = fields.message ?? 'unknown error'
  if (fields.code === undefined || message.startsWith(fields.code)) return flattenReply(message)
  return flattenReply(`${fields.code}: ${message}`)
}

function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return 'unknown error'
  }
}
