// Postmark webhooks: posts with and without the basic auth credentials
// Postmark sends, and what each record and bounce type reads as, with
// Postmark's own samples.
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { readProviderEvents, type ProviderSettings } from '../../../src/returns/providers/index.js'
import { parsePostmarkEvent } from '../../../src/returns/providers/postmark.js'
import { MAX_REPORT_BYTES, UnreadableReportError, type ParsedReport } from '../../../src/returns/report.js'

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')
const settings: ProviderSettings = { postmark: { username: 'postmark-hooks', password: 'correct horse battery staple' } }
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
const GOOD_AUTH = basic('postmark-hooks', 'correct horse battery staple')

const read = (body: string, headers: Record<string, string | string[] | undefined> = { authorization: GOOD_AUTH }, over: ProviderSettings = settings) =>
  readProviderEvents('postmark', { body: Buffer.from(body), headers }, over)

async function refusal(t: Test, promise: Promise<unknown>, code: UnreadableReportError['code']): Promise<void> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught)
  t.type(error, UnreadableReportError)
  t.equal((error as UnreadableReportError).code, code, (error as Error).message)
}

// --- what records read as -------------------------------------------------------------------------

const readings: { name: string; fixture: string; reports: ParsedReport[] }[] = [
  {
    name: 'a hard bounce is a permanent bounce matched through our metadata, with the status from its details',
    fixture: 'postmark-bounce.json',
    reports: [
      {
        report: {
          type: 'bounce',
          severity: 'permanent',
          status: '5.1.1',
          providerType: 'HardBounce',
          diagnostic: "smtp;550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
        },
        message: { headerMessageId: '<0192f1b0-1234-7abc-8def-0123456789ab@samtykke.example>' },
        recipient: 'jane@example.com',
        reportKey: 'postmark:Bounce:3719297970',
        occurredAt: new Date('2025-06-15T11:28:10.273Z'),
      },
    ],
  },
  {
    name: 'a spam complaint is a complaint',
    fixture: 'postmark-spam-complaint.json',
    reports: [
      {
        report: { type: 'complaint', feedbackType: null },
        message: { headerMessageId: '<0192f1b1-1234-7abc-8def-0123456789ab@samtykke.example>' },
        recipient: 'richard@example.net',
        reportKey: 'postmark:SpamComplaint:42',
        occurredAt: new Date('2025-06-15T11:41:02.000Z'),
      },
    ],
  },
  {
    name: 'a delivery is delivered, keyed by message and recipient',
    fixture: 'postmark-delivery.json',
    reports: [
      {
        report: { type: 'delivered' },
        message: { headerMessageId: '<0192f1b2-1234-7abc-8def-0123456789ab@samtykke.example>' },
        recipient: 'mary@example.org',
        reportKey: 'postmark:Delivery:883953f4-6105-42a2-a16a-77a8eac79483:mary@example.org',
        occurredAt: new Date('2025-06-15T11:33:54.907Z'),
      },
    ],
  },
]

for (const reading of readings) {
  t.test(reading.name, async (t) => {
    t.strictSame(await read(fixture(reading.fixture)), { reports: reading.reports })
  })
}

const bounce = JSON.parse(fixture('postmark-bounce.json')) as Record<string, unknown>
const bounceWith = (over: Record<string, unknown>) => JSON.stringify({ ...bounce, ...over })

t.test('bounce types mean what Postmark says they mean', async (t) => {
  const cases: { type: string; code: number; expect: 'permanent' | 'transient' | 'undetermined' | 'complaint' | 'nothing' }[] = [
    { type: 'HardBounce', code: 1, expect: 'permanent' },
    { type: 'BadEmailAddress', code: 100000, expect: 'permanent' },
    { type: 'Transient', code: 2, expect: 'transient' },
    { type: 'SoftBounce', code: 4096, expect: 'transient' },
    { type: 'DnsError', code: 256, expect: 'transient' },
    { type: 'SpamNotification', code: 512, expect: 'transient' },
    { type: 'Blocked', code: 100006, expect: 'transient' },
    { type: 'DMARCPolicy', code: 100009, expect: 'transient' },
    { type: 'Unknown', code: 2048, expect: 'undetermined' },
    { type: 'ManuallyDeactivated', code: 100002, expect: 'undetermined' },
    { type: 'SMTPApiError', code: 100007, expect: 'undetermined' },
    { type: 'SomethingPostmarkAddsLater', code: 999999, expect: 'undetermined' },
    { type: 'SpamComplaint', code: 100001, expect: 'complaint' },
    { type: 'AutoResponder', code: 64, expect: 'nothing' },
    { type: 'ChallengeVerification', code: 16384, expect: 'nothing' },
    { type: 'Unsubscribe', code: 16, expect: 'nothing' },
    { type: 'Subscribe', code: 32, expect: 'nothing' },
    { type: 'AddressChange', code: 128, expect: 'nothing' },
    { type: 'OpenRelayTest', code: 1024, expect: 'nothing' },
    { type: 'VirusNotification', code: 8192, expect: 'nothing' },
  ]
  for (const { type, code, expect } of cases) {
    const reports = parsePostmarkEvent(bounceWith({ Type: type, TypeCode: code }))
    if (expect === 'nothing') t.strictSame(reports, [], `${type} yields nothing`)
    else if (expect === 'complaint') t.match(reports, [{ report: { type: 'complaint' } }], `${type} is a complaint`)
    else t.match(reports, [{ report: { type: 'bounce', severity: expect, providerType: type } }], `${type} is ${expect}`)
  }
})

t.test('a bounce that gives only its TypeCode is read by the code', async (t) => {
  t.match(parsePostmarkEvent(bounceWith({ Type: undefined, TypeCode: 4096 })), [{ report: { severity: 'transient', providerType: 'SoftBounce' } }])
})

t.test('a bounce without our metadata still parses, with nothing to match it by', async (t) => {
  const reports = parsePostmarkEvent(bounceWith({ Metadata: undefined }))
  t.equal(reports.length, 1)
  t.strictSame(reports[0]?.message, {})
})

t.test('a bounce whose details give no status has none, and keeps the words', async (t) => {
  t.match(parsePostmarkEvent(bounceWith({ Type: 'SoftBounce', Details: 'Mailbox full' })), [{ report: { status: null, diagnostic: 'Mailbox full' } }])
})

t.test('an ID too large to read exactly is not trusted as the key', async (t) => {
  const text = fixture('postmark-bounce.json').replace('"ID": 3719297970', '"ID": 4323372036854775807')
  t.match(parsePostmarkEvent(text), [{ reportKey: 'postmark:Bounce:883953f4-6105-42a2-a16a-77a8eac79483:jane@example.com:2025-06-15T13:28:10.2735393+02:00' }])
})

t.test('records that are not about delivery yield nothing', async (t) => {
  for (const recordType of ['Open', 'Click', 'SubscriptionChange', 'SomethingNew']) {
    t.strictSame(await read(JSON.stringify({ RecordType: recordType, MessageID: 'x', Recipient: 'jane@example.com' })), { reports: [] }, recordType)
  }
})

// --- refusals ---------------------------------------------------------------------------------------

const good = fixture('postmark-bounce.json')
const refusals: { name: string; body?: string; headers?: Record<string, string | string[] | undefined>; settings?: ProviderSettings; code: UnreadableReportError['code'] }[] = [
  { name: 'no credentials', headers: {}, code: 'report_signature_invalid' },
  { name: 'a wrong password', headers: { authorization: basic('postmark-hooks', 'correct horse battery stapler') }, code: 'report_signature_invalid' },
  { name: 'a wrong user', headers: { authorization: basic('someone', 'correct horse battery staple') }, code: 'report_signature_invalid' },
  { name: 'the credentials without their colon', headers: { authorization: `Basic ${Buffer.from('postmark-hookscorrect horse battery staple').toString('base64')}` }, code: 'report_signature_invalid' },
  { name: 'a bearer token instead of basic auth', headers: { authorization: 'Bearer correct horse battery staple' }, code: 'report_signature_invalid' },
  { name: 'two authorization headers', headers: { authorization: [GOOD_AUTH, GOOD_AUTH] }, code: 'report_signature_invalid' },
  { name: 'any post when Postmark is not configured', settings: {}, code: 'report_signature_invalid' },
  { name: 'any post when Postmark is configured with an empty password', settings: { postmark: { username: 'postmark-hooks', password: '' } }, headers: { authorization: basic('postmark-hooks', '') }, code: 'report_signature_invalid' },
  { name: 'malformed JSON', body: '{"RecordType": "Bounce",', code: 'report_unparsable' },
  { name: 'JSON that is not a Postmark record', body: '[{"RecordType": "Bounce"}]', code: 'report_not_a_report' },
  { name: 'a record without a RecordType', body: '{"Type": "HardBounce"}', code: 'report_not_a_report' },
  { name: 'a bounce with neither ID nor MessageID', body: bounceWith({ ID: undefined, MessageID: undefined }), code: 'report_unparsable' },
  { name: `a body over ${MAX_REPORT_BYTES} bytes`, body: bounceWith({ Content: 'x'.repeat(MAX_REPORT_BYTES) }), code: 'report_too_large' },
]

for (const { name, body, headers, settings: over, code } of refusals) {
  t.test(`refused as ${code}: ${name}`, (t) => refusal(t, read(body ?? good, headers ?? { authorization: GOOD_AUTH }, over ?? settings), code))
}

t.test('the auth scheme and header name are read in any case', async (t) => {
  const events = await read(good, { Authorization: GOOD_AUTH.replace('Basic', 'basic') })
  t.equal(events.reports.length, 1)
})

t.test('a password may hold colons', async (t) => {
  const over: ProviderSettings = { postmark: { username: 'hooks', password: 'a:b:c:0123456789abcdef' } }
  const events = await read(good, { authorization: basic('hooks', 'a:b:c:0123456789abcdef') }, over)
  t.equal(events.reports.length, 1)
})
