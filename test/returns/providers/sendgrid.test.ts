// SendGrid's signed event webhook: batches signed here as SendGrid signs them
// (ECDSA P-256, SHA-256, over the timestamp header and the raw body) with a
// key pair made for the test; what verifies, what is refused, and what each
// event in SendGrid's sample batch reads as.
import { generateKeyPairSync, sign as signData, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { readProviderEvents, type ProviderSettings } from '../../../src/returns/providers/index.js'
import { parseSendGridEvents, verifySendGridRequest } from '../../../src/returns/providers/sendgrid.js'
import { MAX_REPORT_BYTES, UnreadableReportError, type ParsedReport } from '../../../src/returns/report.js'

const NOW = new Date()
const clock = { now: () => NOW }
const secondsAgo = (seconds: number) => String(Math.floor(NOW.getTime() / 1000) - seconds)
const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')

const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
/** The verification key as SendGrid's settings page shows it: base64 of the DER SubjectPublicKeyInfo. */
const shownKey = (key: KeyObject) => key.export({ format: 'der', type: 'spki' }).toString('base64')
const settings: ProviderSettings = { sendgrid: { publicKey: shownKey(keys.publicKey) } }

type Headers = Record<string, string | string[] | undefined>

function signedHeaders(body: string, timestamp = secondsAgo(5), key: KeyObject = keys.privateKey): Headers {
  const signature = signData('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString('base64')
  return { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp }
}

const read = (body: string, headers: Headers = signedHeaders(body), over: ProviderSettings = settings) =>
  readProviderEvents('sendgrid', { body: Buffer.from(body), headers }, over, { clock })

async function refusal(t: Test, promise: Promise<unknown>, code: UnreadableReportError['code']): Promise<void> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught)
  t.type(error, UnreadableReportError)
  t.equal((error as UnreadableReportError).code, code, (error as Error).message)
}

// --- what a batch reads as --------------------------------------------------------------------

const at = (seconds: number) => new Date(seconds * 1000)
const id = (n: number) => `<0192f1c0-000${n}-7abc-8def-0123456789ab@samtykke.example>`

const batchReports: ParsedReport[] = [
  {
    report: { type: 'bounce', severity: 'transient', status: '4.7.28', providerType: 'deferred', diagnostic: '421 4.7.28 Our system has detected an unusual rate of unsolicited mail. Try again later.' },
    message: { headerMessageId: id(2) },
    recipient: 'mary@example.org',
    reportKey: 'sendgrid:t7LEShmowp86DTdUW8M-GQ',
    occurredAt: at(1749988860),
  },
  { report: { type: 'delivered' }, message: { headerMessageId: id(1) }, recipient: 'jane@example.com', reportKey: 'sendgrid:ahSCB7xYcXFb-hEaawsPRw', occurredAt: at(1749988900) },
  {
    report: { type: 'bounce', severity: 'permanent', status: '5.1.1', providerType: 'bounce', diagnostic: '550 5.1.1 The email account that you tried to reach does not exist.' },
    message: { headerMessageId: id(3) },
    recipient: 'richard@example.net',
    reportKey: 'sendgrid:6g4ZI7SA-xmRDv57GoPIPw',
    occurredAt: at(1749989100),
  },
  {
    report: { type: 'bounce', severity: 'transient', status: '5.7.1', providerType: 'blocked', diagnostic: '554 5.7.1 Service unavailable; Client host [149.72.0.1] blocked using Spamhaus' },
    message: { headerMessageId: id(4) },
    recipient: 'ola@example.no',
    reportKey: 'sendgrid:bx5UmKrrQ1urFRBHcsdPMQ',
    occurredAt: at(1749989160),
  },
  {
    report: { type: 'bounce', severity: 'permanent', status: null, providerType: 'dropped/Bounced Address', diagnostic: 'Bounced Address' },
    message: { headerMessageId: id(5) },
    recipient: 'kari@example.no',
    reportKey: 'sendgrid:zmzJhfJgAfUSOW80yEbPyw',
    occurredAt: at(1749989200),
  },
  { report: { type: 'complaint', feedbackType: null }, message: {}, recipient: 'mary@example.org', reportKey: 'sendgrid:37nvH5QBz858KGVYCM4uOA', occurredAt: at(1749989300) },
]

t.test('a signed batch of mixed events reads as one report per delivery event, in order, and nothing for the rest', async (t) => {
  t.strictSame(await read(fixture('sendgrid-events.json')), { reports: batchReports })
})

t.test('a batch verifies the same whether the body comes as a Buffer or a string', async (t) => {
  const body = fixture('sendgrid-events.json')
  for (const given of [body, Buffer.from(body)]) {
    t.doesNotThrow(() => verifySendGridRequest({ body: given, headers: signedHeaders(body) }, { publicKey: shownKey(keys.publicKey) }, { clock }))
    t.strictSame(parseSendGridEvents(given), batchReports)
  }
})

const event = (over: Record<string, unknown>) =>
  JSON.stringify([{ email: 'jane@example.com', timestamp: 1749989100, 'smtp-id': id(1), sg_event_id: 'ev-1', sg_message_id: 'm-1', ...over }])

t.test('events read by their kind', async (t) => {
  const cases: { name: string; over: Record<string, unknown>; report: ParsedReport['report'] | undefined }[] = [
    { name: 'a bounce with a 4.x.x status is transient', over: { event: 'bounce', type: 'bounce', status: '4.2.2', reason: '452 4.2.2 Mailbox full' }, report: { type: 'bounce', severity: 'transient', status: '4.2.2', providerType: 'bounce', diagnostic: '452 4.2.2 Mailbox full' } },
    { name: 'a bounce without a type is a bounce proper', over: { event: 'bounce', status: '5.0.0', reason: '500 unknown recipient' }, report: { type: 'bounce', severity: 'permanent', status: '5.0.0', providerType: 'bounce', diagnostic: '500 unknown recipient' } },
    { name: 'a drop for an invalid address is permanent', over: { event: 'dropped', reason: 'Invalid', status: '5.0.0' }, report: { type: 'bounce', severity: 'permanent', status: null, providerType: 'dropped/Invalid', diagnostic: 'Invalid' } },
    { name: 'a drop for an unsubscribed address yields nothing', over: { event: 'dropped', reason: 'Unsubscribed Address', status: '5.0.0' }, report: undefined },
    { name: 'a drop for a spam-reporting address yields nothing', over: { event: 'dropped', reason: 'Spam Reporting Address', status: '5.0.0' }, report: undefined },
    { name: 'a processed event yields nothing', over: { event: 'processed' }, report: undefined },
    { name: 'an unsubscribe yields nothing: our own links handle those', over: { event: 'unsubscribe' }, report: undefined },
    { name: 'an event SendGrid adds later yields nothing', over: { event: 'machine_opened' }, report: undefined },
  ]
  for (const { name, over, report } of cases) {
    const reports = parseSendGridEvents(event(over))
    t.strictSame(reports.map((r) => r.report), report === undefined ? [] : [report], name)
  }
})

t.test('a Message-ID without brackets gets them, and an smtp-id that is no Message-ID matches nothing', async (t) => {
  t.strictSame(parseSendGridEvents(event({ event: 'delivered', 'smtp-id': '0192f1c0@samtykke.example' }))[0]?.message, { headerMessageId: '<0192f1c0@samtykke.example>' })
  t.strictSame(parseSendGridEvents(event({ event: 'delivered', 'smtp-id': 'sendgrid-internal-id' }))[0]?.message, {})
})

// --- refusals ---------------------------------------------------------------------------------------

const good = fixture('sendgrid-events.json')
const refusals: { name: string; body?: string; headers?: () => Headers; settings?: ProviderSettings; code: UnreadableReportError['code'] }[] = [
  { name: 'a body changed after signing', body: good.replace('5.1.1', '4.1.1'), headers: () => signedHeaders(good), code: 'report_signature_invalid' },
  { name: 'a timestamp changed after signing', headers: () => ({ ...signedHeaders(good), 'x-twilio-email-event-webhook-timestamp': secondsAgo(4) }), code: 'report_signature_invalid' },
  { name: 'a signature by another key', headers: () => signedHeaders(good, secondsAgo(5), stranger.privateKey), code: 'report_signature_invalid' },
  { name: 'a signature that is not base64 DER', headers: () => ({ ...signedHeaders(good), 'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl' }), code: 'report_signature_invalid' },
  { name: 'no signature header', headers: () => ({ 'x-twilio-email-event-webhook-timestamp': secondsAgo(5) }), code: 'report_signature_invalid' },
  { name: 'no timestamp header', headers: () => ({ 'x-twilio-email-event-webhook-signature': signedHeaders(good)['x-twilio-email-event-webhook-signature'] }), code: 'report_signature_invalid' },
  { name: 'no headers at all', headers: () => ({}), code: 'report_signature_invalid' },
  { name: 'a timestamp more than an hour old (a replay)', headers: () => signedHeaders(good, secondsAgo(3601)), code: 'report_signature_invalid' },
  { name: 'a timestamp far ahead of our clock', headers: () => signedHeaders(good, secondsAgo(-1800)), code: 'report_signature_invalid' },
  { name: 'a timestamp that is not seconds', headers: () => signedHeaders(good, new Date(NOW).toISOString()), code: 'report_signature_invalid' },
  { name: 'a key configured that is not a P-256 public key', settings: { sendgrid: { publicKey: shownKey(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey) } }, code: 'report_signature_invalid' },
  { name: 'a key configured that is not a key at all', settings: { sendgrid: { publicKey: 'bm90IGEga2V5' } }, code: 'report_signature_invalid' },
  { name: 'any post when SendGrid is not configured', settings: {}, code: 'report_signature_invalid' },
  { name: 'a signed body that is not JSON', body: 'email=jane@example.com&event=bounce', code: 'report_unparsable' },
  { name: 'a signed body that is JSON but not an array', body: '{"event":"bounce","email":"jane@example.com"}', code: 'report_not_a_report' },
  { name: 'a signed array holding something other than events', body: '[{"event":"delivered","sg_event_id":"a"}, 42]', code: 'report_unparsable' },
  { name: 'a signed delivery event without an sg_event_id', body: '[{"event":"delivered","email":"jane@example.com"}]', code: 'report_unparsable' },
  { name: `a body over ${MAX_REPORT_BYTES} bytes`, body: JSON.stringify([{ event: 'open', padding: 'x'.repeat(MAX_REPORT_BYTES) }]), code: 'report_too_large' },
]

for (const { name, body, headers, settings: over, code } of refusals) {
  const text = body ?? good
  t.test(`refused as ${code}: ${name}`, (t) => refusal(t, read(text, headers?.() ?? signedHeaders(text), over ?? settings), code))
}

t.test('the verification key is taken as PEM too', async (t) => {
  const pem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString()
  const events = await read(good, signedHeaders(good), { sendgrid: { publicKey: pem } })
  t.equal(events.reports.length, batchReports.length)
})

t.test('header names are read in any case', async (t) => {
  const headers = signedHeaders(good)
  const events = await read(good, {
    'X-Twilio-Email-Event-Webhook-Signature': headers['x-twilio-email-event-webhook-signature'],
    'X-Twilio-Email-Event-Webhook-Timestamp': headers['x-twilio-email-event-webhook-timestamp'],
  })
  t.equal(events.reports.length, batchReports.length)
})
