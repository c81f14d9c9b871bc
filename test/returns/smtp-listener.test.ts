// The inbound SMTP listener as a relay and a mail client reach it, through
// real SMTP (nodemailer as the client): bounce mail to a message's return
// path, a mailto: unsubscribe from the address the message went to, and the
// refusals — any other address at RCPT, a message over 1 MiB, a forged token,
// an unsubscribe from someone else.
import nodemailer from 'nodemailer'
import t from 'tap'
import { createList } from '../factories.js'
import { build } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { arfFor, deliveredNewsletter, dsnFor, returnsConfig } from './reports.js'

const RETURN_PATH = 'bounces@returns.example.no'
const MAILTO = 'unsubscribe@example.no'

t.test('the inbound SMTP listener', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, {
    config: { smtpUrl: sink.url, unsubscribeMailto: MAILTO, returns: returnsConfig({ returnPath: RETURN_PATH, smtp: { host: '127.0.0.1', port: 0 } }) },
  })
  const port = app.app.inboundMail.port
  t.ok(port, 'listening')
  const client = nodemailer.createTransport({ host: '127.0.0.1', port: port!, secure: false, ignoreTLS: true })
  t.teardown(() => client.close())
  const mailTo = (to: string, raw: string, from = 'MAILER-DAEMON@mx.example.net') => client.sendMail({ envelope: { from, to }, raw })
  const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error: { responseCode?: number }) => error.responseCode ?? -1)

  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  async function delivered() {
    const message = await deliveredNewsletter(app, list.id)
    const mail = sink.received.find((m) => m.envelope.to.includes(message.email))!
    const listUnsubscribe = mail.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line
    const mailto = /<mailto:([^?>]+)\?subject=unsubscribe>/.exec(listUnsubscribe)![1]!
    return { ...message, returnPath: mail.envelope.from, mailto }
  }
  const suppressionsOf = async (contactId: string) => (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${contactId}&active=true` })).json().items
  const statusOn = async (contactId: string) => (await app.as('staff')({ method: 'GET', url: `/v1/lists/${list.id}/subscriptions/${contactId}` })).json().status

  t.test('a DSN mailed to a message’s return path suppresses the address for all mail', async (t) => {
    const { email, contactId, returnPath } = await delivered()
    // The relay's DSN names the message only by its return path here: the original's Message-ID is someone else's.
    await mailTo(returnPath, dsnFor({ headerMessageId: '<not-ours@mx.example.net>', recipient: email, status: '5.1.1', to: returnPath }))
    t.match(await suppressionsOf(contactId), [{ scope: 'all-mail', reason: 'bounce', note: /hard bounce: smtp report/ }])
    t.match((await app.as('staff')({ method: 'POST', url: '/v1/decisions', payload: { kind: 'newsletter', listId: list.id, contactId } })).json(), { allowed: false, reason: 'hard_bounce' })
  })

  t.test('an ARF mailed to the return path is a complaint', async (t) => {
    const { contactId, headerMessageId, returnPath } = await delivered()
    await mailTo(returnPath, arfFor({ headerMessageId }), 'fbl@fbl.example.net')
    t.match(await suppressionsOf(contactId), [{ scope: 'global', reason: 'complaint' }])
  })

  t.test('any other address is refused at RCPT, so nothing is relayed or changed', async (t) => {
    const { returnPath } = await delivered()
    for (const to of ['someone@example.no', RETURN_PATH, returnPath.replace('@returns.example.no', '@elsewhere.example'), returnPath.replace('bounces+', 'postmaster+')]) {
      t.equal(await refusal(mailTo(to, 'Subject: hei\r\n\r\nhei\r\n')), 550, to)
    }
  })

  t.test('a forged token is taken at RCPT but changes nothing: it is kept as rejected', async (t) => {
    const { email, contactId, returnPath } = await delivered()
    const forged = returnPath.replace(/[0-9a-f]{16}@/, '0000000000000000@')
    t.equal(await refusal(mailTo(forged, dsnFor({ headerMessageId: '<x@y.z>', recipient: email, status: '5.1.1', to: forged }))), null, '250: a bounce of the bounce helps nobody')
    t.same(await suppressionsOf(contactId), [])
    const rejected = (await app.as('staff')({ method: 'GET', url: '/v1/returns?outcome=rejected' })).json().items
    t.ok(rejected.some((r: { channel: string; rejection: string }) => r.channel === 'smtp' && r.rejection === 'report_signature_invalid'))
  })

  t.test('a message over 1 MiB is refused', async (t) => {
    const { returnPath } = await delivered()
    t.equal(await refusal(mailTo(returnPath, `Subject: big\r\n\r\n${'x'.repeat(1100 * 1024)}\r\n`)), 552)
  })

  t.test('a mailto: unsubscribe from the address the message went to leaves that list; from anyone else nothing happens', async (t) => {
    const { email, contactId, mailto } = await delivered()
    t.match(mailto, /^unsubscribe\+[0-9a-f]{48}@example\.no$/)
    await mailTo(mailto, `From: someone.else@example.no\r\nTo: ${mailto}\r\nSubject: unsubscribe\r\n\r\n`, 'someone.else@example.no')
    t.equal(await statusOn(contactId), 'active', 'not from the subscriber: no change')
    await mailTo(mailto, `From: Per <${email}>\r\nTo: ${mailto}\r\nSubject: unsubscribe\r\n\r\n`, email)
    t.equal(await statusOn(contactId), 'unsubscribed')
    const consents = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items
    t.match(consents.at(-1), { type: 'withdrawn', evidence: /mailto: unsubscribe answering message/ })
  })
})
