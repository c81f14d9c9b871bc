// Owns configuration: the only module that reads process.env. Every variable is
// validated here; a bad value stops the service with one line naming it.
// Secrets that embedded mode may generate are resolved in loadRuntimeConfig.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { parseDurationSeconds } from './lib/duration.js'

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
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDR ranges); false: none. */
  trustProxy: string[] | false
  publicBaseUrl: string
  /** Absent: messages are written as .eml files to `${dataDir}/outbox`. */
  smtpUrl: string | undefined
  mailFrom: string
  controllerName: string
  controllerEmail: string
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

/** Parses the environment; pure apart from reading `env`. */
export function parseConfig(env: Env): Omit<Config, 'jwtSecret' | 'suppressionPepper'> & {
  jwtSecret: string | undefined
  suppressionPepper: string | undefined
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
  if (databaseUrl && !suppressionPepper) {
    throw new ConfigError('SUPPRESSION_PEPPER', 'is required when DATABASE_URL is set (every instance must share it)')
  }
  const port = readInt(env, 'PORT', 3000, 0, 65535)
  const host = env.HOST || '127.0.0.1'
  const publicBaseUrl = readUrl(env, 'PUBLIC_BASE_URL', ['http:', 'https:']) ?? `http://localhost:${port}`
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
    trustProxy: readProxies(env, 'TRUST_PROXY'),
    publicBaseUrl: publicBaseUrl.replace(/\/+$/, ''),
    smtpUrl: readUrl(env, 'SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: readEmail(env, 'MAIL_FROM', 'Samtykke <no-reply@localhost.localdomain>'),
    controllerName: env.CONTROLLER_NAME || 'The data controller',
    controllerEmail: readEmail(env, 'CONTROLLER_EMAIL', 'privacy@localhost.localdomain'),
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
    suppressionPepper: parsed.suppressionPepper ?? keptSecret(parsed.dataDir, 'suppression-pepper'),
  }
}
