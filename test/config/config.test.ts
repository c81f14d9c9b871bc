import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js'
import { entryPoint } from '../support/entry-point.js'

const SECRET = 'a-secret-of-at-least-thirty-two-characters'
const PG = 'postgres://samtykke@db.example.no:5432/samtykke'

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

/** What production needs so that real mail tells the truth: https links, and a named sender and controller. */
const REAL_MAIL = {
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://post.kurs.example',
  CONTROLLER_NAME: 'Kurs AS',
  MAIL_FROM: 'Kurs AS <post@kurs.example>',
  CONTROLLER_EMAIL: 'personvern@kurs.example',
}

const bad: [string, Record<string, string | undefined>][] = [
  ['PORT is not a number', { PORT: 'abc' }],
  ['PORT is negative', { PORT: '-1' }],
  ['PORT is out of range', { PORT: '65536' }],
  ['DATABASE_URL is not a URL', { DATABASE_URL: 'not a url', JWT_SECRET: SECRET, SUPPRESSION_PEPPER: SECRET }],
  ['DATABASE_URL has the wrong protocol', { DATABASE_URL: 'mysql://db.example.no/samtykke', JWT_SECRET: SECRET, SUPPRESSION_PEPPER: SECRET }],
  ['JWT_SECRET is too short', { JWT_SECRET: 'short' }],
  ['JWT_SECRET is missing while DATABASE_URL is set', { DATABASE_URL: PG, SUPPRESSION_PEPPER: SECRET }],
  ['SUPPRESSION_PEPPER is too short', { SUPPRESSION_PEPPER: 'pepper' }],
  ['SUPPRESSION_PEPPER is missing while DATABASE_URL is set', { DATABASE_URL: PG, JWT_SECRET: SECRET }],
  ['SMTP_URL has the wrong protocol', { SMTP_URL: 'http://mail.example.no' }],
  ['SMTP_URL is not a URL', { SMTP_URL: 'mail.example.no:25' }],
  ['MAIL_FROM is not an address', { MAIL_FROM: 'Samtykke' }],
  ['MAIL_FROM has a bad address in angle brackets', { MAIL_FROM: 'Samtykke <no-reply>' }],
  ['CONTROLLER_EMAIL is not an address', { CONTROLLER_EMAIL: 'privacy at example.no' }],
  ['PUBLIC_BASE_URL has the wrong protocol', { PUBLIC_BASE_URL: 'ftp://example.no' }],
  ['LOG_LEVEL is unknown', { LOG_LEVEL: 'loud' }],
  ['RATE_LIMIT_STORE is unknown', { RATE_LIMIT_STORE: 'redis' }],
  ['MARKETING_CUSTOMER_WINDOW_MONTHS is zero', { MARKETING_CUSTOMER_WINDOW_MONTHS: '0' }],
  ['BODY_LIMIT_BYTES is not a whole number', { BODY_LIMIT_BYTES: '1.5' }],
  ['RUN_JOBS is not a boolean', { RUN_JOBS: 'yes' }],
  ['MIGRATION_DATABASE_URL is set without DATABASE_URL', { MIGRATION_DATABASE_URL: PG }],
  ['MIGRATION_DATABASE_URL has the wrong protocol', { DATABASE_URL: PG, JWT_SECRET: SECRET, SUPPRESSION_PEPPER: SECRET, MIGRATION_DATABASE_URL: 'mysql://db/x' }],
  ['TOKEN_MAX_LIFETIME is not a duration', { TOKEN_MAX_LIFETIME: 'forever' }],
  ['TOKEN_MAX_LIFETIME is too short', { TOKEN_MAX_LIFETIME: '30s' }],
  ['COURSE_SYSTEM_TOKEN_MAX_LIFETIME is over two years', { COURSE_SYSTEM_TOKEN_MAX_LIFETIME: '1000d' }],
  ['TOKEN_ISSUER has a space', { TOKEN_ISSUER: 'my issuer' }],
  ['TOKEN_AUDIENCE is not ASCII', { TOKEN_AUDIENCE: 'tjeneste-ø' }],
  ['RATE_LIMIT_PER_MINUTE is zero', { RATE_LIMIT_PER_MINUTE: '0' }],
  ['ANONYMOUS_RATE_LIMIT_PER_MINUTE is not a number', { ANONYMOUS_RATE_LIMIT_PER_MINUTE: 'many' }],
  ['AUTH_FAILURE_LIMIT_PER_MINUTE is negative', { AUTH_FAILURE_LIMIT_PER_MINUTE: '-3' }],
  ['TRUST_PROXY is not an address', { TRUST_PROXY: 'loadbalancer' }],
  ['TRUST_PROXY has a bad range', { TRUST_PROXY: '10.0.0.0/33' }],
  ['LINK_SIGNING_KEYS is missing while DATABASE_URL is set', { DATABASE_URL: PG, JWT_SECRET: SECRET, SUPPRESSION_PEPPER: SECRET }],
  ['LINK_SIGNING_KEYS has no key id', { LINK_SIGNING_KEYS: SECRET }],
  ['LINK_SIGNING_KEYS has a short secret', { LINK_SIGNING_KEYS: 'k1:short' }],
  ['LINK_SIGNING_KEYS has a key id too long', { LINK_SIGNING_KEYS: `a-key-id-of-seventeen:${SECRET}` }],
  ['LINK_SIGNING_KEYS names a key twice', { LINK_SIGNING_KEYS: `k1:${SECRET},k1:${SECRET}x` }],
  ['DKIM_PRIVATE_KEY is missing while the other DKIM variables are set', { DKIM_DOMAIN: 'example.no', DKIM_SELECTOR: 's1' }],
  ['SMTP_RATE_PER_SECOND is zero', { SMTP_RATE_PER_SECOND: '0' }],
  ['SMTP_MAX_CONNECTIONS is too many', { SMTP_MAX_CONNECTIONS: '1000' }],
  ['DELIVERY_MAX_ATTEMPTS is not a number', { DELIVERY_MAX_ATTEMPTS: 'often' }],
  ['COURSE_MAIL_FROM is not an address', { COURSE_MAIL_FROM: 'Kurs' }],
  ['UNSUBSCRIBE_MAILTO is not an address', { UNSUBSCRIBE_MAILTO: 'unsubscribe' }],
  ['RUN_WORKERS is not a boolean', { RUN_WORKERS: 'sometimes' }],
  ['RETURN_PATH is not an address', { RETURN_PATH: 'bounces' }],
  ['RETURN_PATH has a local part too long for the token', { RETURN_PATH: 'a-very-long-bounces-box@returns.example.no' }],
  ['RETURN_PATH has a + of its own', { RETURN_PATH: 'b+x@returns.example.no' }],
  ['RETURN_PATH has a name', { RETURN_PATH: 'Bounces <bounces@returns.example.no>' }],
  ['UNSUBSCRIBE_MAILTO has a local part too long for the token', { UNSUBSCRIBE_MAILTO: 'unsubscribe-from-our-lists@example.no' }],
  ['RETURN_SMTP_PORT is not a port', { RETURN_SMTP_PORT: '70000' }],
  ['SOFT_BOUNCE_DAYS is zero', { SOFT_BOUNCE_DAYS: '0' }],
  ['RETURN_REJECTED_KEEP_DAYS is not a number', { RETURN_REJECTED_KEEP_DAYS: 'forever' }],
  ['SES_TOPIC_ARNS is not an ARN', { SES_TOPIC_ARNS: 'bounces' }],
  ['SES_CERTIFICATE_ORIGINS is set without SES_TOPIC_ARNS', { SES_CERTIFICATE_ORIGINS: 'http://127.0.0.1:9000' }],
  ['POSTMARK_WEBHOOK_PASSWORD is missing beside the user', { POSTMARK_WEBHOOK_USER: 'postmark' }],
  ['POSTMARK_WEBHOOK_PASSWORD is too short', { POSTMARK_WEBHOOK_USER: 'postmark', POSTMARK_WEBHOOK_PASSWORD: 'short' }],
  ['SENDGRID_WEBHOOK_PUBLIC_KEY is not a key', { SENDGRID_WEBHOOK_PUBLIC_KEY: 'not a key!' }],
  ['PUBLIC_BASE_URL is plain http in production', { ...REAL_MAIL, PUBLIC_BASE_URL: 'http://post.kurs.example' }],
  ['PUBLIC_BASE_URL is not set in production', { ...REAL_MAIL, PUBLIC_BASE_URL: '' }],
  ['CONTROLLER_NAME is not set in production', { ...REAL_MAIL, CONTROLLER_NAME: '' }],
  ['MAIL_FROM is not set in production', { ...REAL_MAIL, MAIL_FROM: undefined }],
  ['CONTROLLER_EMAIL is not set in production', { ...REAL_MAIL, CONTROLLER_EMAIL: undefined }],
  ['METRICS_TOKEN is too short', { METRICS_TOKEN: 'short' }],
  ['METRICS_ALLOW is not an address list', { METRICS_ALLOW: '10.0.0.0/8, prometheus.internal' }],
  ['METRICS_ALLOW has a prefix too long', { METRICS_ALLOW: '10.0.0.0/33' }],
  ['SHUTDOWN_TIMEOUT_SECONDS is zero', { SHUTDOWN_TIMEOUT_SECONDS: '0' }],
  ['SHUTDOWN_TIMEOUT_SECONDS is not a number', { SHUTDOWN_TIMEOUT_SECONDS: '30s' }],
]

for (const [what, env] of bad) {
  const variable = what.split(' ')[0]!
  t.test(`a bad variable stops with one message naming it: ${what}`, async (t) => {
    const error = thrown(() => parseConfig(env))
    t.type(error, ConfigError)
    t.equal((error as ConfigError).variable, variable)
    t.match((error as Error).message, new RegExp(`^${variable}: `))
    t.notMatch((error as Error).message, /\n/, 'one line')
  })
}

t.test('a secret is never echoed in its error message', async (t) => {
  const error = thrown(() => parseConfig({ JWT_SECRET: 'tiny-secret' }))
  t.type(error, ConfigError)
  t.notMatch((error as Error).message, 'tiny-secret')
})

t.test('without any variables the embedded defaults apply', async (t) => {
  const config = parseConfig({})
  t.match(config, {
    port: 3000,
    host: '127.0.0.1',
    dataDir: resolve('./var'),
    databaseUrl: undefined,
    jwtSecret: undefined,
    suppressionPepper: undefined,
    smtpUrl: undefined,
    publicBaseUrl: 'http://localhost:3000',
    logLevel: 'info',
    marketingCustomerWindowMonths: 24,
    bodyLimitBytes: 1024 * 1024,
    runJobs: true,
    migrationDatabaseUrl: undefined,
    tokenIssuer: 'samtykke',
    tokenAudience: 'samtykke-api',
    tokenMaxLifetimeSeconds: 24 * 60 * 60,
    courseSystemTokenMaxLifetimeSeconds: 365 * 24 * 60 * 60,
    rateLimitPerMinute: 600,
    anonymousRateLimitPerMinute: 60,
    authFailureLimitPerMinute: 10,
    rateLimitStore: 'memory',
    trustProxy: false,
    metrics: { token: undefined, allow: undefined },
    shutdownTimeoutSeconds: 30,
  })
  t.match(parseConfig({ METRICS_ALLOW: '10.0.0.0/8, ::1', METRICS_TOKEN: 'x'.repeat(32), SHUTDOWN_TIMEOUT_SECONDS: '5' }), {
    metrics: { token: 'x'.repeat(32), allow: ['10.0.0.0/8', '::1'] },
    shutdownTimeoutSeconds: 5,
  })
})

t.test('the request limits are counted in PostgreSQL by default when it is the database, in memory otherwise, as RATE_LIMIT_STORE says when set', async (t) => {
  const server = { DATABASE_URL: PG, JWT_SECRET: SECRET, SUPPRESSION_PEPPER: SECRET, LINK_SIGNING_KEYS: `k1:${SECRET}` }
  t.equal(parseConfig(server).rateLimitStore, 'postgres', 'every instance counts the same limit')
  t.equal(parseConfig({ ...server, RATE_LIMIT_STORE: 'memory' }).rateLimitStore, 'memory', 'one API process may keep them in memory')
  t.equal(parseConfig({}).rateLimitStore, 'memory', 'the embedded database runs in one process')
  t.equal(parseConfig({ RATE_LIMIT_STORE: 'postgres' }).rateLimitStore, 'postgres', 'and may count in its database too')
})

t.test('production starts with https links and a named sender and controller, and says nothing about them', async (t) => {
  const config = parseConfig(REAL_MAIL)
  t.equal(config.production, true)
  t.same(config.warnings, [])
  t.equal(config.controllerName, 'Kurs AS')
  t.equal(config.publicBaseUrl, 'https://post.kurs.example')
})

t.test('in production a missing or plain-http setting stops the start naming production as the reason', async (t) => {
  const error = thrown(() => parseConfig({ ...REAL_MAIL, PUBLIC_BASE_URL: 'http://post.kurs.example' }))
  t.match((error as Error).message, /^PUBLIC_BASE_URL: is http:\/\/post\.kurs\.example: .*RFC 8058.*https.*NODE_ENV=production/)
})

t.test('in development each setting real mail needs is one warning naming its variable, and none once set', async (t) => {
  const unset = parseConfig({})
  t.equal(unset.production, false)
  t.same(
    unset.warnings.map((w) => w.split(' ')[0]),
    ['PUBLIC_BASE_URL', 'CONTROLLER_NAME', 'MAIL_FROM', 'CONTROLLER_EMAIL'],
  )
  for (const warning of unset.warnings) t.notMatch(warning, /\n/, 'one line')
  t.match(parseConfig({ PUBLIC_BASE_URL: 'http://localhost:3000' }).warnings[0], /^PUBLIC_BASE_URL is http:\/\/localhost:3000: .*only over https/)
  const { NODE_ENV: _, ...development } = REAL_MAIL
  t.same(parseConfig(development).warnings, [])
})

t.test('the controller is named by CONTROLLER_NAME, else by the name in MAIL_FROM, never "The data controller"', async (t) => {
  t.equal(parseConfig({}).controllerName, 'Samtykke')
  t.equal(parseConfig({ MAIL_FROM: '"Yoga og Pust AS" <post@yoga.example>' }).controllerName, 'Yoga og Pust AS')
  t.equal(parseConfig({ MAIL_FROM: 'post@yoga.example' }).controllerName, 'Samtykke')
  t.equal(parseConfig({ MAIL_FROM: 'Yoga <post@yoga.example>', CONTROLLER_NAME: 'Yoga og Pust AS' }).controllerName, 'Yoga og Pust AS')
  t.equal(parseConfig({ MAIL_FROM: 'Yoga <post@yoga.example>' }).courseMailFrom, 'Yoga <post@yoga.example>', 'course mail goes from MAIL_FROM unless told otherwise')
})

t.test('the return path, the inbound listener and the providers are off until configured, and read when they are', async (t) => {
  t.match(parseConfig({}).returns, { returnPath: undefined, smtp: undefined, softBounce: { days: 3, windowDays: 30 }, rejectedKeepDays: 30, rateMinimum: 100, providers: {} })
  const arn = 'arn:aws:sns:eu-north-1:123456789012:ses-bounces'
  const configured = parseConfig({
    RETURN_PATH: 'bounces@returns.example.no',
    RETURN_SMTP_PORT: '2525',
    RETURN_SMTP_HOST: '0.0.0.0',
    SOFT_BOUNCE_DAYS: '2',
    SES_TOPIC_ARNS: `${arn}, ${arn}-2`,
    POSTMARK_WEBHOOK_USER: 'postmark',
    POSTMARK_WEBHOOK_PASSWORD: SECRET,
    SENDGRID_WEBHOOK_PUBLIC_KEY: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==',
  }).returns
  t.match(configured, {
    returnPath: 'bounces@returns.example.no',
    smtp: { host: '0.0.0.0', port: 2525 },
    softBounce: { days: 2, windowDays: 30 },
    providers: { ses: { allowedTopicArns: [arn, `${arn}-2`], allowedCertificateOrigins: [] }, postmark: { username: 'postmark', password: SECRET }, sendgrid: { publicKey: /^MFkw/ } },
  })
})

t.test('values are read and normalised', async (t) => {
  const config = parseConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATA_DIR: 'relative/dir',
    DATABASE_URL: PG,
    JWT_SECRET: SECRET,
    SUPPRESSION_PEPPER: SECRET,
    PUBLIC_BASE_URL: 'https://samtykke.example.no///',
    SMTP_URL: 'smtps://user:pass@mail.example.no:465',
    MAIL_FROM: 'Kurs AS <kurs@example.no>',
    LOG_LEVEL: 'warn',
    RUN_JOBS: '0',
    MIGRATION_DATABASE_URL: 'postgres://owner@db.example.no:5432/samtykke',
    TOKEN_MAX_LIFETIME: '8h',
    COURSE_SYSTEM_TOKEN_MAX_LIFETIME: '90d',
    TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1',
    RATE_LIMIT_PER_MINUTE: '100',
    LINK_SIGNING_KEYS: ` 2026b:${SECRET}b , 2026a:${SECRET}a`,
    COURSE_MAIL_FROM: 'Kurs AS kurs <kurs-info@example.no>',
    SMTP_RATE_PER_SECOND: '20',
    SMTP_MAX_CONNECTIONS: '2',
    DKIM_DOMAIN: 'example.no',
    DKIM_SELECTOR: 'samtykke',
    DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----',
    UNSUBSCRIBE_MAILTO: 'unsubscribe@example.no',
    RUN_WORKERS: 'false',
    DELIVERY_MAX_ATTEMPTS: '5',
  })
  t.match(config, {
    port: 8080,
    host: '0.0.0.0',
    dataDir: resolve('relative/dir'),
    databaseUrl: PG,
    jwtSecret: SECRET,
    suppressionPepper: SECRET,
    publicBaseUrl: 'https://samtykke.example.no',
    smtpUrl: 'smtps://user:pass@mail.example.no:465',
    mailFrom: 'Kurs AS <kurs@example.no>',
    logLevel: 'warn',
    runJobs: false,
    migrationDatabaseUrl: 'postgres://owner@db.example.no:5432/samtykke',
    tokenMaxLifetimeSeconds: 8 * 60 * 60,
    courseSystemTokenMaxLifetimeSeconds: 90 * 24 * 60 * 60,
    trustProxy: ['10.0.0.1', '192.168.0.0/16', '::1'],
    rateLimitPerMinute: 100,
    linkSigningKeys: [
      { id: '2026b', secret: `${SECRET}b` },
      { id: '2026a', secret: `${SECRET}a` },
    ],
    courseMailFrom: 'Kurs AS kurs <kurs-info@example.no>',
    smtpRatePerSecond: 20,
    smtpMaxConnections: 2,
    dkim: { domainName: 'example.no', keySelector: 'samtykke', privateKey: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----' },
    unsubscribeMailto: 'unsubscribe@example.no',
    runWorkers: false,
    deliveryMaxAttempts: 5,
  })
  t.equal(parseConfig({ MAIL_FROM: 'Kurs AS <kurs@example.no>' }).courseMailFrom, 'Kurs AS <kurs@example.no>', 'course mail comes from MAIL_FROM unless told')
  t.equal(parseConfig({ PORT: '4000' }).publicBaseUrl, 'http://localhost:4000', 'the public URL follows the port')
})

t.test('embedded mode generates the JWT secret, the pepper and the link key once and keeps them in DATA_DIR', async (t) => {
  const dataDir = join(tempDir(t), 'not-yet-created')
  const first = loadConfig({ DATA_DIR: dataDir })
  t.ok(first.jwtSecret.length >= 32, 'a long JWT secret')
  t.match(first.linkSigningKeys, [{ id: 'local', secret: /^.{32,}$/ }])
  t.equal(readFileSync(join(dataDir, 'link-signing-key'), 'utf8').trim(), first.linkSigningKeys[0]!.secret)
  t.ok(first.suppressionPepper.length >= 32, 'a long pepper')
  t.not(first.jwtSecret, first.suppressionPepper, 'two different secrets')
  t.equal(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim(), first.jwtSecret)
  t.equal(readFileSync(join(dataDir, 'suppression-pepper'), 'utf8').trim(), first.suppressionPepper)
  t.equal(statSync(join(dataDir, 'jwt-secret')).mode & 0o777, 0o600, 'readable by the owner only')

  const second = loadConfig({ DATA_DIR: dataDir })
  t.equal(second.jwtSecret, first.jwtSecret, 'the same JWT secret after a restart')
  t.equal(second.suppressionPepper, first.suppressionPepper, 'the same pepper after a restart')
  t.same(second.linkSigningKeys, first.linkSigningKeys, 'links in mail sent before a restart still verify')
})

t.test('configured secrets win over kept ones and are not written to disk', async (t) => {
  const dataDir = tempDir(t)
  const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET, SUPPRESSION_PEPPER: SECRET })
  t.equal(config.jwtSecret, SECRET)
  t.equal(config.suppressionPepper, SECRET)
  t.throws(() => statSync(join(dataDir, 'jwt-secret')), { code: 'ENOENT' })
  t.throws(() => statSync(join(dataDir, 'suppression-pepper')), { code: 'ENOENT' })
})

t.test('the server started with PORT=abc exits non-zero with one line naming PORT', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: 'abc', DATA_DIR: tempDir(t) }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const result = spawnSync(process.execPath, entryPoint('src/server.ts'), { env, encoding: 'utf8', timeout: 60_000 })
  t.equal(result.status, 1, 'exit code')
  const lines = result.stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line on stderr')
  t.match(lines[0], /^Configuration error: PORT: /)
  t.equal(result.stdout, '', 'nothing on stdout')
})
