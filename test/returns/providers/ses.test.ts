// Amazon SES through SNS: messages signed here exactly as SNS signs them (both
// signature versions) with a real RSA key and a self-signed certificate made
// by the openssl CLI, served from a local HTTP server; then what verifies, what
// is refused and with which code, and what each SES event reads as.
import { execFileSync } from 'node:child_process'
import { sign as signData, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { CertificateCache, SigningCertificateUnavailableError, readProviderEvents, type ProviderSettings } from '../../../src/returns/providers/index.js'
import { isLoopbackHost } from '../../../src/returns/providers/sns-signature.js'
import { MAX_REPORT_BYTES, UnreadableReportError, type ParsedReport } from '../../../src/returns/report.js'

const NOW = new Date()
const clock = { now: () => NOW }
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString()
const TOPIC = 'arn:aws:sns:eu-north-1:123456789012:samtykke-ses-events'
const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')

// --- a signing key and certificate, as SNS has ------------------------------------------------

if (!commandExists('openssl')) throw new Error('These tests need the openssl CLI')
const dir = mkdtempSync(join(tmpdir(), 'samtykke-sns-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' })
const privateKey = readFileSync(join(dir, 'key.pem'), 'utf8')
const certificate = readFileSync(join(dir, 'cert.pem'), 'utf8')
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey

function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

// --- a local certificate server, counting what it is asked for ---------------------------------

const requested: string[] = []
const server: Server = createServer((request, response) => {
  requested.push(request.url ?? '')
  if (request.url === '/SimpleNotificationService-test.pem') return void response.end(certificate)
  if (request.url === '/SimpleNotificationService-huge.pem') return void response.end('x'.repeat(200 * 1024))
  if (request.url === '/not-a-certificate.pem') return void response.end('<html>hello</html>')
  response.statusCode = 404
  response.end()
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
const address = server.address()
const origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
const CERT_URL = `${origin}/SimpleNotificationService-test.pem`
const settings: ProviderSettings = { ses: { allowedCertificateOrigins: [origin], allowedTopicArns: [TOPIC] } }

// --- signing as SNS does -----------------------------------------------------------------------

type Envelope = Record<string, string>

/** SNS's string to sign: "Key\nValue\n" for each signed key present, in this order. */
function stringToSign(envelope: Envelope): string {
  const keys = envelope.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type']
  return keys.filter((key) => envelope[key] !== undefined).map((key) => `${key}\n${envelope[key]}\n`).join('')
}

function signed(envelope: Envelope, key: Parameters<typeof signData>[2] = privateKey): Envelope {
  const algorithm = envelope.SignatureVersion === '1' ? 'sha1' : 'sha256'
  return { ...envelope, Signature: signData(algorithm, Buffer.from(stringToSign(envelope), 'utf8'), key).toString('base64') }
}

function notification(message: string, over: Envelope = {}): Envelope {
  return {
    Type: 'Notification',
    MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
    TopicArn: TOPIC,
    Message: message,
    Timestamp: minutesAgo(1),
    SignatureVersion: '2',
    SigningCertURL: CERT_URL,
    UnsubscribeURL: `${origin}/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:c9135db0-26c4-47ec-8998-413945fb5a96`,
    ...over,
  }
}

function subscriptionConfirmation(over: Envelope = {}): Envelope {
  const token = '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736'
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
    Token: token,
    TopicArn: TOPIC,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `${origin}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${token}`,
    Timestamp: minutesAgo(2),
    SignatureVersion: '1',
    SigningCertURL: CERT_URL,
    ...over,
  }
}

const read = (body: string | Buffer, over: ProviderSettings = settings, certificates = new CertificateCache()) =>
  readProviderEvents('ses', { body: Buffer.from(body), headers: { 'x-amz-sns-message-type': 'Notification' } }, over, { clock, certificates })

async function refusal(t: Test, promise: Promise<unknown>, code: UnreadableReportError['code']): Promise<void> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught)
  t.type(error, UnreadableReportError)
  t.equal((error as UnreadableReportError).code, code, (error as Error).message)
}

// --- what SES events read as --------------------------------------------------------------------

const SNS_ID = '95df01b4-ee98-5cb9-9903-4c221d41eb5e'

const readings: { name: string; fixture: string; reports: ParsedReport[] }[] = [
  {
    name: 'a permanent bounce notification is one permanent bounce per bounced recipient, with its status and diagnostic',
    fixture: 'ses-bounce-notification.json',
    reports: [
      {
        report: { type: 'bounce', severity: 'permanent', status: '5.1.1', providerType: 'Permanent/General', diagnostic: 'smtp; 550 5.1.1 <jane@example.com>... User unknown' },
        message: { headerMessageId: '<0192f1a4-7c1e-7d3a-9e3b-5f1c2d3e4f50@samtykke.example>' },
        recipient: 'jane@example.com',
        reportKey: `ses:${SNS_ID}:jane@example.com`,
        occurredAt: new Date('2025-06-15T11:58:38.237Z'),
      },
      {
        report: {
          type: 'bounce',
          severity: 'permanent',
          status: '5.1.1',
          providerType: 'Permanent/General',
          diagnostic: "smtp; 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 Please try double-checking the recipient's email address.",
        },
        message: { headerMessageId: '<0192f1a4-7c1e-7d3a-9e3b-5f1c2d3e4f50@samtykke.example>' },
        recipient: 'richard@example.net',
        reportKey: `ses:${SNS_ID}:richard@example.net`,
        occurredAt: new Date('2025-06-15T11:58:38.237Z'),
      },
    ],
  },
  {
    name: 'a published complaint event is a complaint with its feedback type',
    fixture: 'ses-complaint-event.json',
    reports: [
      {
        report: { type: 'complaint', feedbackType: 'abuse' },
        message: { headerMessageId: '<0192f1a5-1111-7222-8333-944455556666@samtykke.example>' },
        recipient: 'richard@example.net',
        reportKey: `ses:${SNS_ID}:richard@example.net`,
        occurredAt: new Date('2025-06-15T11:41:02.669Z'),
      },
    ],
  },
  {
    name: 'a delivery notification is one delivered per recipient, matched by commonHeaders when the headers are not included',
    fixture: 'ses-delivery-notification.json',
    reports: ['jane@example.com', 'mary@example.org'].map((recipient) => ({
      report: { type: 'delivered' as const },
      message: { headerMessageId: '<0192f1a6-aaaa-7bbb-8ccc-9dddeeeeffff@samtykke.example>' },
      recipient,
      reportKey: `ses:${SNS_ID}:${recipient}`,
      occurredAt: new Date('2025-06-15T11:21:04.133Z'),
    })),
  },
  {
    name: 'a delivery delay is a transient bounce, and a Message-ID without brackets gets them',
    fixture: 'ses-delivery-delay-event.json',
    reports: [
      {
        report: { type: 'bounce', severity: 'transient', status: '4.4.1', providerType: 'DeliveryDelay/TransientCommunicationFailure', diagnostic: 'smtp; 421 4.4.1 Unable to connect to remote host' },
        message: { headerMessageId: '<0192f1a7-0000-7111-8222-933344445555@samtykke.example>' },
        recipient: 'mary@example.org',
        reportKey: `ses:${SNS_ID}:mary@example.org`,
        occurredAt: new Date('2025-06-15T11:25:40.095Z'),
      },
    ],
  },
  { name: 'a Send event verifies and yields nothing', fixture: 'ses-send-event.json', reports: [] },
]

for (const version of ['1', '2']) {
  t.test(`with SignatureVersion ${version}`, async (t) => {
    for (const reading of readings) {
      t.test(reading.name, async (t) => {
        const body = JSON.stringify(signed(notification(fixture(reading.fixture), { SignatureVersion: version })))
        t.strictSame(await read(body), { reports: reading.reports })
      })
    }
  })
}

t.test('bounce types map to severities and keep SES type and subtype', async (t) => {
  const cases = [
    { bounceType: 'Permanent', bounceSubType: 'NoEmail', severity: 'permanent', providerType: 'Permanent/NoEmail' },
    { bounceType: 'Transient', bounceSubType: 'MailboxFull', severity: 'transient', providerType: 'Transient/MailboxFull' },
    { bounceType: 'Undetermined', bounceSubType: 'Undetermined', severity: 'undetermined', providerType: 'Undetermined/Undetermined' },
    { bounceType: 'Permanent', bounceSubType: undefined, severity: 'permanent', providerType: 'Permanent' },
  ]
  for (const { bounceType, bounceSubType, severity, providerType } of cases) {
    const event = JSON.parse(fixture('ses-bounce-notification.json'))
    Object.assign(event.bounce, { bounceType, bounceSubType })
    const { reports } = await read(JSON.stringify(signed(notification(JSON.stringify(event)))))
    t.match(reports[0]?.report, { type: 'bounce', severity, providerType }, `${bounceType}/${bounceSubType}`)
  }
})

t.test('a notification SES writes in plain text (its topic validation notice) verifies and yields nothing', async (t) => {
  const body = JSON.stringify(signed(notification('Successfully validated SNS topic for Amazon SES event publishing.')))
  t.strictSame(await read(body), { reports: [] })
})

t.test('a Bounce without its bounce object is refused as unparsable', async (t) => {
  await refusal(t, read(JSON.stringify(signed(notification(JSON.stringify({ notificationType: 'Bounce', mail: {} }))))), 'report_unparsable')
})

t.test('a notification with a Subject is signed with it', async (t) => {
  const body = JSON.stringify(signed(notification(fixture('ses-send-event.json'), { Subject: 'Amazon SES Email Event Notification' })))
  t.strictSame(await read(body), { reports: [] })
})

// --- subscriptions ------------------------------------------------------------------------------

t.test('a verified subscription confirmation yields the URL to visit, which is not visited here', async (t) => {
  requested.length = 0
  const envelope = subscriptionConfirmation()
  t.strictSame(await read(JSON.stringify(signed(envelope))), { reports: [], confirmSubscription: envelope.SubscribeURL })
  t.strictSame(requested, ['/SimpleNotificationService-test.pem'])
})

t.test('a subscription confirmation whose SubscribeURL is off the allowed origins is refused', async (t) => {
  const envelope = subscriptionConfirmation({ SubscribeURL: 'https://attacker.example/?Action=ConfirmSubscription&Token=x' })
  await refusal(t, read(JSON.stringify(signed(envelope))), 'report_signature_invalid')
})

t.test('a SubscribeURL that does something other than confirm is refused', async (t) => {
  const envelope = subscriptionConfirmation({ SubscribeURL: `${origin}/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:x` })
  await refusal(t, read(JSON.stringify(signed(envelope))), 'report_signature_invalid')
})

t.test('an unsubscribe confirmation verifies and yields nothing to do', async (t) => {
  const envelope = subscriptionConfirmation({ Type: 'UnsubscribeConfirmation', Message: `You have chosen to deactivate subscription ${TOPIC}:x.` })
  t.strictSame(await read(JSON.stringify(signed(envelope))), { reports: [] })
})

// --- refusals -------------------------------------------------------------------------------------

const bounce = fixture('ses-bounce-notification.json')

const refusals: { name: string; body: () => string; settings?: ProviderSettings; code: UnreadableReportError['code'] }[] = [
  { name: 'a Message changed after signing', body: () => JSON.stringify({ ...signed(notification(bounce)), Message: bounce.replace('jane@', 'john@') }), code: 'report_signature_invalid' },
  { name: 'a MessageId changed after signing', body: () => JSON.stringify({ ...signed(notification(bounce)), MessageId: 'another' }), code: 'report_signature_invalid' },
  { name: 'a signature by another key', body: () => JSON.stringify(signed(notification(bounce), strangerKey)), code: 'report_signature_invalid' },
  { name: 'a signature made with SHA1 but labelled version 2', body: () => JSON.stringify({ ...signed(notification(bounce, { SignatureVersion: '1' })), SignatureVersion: '2' }), code: 'report_signature_invalid' },
  { name: 'an unknown SignatureVersion', body: () => JSON.stringify(signed(notification(bounce, { SignatureVersion: '3' }))), code: 'report_signature_invalid' },
  { name: 'no signature at all', body: () => JSON.stringify(notification(bounce)), code: 'report_signature_invalid' },
  { name: 'a certificate on a foreign host', body: () => JSON.stringify(signed(notification(bounce, { SigningCertURL: 'https://sns.attacker.example/SimpleNotificationService-test.pem' }))), code: 'report_signature_invalid' },
  { name: 'a certificate on a look-alike of an SNS host', body: () => JSON.stringify(signed(notification(bounce, { SigningCertURL: 'https://sns.eu-north-1.amazonaws.com.attacker.example/cert.pem' }))), code: 'report_signature_invalid' },
  { name: 'a certificate on an SNS host over plain http', body: () => JSON.stringify(signed(notification(bounce, { SigningCertURL: 'http://sns.eu-north-1.amazonaws.com/SimpleNotificationService-test.pem' }))), code: 'report_signature_invalid' },
  {
    name: 'a certificate over http on a configured host that is not loopback',
    body: () => JSON.stringify(signed(notification(bounce, { SigningCertURL: 'http://10.0.0.5:8080/SimpleNotificationService-test.pem' }))),
    settings: { ses: { allowedCertificateOrigins: ['http://10.0.0.5:8080'], allowedTopicArns: [TOPIC] } },
    code: 'report_signature_invalid',
  },
  { name: 'a certificate URL whose path does not end .pem', body: () => JSON.stringify(signed(notification(bounce, { SigningCertURL: `${origin}/SimpleNotificationService-test.pem.txt` }))), code: 'report_signature_invalid' },
  { name: 'a certificate URL with credentials in it', body: () => JSON.stringify(signed(notification(bounce, { SigningCertURL: CERT_URL.replace('http://', 'http://user:pw@') }))), code: 'report_signature_invalid' },
  { name: 'a URL that is no certificate', body: () => JSON.stringify(signed(notification(bounce, { SigningCertURL: `${origin}/not-a-certificate.pem` }))), code: 'report_signature_invalid' },
  { name: 'a Timestamp more than an hour old (a replay)', body: () => JSON.stringify(signed(notification(bounce, { Timestamp: minutesAgo(61) }))), code: 'report_signature_invalid' },
  { name: 'a Timestamp far ahead of our clock', body: () => JSON.stringify(signed(notification(bounce, { Timestamp: minutesAgo(-30) }))), code: 'report_signature_invalid' },
  { name: 'a topic not in the allowed list', body: () => JSON.stringify(signed(notification(bounce, { TopicArn: 'arn:aws:sns:eu-north-1:999999999999:someone-else' }))), code: 'report_signature_invalid' },
  { name: 'a body that is not JSON', body: () => 'Type=Notification&Message=hello', code: 'report_unparsable' },
  { name: 'JSON that is not an SNS message', body: () => JSON.stringify({ hello: 'world' }), code: 'report_not_a_report' },
  { name: 'an SNS message type we do not take', body: () => JSON.stringify(signed(notification(bounce, { Type: 'Publish' }))), code: 'report_not_a_report' },
  { name: `a body over ${MAX_REPORT_BYTES} bytes`, body: () => JSON.stringify(signed(notification(bounce, { Padding: 'x'.repeat(MAX_REPORT_BYTES) }))), code: 'report_too_large' },
  { name: 'any message when SES is not configured', body: () => JSON.stringify(signed(notification(bounce))), settings: {}, code: 'report_signature_invalid' },
]

for (const { name, body, settings: over, code } of refusals) {
  t.test(`refused as ${code}: ${name}`, (t) => refusal(t, read(body(), over ?? settings), code))
}

t.test('any topic is taken when no topics are listed', async (t) => {
  const body = JSON.stringify(signed(notification(fixture('ses-send-event.json'), { TopicArn: 'arn:aws:sns:eu-north-1:999999999999:other' })))
  t.strictSame(await read(body, { ses: { allowedCertificateOrigins: [origin] } }), { reports: [] })
})

// --- certificates ---------------------------------------------------------------------------------

t.test('a certificate is fetched once and then taken from the cache', async (t) => {
  requested.length = 0
  const certificates = new CertificateCache()
  for (let i = 0; i < 3; i++) await read(JSON.stringify(signed(notification(bounce, { MessageId: `m-${i}` }))), settings, certificates)
  t.strictSame(requested, ['/SimpleNotificationService-test.pem'])
})

t.test('the cache keeps at most its limit, dropping the oldest first', async (t) => {
  const certificates = new CertificateCache(2)
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey
  for (const url of ['a', 'b', 'c']) certificates.set(url, key)
  t.equal(certificates.get('a'), undefined)
  t.equal(certificates.get('b'), key)
  t.equal(certificates.get('c'), key)
})

t.test('a certificate that cannot be fetched is no verdict on the message: SNS should retry it', async (t) => {
  for (const path of ['/SimpleNotificationService-missing.pem', '/SimpleNotificationService-huge.pem']) {
    const error = await read(JSON.stringify(signed(notification(bounce, { SigningCertURL: `${origin}${path}` })))).catch((caught: unknown) => caught)
    t.type(error, SigningCertificateUnavailableError, path)
  }
})

t.test("certificates on SNS's own origins are fetched through the given fetchText", async (t) => {
  for (const host of ['sns.eu-north-1.amazonaws.com', 'sns.cn-north-1.amazonaws.com.cn', 'sns.us-gov-west-1.amazonaws.com']) {
    const fetched: string[] = []
    const fetchText = async (url: string) => (fetched.push(url), certificate)
    const url = `https://${host}/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem`
    const body = JSON.stringify(signed(notification(fixture('ses-send-event.json'), { SigningCertURL: url })))
    const events = await readProviderEvents('ses', { body: Buffer.from(body), headers: {} }, { ses: { allowedTopicArns: [TOPIC] } }, { clock, fetchText, certificates: new CertificateCache() })
    t.strictSame(events, { reports: [] }, host)
    t.strictSame(fetched, [url])
  }
})

t.test('loopback hosts are 127.0.0.0/8, ::1 and localhost, and nothing that only starts like them', async (t) => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['[::1]', true],
    ['localhost', true],
    ['10.0.0.1', false],
    ['127.0.0.1.attacker.example', false],
    ['localhost.attacker.example', false],
    ['[::2]', false],
  ]
  for (const [host, loopback] of cases) t.equal(isLoopbackHost(host), loopback, host)
})
