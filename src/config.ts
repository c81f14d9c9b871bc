// Owns configuration: the only module that reads process.env. Every variable is
// validated here; a bad value stops the service with one line naming it.
// Secrets that embedded mode may generate are resolved in loadRuntimeConfig.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { parseDurationSeconds } from './lib/duration.js'
import { DEFAULT_REGISTER_FILE, loadRegister, type ProcessingRegister } from './register/register.js'

export interface Config {
  port: number
  host: string
  dataDir: string
  /** Absent: embedded PGlite in `${dataDir}/pgdata`. */
  databaseUrl: string | undefined
  /** The tables' owner, for migrations; absent: DATABASE_URL migrates too (it is the owner then). */
  migrationDatabaseUrl: string | undefined
  jwtSecret: string
  /** `iss` set in and required of every bearer token. */
  tokenIssuer: string
  /** `aud` set in and required of every bearer token. */
  tokenAudience: string
  /** Longest lifetime (exp − iat) accepted for staff and admin tokens, in seconds. */
  tokenMaxLifetimeSeconds: number
  /** Longest lifetime accepted for course-system tokens (machine tokens), in seconds. */
  courseSystemTokenMaxLifetimeSeconds: number
  /** Requests per minute per token. */
  rateLimitPerMinute: number
  /** Requests per minute per IP address without a token. */
  anonymousRateLimitPerMinute: number
  /** Failed authentications per minute per IP address; beyond it every attempt is refused until the minute is over. */
  authFailureLimitPerMinute: number
  /** Signups (POST /subscribe) per minute per IP address. */
  signupRateLimitPerMinute: number
  /** How long a double opt-in confirmation link stays good, in days. */
  signupConfirmDays: number
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDR ranges); false: none. */
  trustProxy: string[] | false
  publicBaseUrl: string
  /** Absent: messages are written as .eml files to `${dataDir}/outbox`. */
  smtpUrl: string | undefined
  mailFrom: string
  /** Course mail goes from its own address (it is not promotion, and cannot be opted out of). */
  courseMailFrom: string
  /** SMTP: most messages a second, and most connections, per worker. */
  smtpRatePerSecond: number
  smtpMaxConnections: number
  /** DKIM signing, when all three are set: the signature covers List-Unsubscribe and List-Unsubscribe-Post. */
  dkim: { domainName: string; keySelector: string; privateKey: string } | undefined
  /** An address for mail-based unsubscribes, added to List-Unsubscribe as mailto: when set. */
  unsubscribeMailto: string | undefined
  /** Keys that sign subscriber links: the first signs, every one verifies (rotation keeps old links working). */
  linkSigningKeys: { id: string; secret: string }[]
  /** Run delivery workers in this process (false for API-only replicas; `npm run worker` runs them alone). */
  runWorkers: boolean
  /** How many times a temporary failure is tried before the message fails. */
  deliveryMaxAttempts: number
  /** How long a worker's claim on messages (and on a campaign's fan-out) holds: a worker that dies lets them go after this. */
  deliveryLeaseSeconds: number
  /** NODE_ENV=production: the checks that keep real mail honest (https links, a named controller) stop the start instead of warning. */
  production: boolean
  /** What a development start should hear once (http links, an unnamed controller); in production each of these stops the start. */
  warnings: string[]
  /** Who the mail and pages name as the sender and data controller (CONTROLLER_NAME, else MAIL_FROM's display name). */
  controllerName: string
  controllerEmail: string
  /** The processing register (art. 30), loaded and checked at start from PROCESSING_REGISTER_FILE or the one in the repo. */
  processingRegister: ProcessingRegister
  /** The HMAC secret of each webhook processor in the register, read from the environment variable the register names. */
  processorSecrets: Record<string, string>
  /** Calendar days before its due date that an open data-subject request is flagged as due soon. */
  requestDueSoonDays: number
  suppressionPepper: string
  /** Existing-customer rule (marketing act § 15): how far back a purchase counts. */
  marketingCustomerWindowMonths: number
  logLevel: string
  bodyLimitBytes: number
  /** Run scheduled jobs in this process (false for API-only replicas). */
  runJobs: boolean
}

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(name, `must be true or false, got "${raw}"`)
}

function readUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, 'is not a valid URL')
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${url.protocol}`)
  }
  return raw
}

/** Every webhook processor's secret, from the variable the register names for it: a missing one stops the start. */
function readProcessorSecrets(env: Env, register: ProcessingRegister): Record<string, string> {
  const secrets: Record<string, string> = {}
  for (const processor of register.processors) {
    if (processor.notify.type !== 'webhook') continue
    const secret = readSecret(env, processor.notify.secretEnv, 16)
    if (!secret) throw new ConfigError(processor.notify.secretEnv, `is the webhook secret of processor "${processor.id}" in the processing register, and is not set`)
    secrets[processor.id] = secret
  }
  return secrets
}

function readEmail(env: Env, name: string, fallback: string): string {
  const raw = env[name] ?? fallback
  // Only a shape check: these are our own addresses, written by an operator.
  if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(raw.replace(/^.*<(.+)>\s*$/, '$1'))) {
    throw new ConfigError(name, `is not an email address: "${raw}"`)
  }
  return raw
}

function readDuration(env: Env, name: string, fallback: string, maxSeconds: number): number {
  const raw = env[name] || fallback
  const seconds = parseDurationSeconds(raw)
  if (seconds === undefined || seconds < 60) throw new ConfigError(name, `must be a duration of a minute or more such as 12h or 365d, got "${raw}"`)
  if (seconds > maxSeconds) throw new ConfigError(name, `must be at most ${maxSeconds / 86400} days`)
  return seconds
}

function readText(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback
  if (!/^[\x21-\x7e]{1,200}$/.test(raw)) throw new ConfigError(name, 'must be 1–200 printable ASCII characters without spaces')
  return raw
}

/** Comma-separated addresses or CIDR ranges of trusted proxies; unset or "false" trusts none. */
function readProxies(env: Env, name: string): string[] | false {
  const raw = env[name]?.trim()
  if (!raw || raw === 'false') return false
  const entries = raw.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    const [address, bits, ...rest] = entry.split('/')
    const family = isIP(address ?? '')
    const maxBits = family === 6 ? 128 : 32
    if (!family || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits))) {
      throw new ConfigError(name, `must list IP addresses or CIDR ranges separated by commas, got "${entry}"`)
    }
  }
  return entries
}

function readSecret(env: Env, name: string, minLength: number): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (raw.length < minLength) throw new ConfigError(name, `must be at least ${minLength} characters`)
  return raw
}

/** `id:secret` pairs separated by commas; each secret 32+ characters. */
function readSigningKeys(env: Env, name: string): { id: string; secret: string }[] | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  const keys = raw.split(',').map((entry) => {
    const at = entry.indexOf(':')
    const id = entry.slice(0, at).trim()
    const secret = entry.slice(at + 1).trim()
    if (at <= 0 || !/^[A-Za-z0-9_-]{1,16}$/.test(id) || secret.length < 32) {
      throw new ConfigError(name, 'must be id:secret pairs separated by commas: ids of 1–16 letters, digits, - and _; secrets of 32+ characters')
    }
    return { id, secret }
  })
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new ConfigError(name, 'names a key id twice')
  return keys
}

const DEFAULT_MAIL_FROM = 'Samtykke <no-reply@localhost.localdomain>'
const DEFAULT_CONTROLLER_EMAIL = 'privacy@localhost.localdomain'

/** The display name of a `Name <address>` sender, unquoted; null for a bare address. */
function displayNameOf(sender: string): string | null {
  const name = /^\s*"?([^"<]*?)"?\s*<[^>]+>\s*$/.exec(sender)?.[1]?.trim()
  return name ? name : null
}

/**
 * What the defaults would get wrong in real mail: one-click unsubscribe
 * (RFC 8058) links over plain http, which mailbox providers do not honour, and
 * a sender and controller nobody named ("Nyhetsbrev fra Samtykke" from
 * localhost). In production the first stops the start with one line naming
 * its variable; in development each is said once at start.
 */
function checkRealMail(env: Env, publicBaseUrl: string | undefined, controllerName: string, production: boolean): string[] {
  const problems: [variable: string, problem: string][] = []
  if (!publicBaseUrl) {
    problems.push(['PUBLIC_BASE_URL', 'is not set: links in mail point to localhost over http, and mail clients honour one-click unsubscribe (RFC 8058) only over https'])
  } else if (new URL(publicBaseUrl).protocol !== 'https:') {
    problems.push(['PUBLIC_BASE_URL', `is ${publicBaseUrl}: mail clients honour one-click unsubscribe (RFC 8058) only over https`])
  }
  if (!env.CONTROLLER_NAME) problems.push(['CONTROLLER_NAME', `is not set: mail and pages name the sender and data controller "${controllerName}"`])
  if (!env.MAIL_FROM) problems.push(['MAIL_FROM', `is not set: mail goes from ${DEFAULT_MAIL_FROM}`])
  if (!env.CONTROLLER_EMAIL) problems.push(['CONTROLLER_EMAIL', `is not set: mail and pages give ${DEFAULT_CONTROLLER_EMAIL} for privacy requests`])
  const [first] = problems
  if (production && first) throw new ConfigError(first[0], `${first[1]}, and NODE_ENV=production does not start without it`)
  return problems.map(([variable, problem]) => `${variable} ${problem} (fine for trying it out; set it before sending real mail)`)
}

/** Parses the environment; pure apart from reading `env`. */
export function parseConfig(env: Env): Omit<Config, 'jwtSecret' | 'suppressionPepper' | 'linkSigningKeys'> & {
  jwtSecret: string | undefined
  suppressionPepper: string | undefined
  linkSigningKeys: { id: string; secret: string }[] | undefined
} {
  const databaseUrl = readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:'])
  const migrationDatabaseUrl = readUrl(env, 'MIGRATION_DATABASE_URL', ['postgres:', 'postgresql:'])
  if (migrationDatabaseUrl && !databaseUrl) {
    throw new ConfigError('MIGRATION_DATABASE_URL', 'needs DATABASE_URL beside it (the embedded database has no roles)')
  }
  const jwtSecret = readSecret(env, 'JWT_SECRET', 32)
  const suppressionPepper = readSecret(env, 'SUPPRESSION_PEPPER', 32)
  if (databaseUrl && !jwtSecret) {
    throw new ConfigError('JWT_SECRET', 'is required when DATABASE_URL is set (every instance must share it)')
  }
  const processingRegister = loadRegister(env.PROCESSING_REGISTER_FILE ? resolve(env.PROCESSING_REGISTER_FILE) : DEFAULT_REGISTER_FILE)
  const dkimParts = ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'].filter((n) => env[n])
  if (dkimParts.length > 0 && dkimParts.length < 3) {
    throw new ConfigError(['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'].find((n) => !env[n])!, 'is needed with the other DKIM_ variables')
  }
  if (databaseUrl && !suppressionPepper) {
    throw new ConfigError('SUPPRESSION_PEPPER', 'is required when DATABASE_URL is set (every instance must share it)')
  }
  const linkSigningKeys = readSigningKeys(env, 'LINK_SIGNING_KEYS')
  if (databaseUrl && !linkSigningKeys) {
    throw new ConfigError('LINK_SIGNING_KEYS', 'is required when DATABASE_URL is set (every instance must share it)')
  }
  const port = readInt(env, 'PORT', 3000, 0, 65535)
  const host = env.HOST || '127.0.0.1'
  const configuredBaseUrl = readUrl(env, 'PUBLIC_BASE_URL', ['http:', 'https:'])
  const publicBaseUrl = configuredBaseUrl ?? `http://localhost:${port}`
  const production = env.NODE_ENV === 'production'
  const mailFrom = readEmail(env, 'MAIL_FROM', DEFAULT_MAIL_FROM)
  const controllerName = env.CONTROLLER_NAME || displayNameOf(mailFrom) || 'Samtykke'
  const warnings = checkRealMail(env, configuredBaseUrl, controllerName, production)
  const logLevel = env.LOG_LEVEL || 'info'
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent`)
  }
  return {
    port,
    host,
    dataDir: resolve(env.DATA_DIR || './var'),
    databaseUrl,
    migrationDatabaseUrl,
    jwtSecret,
    tokenIssuer: readText(env, 'TOKEN_ISSUER', 'samtykke'),
    tokenAudience: readText(env, 'TOKEN_AUDIENCE', 'samtykke-api'),
    tokenMaxLifetimeSeconds: readDuration(env, 'TOKEN_MAX_LIFETIME', '24h', 366 * 86400),
    courseSystemTokenMaxLifetimeSeconds: readDuration(env, 'COURSE_SYSTEM_TOKEN_MAX_LIFETIME', '365d', 2 * 366 * 86400),
    rateLimitPerMinute: readInt(env, 'RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    anonymousRateLimitPerMinute: readInt(env, 'ANONYMOUS_RATE_LIMIT_PER_MINUTE', 60, 1, 1_000_000),
    authFailureLimitPerMinute: readInt(env, 'AUTH_FAILURE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
    signupRateLimitPerMinute: readInt(env, 'SIGNUP_RATE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
    signupConfirmDays: readInt(env, 'SIGNUP_CONFIRM_DAYS', 7, 1, 365),
    trustProxy: readProxies(env, 'TRUST_PROXY'),
    publicBaseUrl: publicBaseUrl.replace(/\/+$/, ''),
    smtpUrl: readUrl(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom,
    courseMailFrom: readEmail(env, 'COURSE_MAIL_FROM', mailFrom),
    smtpRatePerSecond: readInt(env, 'SMTP_RATE_PER_SECOND', 50, 1, 100_000),
    smtpMaxConnections: readInt(env, 'SMTP_MAX_CONNECTIONS', 5, 1, 100),
    dkim: dkimParts.length === 3
      ? { domainName: env.DKIM_DOMAIN!, keySelector: env.DKIM_SELECTOR!, privateKey: env.DKIM_PRIVATE_KEY!.replaceAll('\\n', '\n') }
      : undefined,
    unsubscribeMailto: env.UNSUBSCRIBE_MAILTO ? readEmail(env, 'UNSUBSCRIBE_MAILTO', '') : undefined,
    linkSigningKeys,
    runWorkers: readBoolean(env, 'RUN_WORKERS', true),
    deliveryMaxAttempts: readInt(env, 'DELIVERY_MAX_ATTEMPTS', 8, 1, 100),
    deliveryLeaseSeconds: readInt(env, 'DELIVERY_LEASE_SECONDS', 300, 5, 86_400),
    production,
    warnings,
    controllerName,
    controllerEmail: readEmail(env, 'CONTROLLER_EMAIL', DEFAULT_CONTROLLER_EMAIL),
    requestDueSoonDays: readInt(env, 'REQUEST_DUE_SOON_DAYS', 3, 0, 30),
    processingRegister,
    processorSecrets: readProcessorSecrets(env, processingRegister),
    suppressionPepper,
    marketingCustomerWindowMonths: readInt(env, 'MARKETING_CUSTOMER_WINDOW_MONTHS', 24, 1, 120),
    logLevel,
    bodyLimitBytes: readInt(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    runJobs: readBoolean(env, 'RUN_JOBS', true),
  }
}

/**
 * In embedded mode a secret that was not configured is generated once and kept
 * in DATA_DIR, so tokens and suppression hashes survive a restart.
 */
function keptSecret(dataDir: string, file: string): string {
  const path = join(dataDir, file)
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' })
  return secret
}

export function loadConfig(env: Env = process.env): Config {
  const parsed = parseConfig(env)
  return {
    ...parsed,
    jwtSecret: parsed.jwtSecret ?? keptSecret(parsed.dataDir, 'jwt-secret'),
    linkSigningKeys: parsed.linkSigningKeys ?? [{ id: 'local', secret: keptSecret(parsed.dataDir, 'link-signing-key') }],
    suppressionPepper: parsed.suppressionPepper ?? keptSecret(parsed.dataDir, 'suppression-pepper'),
  }
}

/** loadConfig for an entry point (the service, the worker): a bad value ends the process with one line naming the variable. */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`Configuration error: ${error.message}`)
    process.exit(1)
  }
}
