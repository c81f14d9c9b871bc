// An email provider's events through POST /v1/events/delivery, as the
// provider posts them: SendGrid's signed batch (a key pair made here) and
// Postmark's webhook with basic auth. What verifies is applied to the
// message it names; what is unsigned, forged or from an unconfigured provider
// changes nothing.
import { generateKeyPairSync, sign as signData } from 'node:crypto'
import t from 'tap'
import { createList } from '../factories.js'
import { build } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { deliveredNewsletter, returnsConfig } from './reports.js'

const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const POSTMARK = { username: 'postmark-hook', password: 'a-password-of-some-length' }

t.test('provider events', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, {
    config: {
      smtpUrl: sink.url,
      returns: returnsConfig({ providers: { sendgrid: { publicKey: keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') }, postmark: POSTMARK } }),
    },
  })
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  const delivered = () => deliveredNewsletter(app, list.id)
  const suppressionsOf = async (contactId: string) => (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${contactId}&active=true` })).json().items
  const sendgrid = (body: string, key = keys.privateKey) => {
    const timestamp = String(Math.floor(app.clock.now().getTime() / 1000))
    const signature = signData('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString('base64')
    return app.as(null)({
      method: 'POST',
      url: '/v1/events/delivery?provider=sendgrid',
      headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp },
      payload: body,
    })
  }

  t.test('a signed SendGrid batch is applied: a bounce suppresses, a spam report is a complaint, other events are taken and ignored', async (t) => {
    const bounced = await delivered()
    const complained = await delivered()
    const now = Math.floor(app.clock.now().getTime() / 1000)
    const body = JSON.stringify([
      { email: bounced.email, event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550 5.1.1 User unknown', 'smtp-id': bounced.headerMessageId, sg_event_id: 'ev-1', timestamp: now },
      { email: complained.email, event: 'spamreport', 'smtp-id': complained.headerMessageId, sg_event_id: 'ev-2', timestamp: now },
      { email: complained.email, event: 'open', 'smtp-id': complained.headerMessageId, sg_event_id: 'ev-3', timestamp: now },
    ])
    const res = await sendgrid(body)
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json().results, [
      { outcome: 'applied', effect: 'hard_bounce', messageId: bounced.messageId },
      { outcome: 'applied', effect: 'complaint', messageId: complained.messageId },
    ])
    t.match(await suppressionsOf(bounced.contactId), [{ scope: 'all-mail', reason: 'bounce', note: /sendgrid report/ }])
    t.match(await suppressionsOf(complained.contactId), [{ scope: 'global', reason: 'complaint' }])
    t.match((await sendgrid(body)).json().results, [{ outcome: 'duplicate' }, { outcome: 'duplicate' }], 'SendGrid posting the batch again changes nothing')
  })

  t.test('a SendGrid batch signed with another key, or unsigned, is refused and changes nothing', async (t) => {
    const { email, contactId, headerMessageId } = await delivered()
    const body = JSON.stringify([{ email, event: 'bounce', type: 'bounce', status: '5.1.1', 'smtp-id': headerMessageId, sg_event_id: 'ev-forged', timestamp: 1 }])
    const forged = await sendgrid(body, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey)
    t.equal(forged.statusCode, 401)
    t.equal(forged.json().code, 'report_signature_invalid')
    const unsigned = await app.as(null)({ method: 'POST', url: '/v1/events/delivery?provider=sendgrid', headers: { 'content-type': 'application/json' }, payload: body })
    t.equal(unsigned.statusCode, 401)
    t.same(await suppressionsOf(contactId), [])
  })

  t.test('a Postmark bounce with its basic auth is applied by the Message-ID in its metadata', async (t) => {
    const { email, contactId, messageId, headerMessageId } = await delivered()
    const mail = sink.received.find((m) => m.envelope.to.includes(email))!
    t.equal(mail.parsed.headers.get('x-pm-metadata-samtykke-message-id'), headerMessageId, 'messages carry the id Postmark returns')
    const event = {
      RecordType: 'Bounce', ID: 4323372036854775807, Type: 'HardBounce', TypeCode: 1, Name: 'Hard bounce', MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
      Metadata: { 'samtykke-message-id': headerMessageId }, Email: email, BouncedAt: app.clock.now().toISOString(), Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist',
    }
    const post = (authorization?: string) =>
      app.as(null)({ method: 'POST', url: '/v1/events/delivery?provider=postmark', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, payload: JSON.stringify(event) })
    const wrong = await post(`Basic ${Buffer.from(`${POSTMARK.username}:nope`).toString('base64')}`)
    t.equal(wrong.statusCode, 401)
    t.same(await suppressionsOf(contactId), [], 'wrong credentials change nothing')
    const res = await post(`Basic ${Buffer.from(`${POSTMARK.username}:${POSTMARK.password}`).toString('base64')}`)
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json().results, [{ outcome: 'applied', effect: 'hard_bounce', messageId }])
    t.match(await suppressionsOf(contactId), [{ reason: 'bounce' }])
  })

  t.test('a provider that is not configured takes no events', async (t) => {
    const res = await app.as(null)({ method: 'POST', url: '/v1/events/delivery?provider=ses', headers: { 'content-type': 'text/plain' }, payload: '{"Type":"Notification"}' })
    t.equal(res.statusCode, 401)
    t.match(res.json(), { code: 'report_signature_invalid', detail: /not configured/ })
    const unknown = await app.as(null)({ method: 'POST', url: '/v1/events/delivery?provider=mailgun', headers: { 'content-type': 'application/json' }, payload: '[]' })
    t.equal(unknown.statusCode, 400)
  })
})
