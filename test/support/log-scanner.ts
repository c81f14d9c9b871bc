// The log destination of every app the test helper builds: each line is
// checked as it is written, and one that carries personal data or a token
// fails the test file — an address (other than the service's own configured
// ones), a JWT, a subscriber link or form token, a mail-address token, a
// phone number, or any name, phone or address a test gave the service
// (factories and TestApp.as() register them). So the redaction in
// src/lib/log-redaction.ts is tested by every request the suite sends.
import type { Readable } from 'node:stream'
import type { Test } from 'tap'
import type { Config } from '../../src/config.js'

/** Shorter strings ('Ola', '+47') occur in ordinary text; every value a test gives is longer. */
const SHORTEST = 4
/** Longer ones are hostile-input filler, not names. */
const LONGEST = 200

/**
 * Exact strings no log line may contain — the personal data tests gave the
 * service — by their first SHORTEST characters: a line is checked at each of
 * its positions with one map lookup, however many thousands a file registered
 * (the hostile-input test registers every generated name).
 */
const personalData = new Map<string, Set<string>>()

/** Registers names, phone numbers and postal addresses a test gives the service, so no log line may carry them. */
export function registerPersonalData(...values: unknown[]): void {
  for (const value of values) {
    if (typeof value !== 'string') continue
    const text = value.trim()
    if (text.length < SHORTEST || text.length > LONGEST) continue
    const key = text.slice(0, SHORTEST)
    let set = personalData.get(key)
    if (!set) personalData.set(key, (set = new Set()))
    set.add(text)
  }
}

/** The registered strings a line contains. */
function registeredIn(line: string): string[] {
  const found = new Set<string>()
  for (let i = 0; i + SHORTEST <= line.length; i++) {
    const candidates = personalData.get(line.slice(i, i + SHORTEST))
    if (candidates) for (const value of candidates) if (line.startsWith(value, i)) found.add(value)
  }
  return [...found]
}

/** The fields of a request body that hold a person's data, at any depth: registered before the request goes. */
const PERSONAL_FIELDS = new Set(['name', 'phone', 'address', 'firstName', 'lastName'])

/** Registers the personal fields of a JSON payload (a contact, an enrollment's contact, a signup). */
export function registerPayload(payload: unknown): void {
  if (!payload || typeof payload !== 'object') return
  const hasPerson = (o: Record<string, unknown>) => 'email' in o || 'phone' in o
  const visit = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 4) return
    const o = value as Record<string, unknown>
    if (hasPerson(o)) for (const field of PERSONAL_FIELDS) registerPersonalData(o[field])
    for (const child of Object.values(o)) visit(child, depth + 1)
  }
  visit(payload, 0)
}

// Every pattern starts only where a run of its characters starts (the lookbehinds): tried from
// inside long runs of hostile input it would take seconds a line.
const ADDRESS = /(?<![^\s"'<>(),;:@/\\[\]=])[^\s"'<>(),;:@/\\[\]=]+(?:@|%40)[^\s"'<>(),;:@/\\[\]]+\.[^\s"'<>(),;:@/\\[\].]+/giu
const SHAPES: { what: string; pattern: RegExp }[] = [
  { what: 'a JWT', pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.?[A-Za-z0-9_-]*/ },
  // src/lib/link-tokens.ts: kid . 33 bytes (44 base64url) . 16-byte MAC (22).
  { what: 'a subscriber link token', pattern: /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{44}\.[A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])/ },
  // src/pages/form-token.ts: kid . issued (base 36) . 16-byte MAC (22).
  { what: 'a form token', pattern: /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]+\.[0-9a-z]{1,12}\.[A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])/ },
  // src/returns/return-path.ts: message id (32 hex) and its MAC (16 hex).
  { what: 'a mail-address token', pattern: /(?<![0-9a-f])[0-9a-f]{48}(?![0-9a-f])/ },
  { what: 'a phone number', pattern: /\+\d{2,3}[ -]?\d{2,4}(?:[ -]?\d{2,4}){1,3}/ },
]

/** The service's own addresses (From, controller, return path, mailto): strings of the configuration that are addresses. */
function ownAddresses(config: Config): Set<string> {
  const own = new Set<string>()
  const visit = (value: unknown) => {
    if (typeof value === 'string') for (const match of value.matchAll(ADDRESS)) own.add(match[0].toLowerCase())
    else if (value && typeof value === 'object') for (const v of Object.values(value)) visit(v)
  }
  visit(config)
  return own
}

export interface LogLeak {
  what: string
  line: string
}

/** What in a line is personal data, if anything. */
export function leaksIn(line: string, own: Set<string>): string[] {
  const found: string[] = []
  for (const match of line.matchAll(ADDRESS)) {
    if (!own.has(match[0].toLowerCase())) found.push(`an address (${match[0]})`)
  }
  for (const { what, pattern } of SHAPES) if (pattern.test(line)) found.push(what)
  for (const value of registeredIn(line)) found.push(`personal data given by the test (${value})`)
  return found
}

export interface LogScanner {
  /** The pino destination: every line is checked as it is written. */
  write(line: string): void
  /** Every line written, for tests about the log itself. */
  readonly lines: string[]
  readonly leaks: LogLeak[]
}

/**
 * A destination that checks each line; at the test's teardown a line that
 * leaked fails it (and is printed on stderr as it is written, so a leak after
 * the test ended is still seen).
 */
export function scanLogs(t: Test, config: Config, options: { keepLines?: boolean } = {}): LogScanner {
  const own = ownAddresses(config)
  const lines: string[] = []
  const leaks: LogLeak[] = []
  t.teardown(() => {
    for (const leak of leaks.slice(0, 20)) t.fail(`a log line carries ${leak.what}`, { line: leak.line })
    if (leaks.length > 20) t.fail(`… and ${leaks.length - 20} more log lines carry personal data`)
  })
  return {
    lines,
    leaks,
    write(line: string) {
      if (options.keepLines) lines.push(line)
      for (const what of leaksIn(line, own)) {
        leaks.push({ what, line })
        process.stderr.write(`log line carries ${what}: ${line}`)
      }
    },
  }
}

/** Scans the log lines a spawned service or worker writes on stdout (as the apps' lines are), passing them on to `echo`. */
export function scanProcessLogs(t: Test, config: Config, stdout: Readable, options: { keepLines?: boolean; echo?: NodeJS.WritableStream } = {}): LogScanner {
  const { echo } = options
  const scanner = scanLogs(t, config, options)
  let partial = ''
  stdout.setEncoding('utf8')
  stdout.on('data', (chunk: string) => {
    echo?.write(chunk)
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    for (const line of parts) scanner.write(`${line}\n`)
  })
  stdout.on('end', () => partial && scanner.write(partial))
  return scanner
}
