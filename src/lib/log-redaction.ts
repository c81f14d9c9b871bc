// What a log line may carry, in one place: the logger settings every instance
// uses (level, redacted paths, and the serializers of requests and errors).
// No address, name, phone number or token reaches the log in clear text: a
// request keeps its method, path and the names of its query parameters, with
// path segments that carry a token or an address replaced; an error keeps its
// type, code and messages, without the SQL parameters drizzle appends and
// with address- and token-shaped text in free-text messages masked.
// test/support/log-scanner.ts checks every line the test suite's apps write.
import type { Config } from '../config.js'

export const CENSOR = '[redacted]'

/** Fields that carry personal data or secrets wherever they appear in a logged object. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.email',
  '*.name',
  '*.phone',
  '*.address',
  '*.token',
]

/** The logger settings of every instance: level from config, personal data kept out. */
export function loggerOptions(config: Config) {
  return {
    level: config.logLevel,
    redact: { paths: REDACT, censor: CENSOR },
    serializers: { req: requestForLog, err: errorForLog },
  }
}

// Each pattern starts only where a run of its characters starts (the
// lookbehind): without it a long run that is not a match is tried from each of
// its characters, and a hostile message of a few kilobytes takes seconds.
// An address anywhere in free text, in clear or percent-encoded (%40).
const ADDRESS = /(?<![^\s"'<>(),;:@/\\[\]])[^\s"'<>(),;:@/\\[\]]+(@|%40)[^\s"'<>(),;:@/\\[\]]+\.[^\s"'<>(),;:@/\\[\].]+/giu
// A JWT, a subscriber link token (kid.payload.mac) or a form token (kid.issued.mac): three base64url parts.
const DOTTED_TOKEN = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16,}/g

/** Free text (an error message, a stack) with anything shaped like an address or a token replaced. */
export function maskFreeText(text: string): string {
  return text.replace(ADDRESS, CENSOR).replace(DOTTED_TOKEN, CENSOR)
}

/** A path segment that is a token or names an address, as the subscriber pages' /u/<token> do. */
function isPersonalSegment(segment: string): boolean {
  let decoded = segment
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    // Not valid percent-encoding: judged as it came.
  }
  if (decoded.includes('@')) return true
  if (/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){2,}$/.test(decoded)) return true
  // Long opaque strings (a token without dots); ids are UUIDs, 36 characters with dashes.
  return decoded.length >= 40 && /^[A-Za-z0-9_-]+$/.test(decoded)
}

/** The path as the log keeps it: token and address segments replaced. */
export function pathForLog(path: string): string {
  return path
    .split('/')
    .map((segment) => (isPersonalSegment(segment) ? CENSOR : segment))
    .join('/')
}

/** A query parameter's name as the API names them; anything else a client sent as a name (an address, say) is free text. */
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

/**
 * What the log keeps of a request: method, path (token segments replaced) and
 * the names of query parameters, never their values (`?email=…` searches carry
 * addresses); a name that is not a parameter name is replaced too.
 */
export function requestForLog(request: { method: string; url: string; id?: unknown }) {
  const [path, query] = request.url.split('?', 2)
  const names = query ? [...new URLSearchParams(query).keys()].map((name) => (PARAMETER_NAME.test(name) ? name : CENSOR)) : []
  const url = pathForLog(path!)
  return { id: request.id, method: request.method, url: names.length ? `${url}?${names.map((n) => `${n}=…`).join('&')}` : url }
}

/** Drizzle ends a failed query's message with its parameters (addresses, names): everything from there goes. */
const withoutParameters = (text: string) => maskFreeText(text.split('\nparams:')[0]!)

interface LoggableError {
  name?: string
  message?: string
  code?: unknown
  stack?: string
  cause?: unknown
}

/** An error as a log line carries it (the shape pino's and Fastify's types ask of an err serializer). */
export interface LoggedError {
  type: string
  message: string
  stack: string
  [field: string]: unknown
}

/**
 * An error as the log keeps it: its type, code, message and stack, and its
 * cause's message (the driver's error under drizzle's), never the parameters
 * or any other property (a query error carries `params`, a driver error the
 * row in `detail`). A message logged as text is masked the same way.
 */
export function errorForLog(error: unknown): LoggedError {
  if (!error || typeof error !== 'object') return { type: typeof error, message: maskFreeText(String(error)), stack: '' }
  const e = error as LoggableError
  const cause = e.cause && typeof e.cause === 'object' ? (e.cause as LoggableError) : undefined
  const causeText = typeof cause?.message === 'string' ? cause.message : typeof e.cause === 'string' ? e.cause : undefined
  return {
    type: e.name ?? error.constructor?.name ?? 'Error',
    message: typeof e.message === 'string' ? withoutParameters(e.message) : '',
    stack: typeof e.stack === 'string' ? withoutParameters(e.stack) : '',
    code: cause?.code ?? e.code,
    ...(causeText === undefined ? {} : { cause: withoutParameters(causeText) }),
  }
}
