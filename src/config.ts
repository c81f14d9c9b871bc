// Owns configuration: the only module that reads process.env. Every variable is
// validated here; a bad value stops the service with one line naming it.
// Secrets that embedded mode may generate are resolved in loadRuntimeConfig.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ConfigError, readAddressRanges, readBoolean, readDuration, readEmail, readInt, readProxies, readSecret, readSigningKeys, readText, readUrl, type Env } from './lib/env.js'
import { DEFAULT_REGISTER_FILE, loadRegister, type ProcessingRegister } from './register/register.js'

export { ConfigError }

export interface ReturnsConfig {
  /**
   * The VERP base of the return path (`bounces@returns.example`): each message
   * goes with `bounces+<token>@returns.example` as its envelope sender, so a
   * bounce names its message. Unset: the From address, and reports match by
   * Message-ID alone.
   */
  returnPath: string | undefined
  /** The inbound SMTP listener for bounce mail and mailto: unsubscribes; undefined: off. */
  smtp: { host: string; port: number } | undefined
  /** So many days with a soft bounce within so many days, with no delivery between, suppress the address. */
  softBounce: { days: number; windowDays: number }
  /** Days a rejected report is kept for inspection. */
  rejectedKeepDays: number
  /** A campaign pauses itself on its complaint or bounce rate once at least this many of its messages were delivered. */
  rateMinimum: number
  /** Email providers whose events /v1/events/delivery takes, each verified its own way; absent: refused. */
  providers: {
    ses?: { allowedTopicArns: string[]; allowedCertificateOrigins: string[] }
    postmark?: { username: string; password: string }
    sendgrid?: { publicKey: string }
  }
}

/** The 48-character token a tagged address carries, and its +, leave this much of RFC 5321's 64 for the local part. */
const MAX_TAGGED_LOCAL_PART = 64 - 49

function readTaggableAddress(env: Env, name: string): string | undefined {
  if (!env[name]) return undefined
  const address = readEmail(env, name, '')
  if (/[<>\s]/.test(address)) throw new ConfigError(name, 'must be a bare address (local@domain), without a name')
  const local = address.slice(0, address.lastIndexOf('@'))
  if (local.length > MAX_TAGGED_LOCAL_PART || local.includes('+')) {
    throw new ConfigError(name, `must have a local part of at most ${MAX_TAGGED_LOCAL_PART} characters and no "+": each message's token is added after a +`)
  }
  return address
}

const readList = (env: Env, name: string) => (env[name] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '')

function readReturns(env: Env): ReturnsConfig {
  const port = env.RETURN_SMTP_PORT ? readInt(env, 'RETURN_SMTP_PORT', 0, 0, 65535) : undefined
  const providers: ReturnsConfig['providers'] = {}
  const topics = readList(env, 'SES_TOPIC_ARNS')
  if (topics.some((arn) => !/^arn:aws(-[a-z]+)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(arn))) {
    throw new ConfigError('SES_TOPIC_ARNS', 'must be SNS topic ARNs (arn:aws:sns:region:account:topic) separated by commas')
  }
  if (topics.length > 0) providers.ses = { allowedTopicArns: topics, allowedCertificateOrigins: readList(env, 'SES_CERTIFICATE_ORIGINS') }
  else if (env.SES_CERTIFICATE_ORIGINS) throw new ConfigError('SES_CERTIFICATE_ORIGINS', 'needs SES_TOPIC_ARNS beside it')
  if (env.POSTMARK_WEBHOOK_USER || env.POSTMARK_WEBHOOK_PASSWORD) {
    const password = readSecret(env, 'POSTMARK_WEBHOOK_PASSWORD', 16)
    if (!env.POSTMARK_WEBHOOK_USER || !password) throw new ConfigError(env.POSTMARK_WEBHOOK_USER ? 'POSTMARK_WEBHOOK_PASSWORD' : 'POSTMARK_WEBHOOK_USER', 'is needed with the other POSTMARK_WEBHOOK_ variable')
    providers.postmark = { username: env.POSTMARK_WEBHOOK_USER, password }
  }
  if (env.SENDGRID_WEBHOOK_PUBLIC_KEY) {
    if (!/^[A-Za-z0-9+/=\s]{40,}$/.test(env.SENDGRID_WEBHOOK_PUBLIC_KEY)) throw new ConfigError('SENDGRID_WEBHOOK_PUBLIC_KEY', 'must be the base64 public key SendGrid shows for its signed event webhook')
    providers.sendgrid = { publicKey: env.SENDGRID_WEBHOOK_PUBLIC_KEY.replace(/\s+/g, '') }
  }
  return {
    returnPath: readTaggableAddress(env, 'RETURN_PATH'),
    smtp: port === undefined ? undefined : { host: env.RETURN_SMTP_HOST || '127.0.0.1', port },
    softBounce: { days: readInt(env, 'SOFT_BOUNCE_DAYS', 3, 1, 30), windowDays: readInt(env, 'SOFT_BOUNCE_WINDOW_DAYS', 30, 1, 365) },
    rejectedKeepDays: readInt(env, 'RETURN_REJECTED_KEEP_DAYS', 30, 1, 3650),
    rateMinimum: readInt(env, 'RETURN_RATE_MINIMUM', 100, 1, 1_000_000),
    providers,
  }
}

export interface Config {
  port: number
  /** Where `npm run worker` answers /health, /ready and /metrics (beside an API process on PORT, so not the same port). */
  workerPort: number
  host: string
  dataDir: string
  /** Absent: embedded PGlite in `${dataDir}/pgdata`. */
  databaseUrl: string | undefined
  /** The tables' owner, for migrations; absent: DATABASE_URL migrates too (it is the owner then). */
  migrationDatabaseUrl: string | undefined
  /** Connections this process keeps to PostgreSQL: N processes hold N times this, which a managed server's limit must allow. */
  databasePoolSize: number
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
  /**
   * One-click unsubscribes (RFC 8058 POSTs) per minute per IP address, apart
   * from the anonymous limit: mailbox providers post them for all their users
   * from a few addresses, and each must be honoured.
   */
  oneClickRateLimitPerMinute: number
  /**
   * Where the request limits count: `memory` in this process (behind N
   * instances a client gets N times each limit), or `postgres`, shared by every
   * instance (src/rate-limits/store.ts). Default: postgres with DATABASE_URL,
   * memory on the embedded database (one process there anyway).
   */
  rateLimitStore: 'memory' | 'postgres'
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
  /**
   * An address for mail-based unsubscribes: each message's List-Unsubscribe
   * carries it as mailto:, tagged with the message (local+token@domain), so the
   * inbound listener knows what a mail to it answers.
   */
  unsubscribeMailto: string | undefined
  /** The way back for bounces and complaints (src/returns). */
  returns: ReturnsConfig
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
  /**
   * WEBHOOK_ALLOW_HTTP_LOOPBACK: a webhook endpoint may be plain http when its
   * host is loopback (a receiver on the developer's own machine). Defaults to
   * true in development; NODE_ENV=production refuses it, as every endpoint
   * there must be https.
   */
  webhookAllowHttpLoopback: boolean
  suppressionPepper: string
  /** Existing-customer rule (marketing act § 15): how far back a purchase counts. */
  marketingCustomerWindowMonths: number
  logLevel: string
  bodyLimitBytes: number
  /** Run scheduled jobs in this process (false for API-only replicas). */
  runJobs: boolean
  /** Where an upload to POST /v1/imports is kept while it is imported, then deleted (IMPORT_DIR; default `${dataDir}/imports`). */
  importDir: string
  /** The largest file POST /v1/imports takes, in bytes (IMPORT_MAX_BYTES). */
  importMaxBytes: number
  /**
   * Who may read GET /metrics: a bearer token of its own (METRICS_TOKEN) and/or
   * addresses or CIDR ranges (METRICS_ALLOW); each one set must be met. Neither
   * set: loopback only (src/operations/metrics-guard.ts).
   */
  metrics: { token: string | undefined; allow: string[] | undefined }
  /** How long a SIGTERM or SIGINT may take to close everything before the process gives up and exits non-zero. */
  shutdownTimeoutSeconds: number
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

/**
 * RATE_LIMIT_STORE. With DATABASE_URL the default is `postgres`: a process
 * cannot know whether it is one of N, and a limit counted per process (the
 * failed-authentication one above all) quietly becomes N times as loose. On
 * the embedded database only one process can run, so counting in memory
 * costs no accuracy and spares the one connection a statement per request.
 */
function readRateLimitStore(env: Env, databaseUrl: string | undefined): Config['rateLimitStore'] {
  const raw = env.RATE_LIMIT_STORE
  if (raw === undefined || raw === '') return databaseUrl ? 'postgres' : 'memory'
  if (raw !== 'memory' && raw !== 'postgres') throw new ConfigError('RATE_LIMIT_STORE', `must be memory or postgres, got "${raw}"`)
  return raw
}

/** WEBHOOK_ALLOW_HTTP_LOOPBACK: on by default in development, refused in production (signed bodies go over TLS there). */
function readWebhookLoopback(env: Env, production: boolean): boolean {
  const allowed = readBoolean(env, 'WEBHOOK_ALLOW_HTTP_LOOPBACK', !production)
  if (allowed && production) throw new ConfigError('WEBHOOK_ALLOW_HTTP_LOOPBACK', 'is for development; NODE_ENV=production takes https webhook endpoints only')
  return allowed
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
    workerPort: readInt(env, 'WORKER_PORT', 3001, 0, 65535),
    host,
    dataDir: resolve(env.DATA_DIR || './var'),
    databaseUrl,
    migrationDatabaseUrl,
    databasePoolSize: readInt(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    jwtSecret,
    tokenIssuer: readText(env, 'TOKEN_ISSUER', 'samtykke'),
    tokenAudience: readText(env, 'TOKEN_AUDIENCE', 'samtykke-api'),
    tokenMaxLifetimeSeconds: readDuration(env, 'TOKEN_MAX_LIFETIME', '24h', 366 * 86400),
    courseSystemTokenMaxLifetimeSeconds: readDuration(env, 'COURSE_SYSTEM_TOKEN_MAX_LIFETIME', '365d', 2 * 366 * 86400),
    rateLimitPerMinute: readInt(env, 'RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    anonymousRateLimitPerMinute: readInt(env, 'ANONYMOUS_RATE_LIMIT_PER_MINUTE', 60, 1, 1_000_000),
    authFailureLimitPerMinute: readInt(env, 'AUTH_FAILURE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
    signupRateLimitPerMinute: readInt(env, 'SIGNUP_RATE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
    oneClickRateLimitPerMinute: readInt(env, 'ONE_CLICK_RATE_LIMIT_PER_MINUTE', 6000, 1, 10_000_000),
    rateLimitStore: readRateLimitStore(env, databaseUrl),
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
    unsubscribeMailto: readTaggableAddress(env, 'UNSUBSCRIBE_MAILTO'),
    returns: readReturns(env),
    linkSigningKeys,
    runWorkers: readBoolean(env, 'RUN_WORKERS', true),
    deliveryMaxAttempts: readInt(env, 'DELIVERY_MAX_ATTEMPTS', 8, 1, 100),
    deliveryLeaseSeconds: readInt(env, 'DELIVERY_LEASE_SECONDS', 300, 5, 86_400),
    production,
    warnings,
    controllerName,
    controllerEmail: readEmail(env, 'CONTROLLER_EMAIL', DEFAULT_CONTROLLER_EMAIL),
    requestDueSoonDays: readInt(env, 'REQUEST_DUE_SOON_DAYS', 3, 0, 30),
    webhookAllowHttpLoopback: readWebhookLoopback(env, production),
    processingRegister,
    processorSecrets: readProcessorSecrets(env, processingRegister),
    suppressionPepper,
    marketingCustomerWindowMonths: readInt(env, 'MARKETING_CUSTOMER_WINDOW_MONTHS', 24, 1, 120),
    logLevel,
    bodyLimitBytes: readInt(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    runJobs: readBoolean(env, 'RUN_JOBS', true),
    importDir: resolve(env.IMPORT_DIR || join(resolve(env.DATA_DIR || './var'), 'imports')),
    // A million rows of a Mailchimp export are about 300 MB; the file is streamed to disk, never held in memory.
    importMaxBytes: readInt(env, 'IMPORT_MAX_BYTES', 1024 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024),
    metrics: { token: readSecret(env, 'METRICS_TOKEN', 32), allow: readAddressRanges(env, 'METRICS_ALLOW') },
    shutdownTimeoutSeconds: readInt(env, 'SHUTDOWN_TIMEOUT_SECONDS', 30, 1, 3600),
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
