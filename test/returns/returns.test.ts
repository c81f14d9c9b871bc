// Reports that come back, through the real API: a message is sent to a real
// SMTP server in process, then its DSN or ARF is posted as a mail server or
// feedback loop would, and what the service does is read back through the
// API — suppressions, the decision, the message's events, explain, the kept
// reports — and what it must not do (forged, unmatched, repeated, oversized).
import t from 'tap'
import { consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { sql } from 'drizzle-orm'
import { selectRows } from '../../db/client.js'
import { build, type TestApp } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { messageToken, taggedAddress } from '../../src/returns/return-path.js'
import { arfFor, deliveredNewsletter as deliveredIn, dsnFor, returnsConfig } from './reports.js'

const RETURN_PATH = 'bounces@returns.example.no'

t.test('reports that come back', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, {
    config: {
      smtpUrl: sink.url,
      returns: returnsConfig({ returnPath: RETURN_PATH, rateMinimum: 4 }),
    },
  })
  const deliver = () => app.app.deliveryWorker.runOnce()
  const post = (kind: 'dsn' | 'arf', body: string, role: 'provider' | 'staff' | 'admin' = 'provider') =>
    app.as(role)({ method: 'POST', url: `/v1/events/${kind}`, headers: { 'content-type': 'message/rfc822' }, payload: body })
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  const deliveredNewsletter = (options: { email?: string; contactId?: string } = {}) => deliveredIn(app, list.id, options)
  const decide = async (payload: Record<string, unknown>) =>
    (await app.as(payload.kind === 'course' ? 'course-system' : 'staff')({ method: 'POST', url: '/v1/decisions', payload })).json()
  const suppressionsOf = async (contactId: string) => (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${contactId}&active=true` })).json().items
  const eventsOf = async (messageId: string) => (await app.as('staff')({ method: 'GET', url: `/v1/messages/${messageId}` })).json().events.map((e: { type: string }) => e.type)

  t.test('each message goes with a return path naming it, signed', async (t) => {
    const { messageId, email } = await deliveredNewsletter()
    const mail = sink.received.find((m) => m.envelope.to.includes(email))!
    t.equal(mail.envelope.from, taggedAddress(RETURN_PATH, messageToken(app.config.linkSigningKeys, 'return-path', messageId)))
    t.ok(mail.envelope.from.length - '@returns.example.no'.length <= 64, 'the local part fits RFC 5321')
  })

  t.test('a hard bounce suppresses all mail to the address, with the report as evidence, and is shown on the message', async (t) => {
    const { email, contactId, messageId, headerMessageId } = await deliveredNewsletter()
    const res = await post('dsn', dsnFor({ headerMessageId, recipient: email, status: '5.1.1' }))
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json().results, [{ outcome: 'applied', messageId, effect: 'hard_bounce', rejection: null }])
    const [suppression] = await suppressionsOf(contactId)
    t.match(suppression, { scope: 'all-mail', reason: 'bounce', note: new RegExp(`hard bounce: dsn report .* \\(5\\.1\\.1\\) about message ${messageId}`) })
    t.notMatch(suppression.note, email, 'the note names no address')
    t.match(await decide({ kind: 'newsletter', listId: list.id, contactId }), { allowed: false, reason: 'hard_bounce' })
    t.same((await eventsOf(messageId)).slice(-2), ['accepted', 'bounced'])
    const message = (await app.as('staff')({ method: 'GET', url: `/v1/messages/${messageId}` })).json()
    t.equal(message.status, 'bounced')
    t.notMatch(JSON.stringify(message.events), email, 'the event’s words name no address')
    const kept = (await app.as('staff')({ method: 'GET', url: `/v1/returns?messageId=${messageId}` })).json().items
    t.match(kept, [{ channel: 'dsn', outcome: 'applied', effect: 'hard_bounce', status: '5.1.1', reportType: 'bounce' }])
    const explained = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/explain` })).json()
    t.match(JSON.stringify(explained), /hard bounce: dsn report/, 'explain shows the suppression with the report')
  })

  t.test('the same report again is a duplicate and changes nothing', async (t) => {
    const { email, contactId, headerMessageId, messageId } = await deliveredNewsletter()
    const report = dsnFor({ headerMessageId, recipient: email, status: '5.1.1', reportId: '<same-dsn@mx.example.net>' })
    t.equal((await post('dsn', report)).statusCode, 200)
    const again = await post('dsn', report)
    t.equal(again.statusCode, 200)
    t.match(again.json().results, [{ outcome: 'duplicate', reportId: null }])
    t.equal((await suppressionsOf(contactId)).length, 1)
    t.same((await eventsOf(messageId)).filter((e: string) => e === 'bounced'), ['bounced'], 'one event')
  })

  t.test('a report naming no message we sent, or a forged return path, is refused and changes nothing', async (t) => {
    const { email, contactId, messageId } = await deliveredNewsletter()
    const stranger = await post('dsn', dsnFor({ headerMessageId: '<0192d6a3-0000-7000-8000-000000000000@elsewhere.example>', recipient: email, status: '5.1.1' }))
    t.equal(stranger.statusCode, 422)
    t.match(stranger.json(), { code: 'report_unmatched', results: [{ outcome: 'rejected', rejection: 'report_unmatched' }] })
    t.equal(stranger.headers['content-type'], 'application/problem+json; charset=utf-8')
    const forgedTo = taggedAddress(RETURN_PATH, `${messageId.replaceAll('-', '')}${'0'.repeat(16)}`)
    const forged = await app.app.services.reportIntake.receiveBounceMail(Buffer.from(dsnFor({ headerMessageId: '<x@y.z>', recipient: email, status: '5.1.1', to: forgedTo })), forgedTo).catch((e: Error) => e)
    t.match(forged, { code: 'report_signature_invalid', status: 401 })
    t.same(await suppressionsOf(contactId), [], 'nobody suppressed')
    const rejected = (await app.as('staff')({ method: 'GET', url: '/v1/returns?outcome=rejected' })).json().items
    t.ok(rejected.some((r: { rejection: string }) => r.rejection === 'report_unmatched'))
    t.ok(rejected.every((r: { messageId: string | null }) => r.messageId === null), 'a rejected report is tied to no message')
  })

  t.test('a bounce about another address than the message went to is refused', async (t) => {
    const { contactId, headerMessageId } = await deliveredNewsletter()
    const res = await post('dsn', dsnFor({ headerMessageId, recipient: 'someone.else@example.no', status: '5.1.1' }))
    t.equal(res.statusCode, 422)
    t.equal(res.json().code, 'report_recipient_mismatch')
    t.same(await suppressionsOf(contactId), [])
  })

  t.test('what is not a report, unreadable or too large is refused with its code', async (t) => {
    const plain = 'From: a@example.no\r\nTo: b@example.no\r\nSubject: hei\r\n\r\nBare tekst.\r\n'
    for (const [body, status, code] of [
      [plain, 422, 'report_not_a_report'],
      ['', 400, 'report_unparsable'],
      [`Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n--x\r\n${'A'.repeat(1024 * 1024 + 10)}`, 413, 'report_too_large'],
    ] as const) {
      const res = await post('dsn', body)
      t.equal(res.statusCode, status, code)
      t.equal(res.json().code, code)
    }
    const arfAtDsn = await post('dsn', arfFor({ headerMessageId: '<a@b.c>' }))
    t.equal(arfAtDsn.json().code, 'report_not_a_report', 'an ARF is no DSN')
  })

  t.test('only mail servers, providers and admins post reports; a provider token reaches nothing else', async (t) => {
    const { email, headerMessageId } = await deliveredNewsletter()
    t.equal((await post('dsn', dsnFor({ headerMessageId, recipient: email, status: '4.2.2', action: 'delayed' }), 'staff')).statusCode, 403)
    t.equal((await app.as(null)({ method: 'POST', url: '/v1/events/dsn', headers: { 'content-type': 'message/rfc822' }, payload: 'x' })).statusCode, 401)
    for (const url of ['/v1/contacts', '/v1/lists', '/v1/returns', '/v1/suppressions']) t.equal((await app.as('provider')({ method: 'GET', url })).statusCode, 403, url)
  })

  t.test('a policy refusal is noted on the message and suppresses nothing', async (t) => {
    const { email, contactId, messageId, headerMessageId } = await deliveredNewsletter()
    const res = await post('dsn', dsnFor({ headerMessageId, recipient: email, status: '5.7.1', diagnostic: '550 5.7.1 Message rejected due to DMARC policy' }))
    t.match(res.json().results, [{ outcome: 'applied', effect: 'policy_block' }])
    t.same(await suppressionsOf(contactId), [])
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/messages/${messageId}` })).json().status, 'failed')
    t.match(await decide({ kind: 'newsletter', listId: list.id, contactId }), { allowed: true })
  })

  t.test('soft bounces count once a day; three days within thirty with no delivery between suppress', async (t) => {
    const { email, contactId, headerMessageId } = await deliveredNewsletter()
    const soft = () => post('dsn', dsnFor({ headerMessageId, recipient: email, status: '4.2.2', action: 'delayed', diagnostic: '452 4.2.2 Mailbox full', date: app.clock.now() }))
    t.match((await soft()).json().results, [{ effect: 'soft_bounce' }])
    t.match((await soft()).json().results, [{ effect: 'soft_bounce' }], 'a second one the same day')
    app.clock.advanceDays(1)
    await soft()
    t.same(await suppressionsOf(contactId), [], 'two days are not three')
    app.clock.advanceDays(1)
    await soft()
    t.match(await suppressionsOf(contactId), [{ scope: 'all-mail', reason: 'bounce', note: /soft bounces on 3 days within 30/ }])
  })

  t.test('a delivery ends a run of soft bounces', async (t) => {
    const { email, contactId, headerMessageId } = await deliveredNewsletter()
    const report = (status: string, action: 'delayed' | 'delivered') => post('dsn', dsnFor({ headerMessageId, recipient: email, status, action, date: app.clock.now() }))
    await report('4.2.2', 'delayed')
    app.clock.advanceDays(1)
    await report('4.2.2', 'delayed')
    app.clock.advanceDays(1)
    t.match((await report('2.0.0', 'delivered')).json().results, [{ effect: 'delivered' }])
    app.clock.advanceDays(1)
    await report('4.2.2', 'delayed')
    t.same(await suppressionsOf(contactId), [], 'one soft bounce since the delivery')
  })

  t.test('a complaint during a course stops newsletter and marketing and records an objection; course mail goes on', async (t) => {
    await putCourse(app, 'COMPLAINT-1')
    const email = uniqueEmail('student')
    const enrollment = await putEnrollment(app, 'enr-complaint-1', { courseId: 'COMPLAINT-1', contact: { email, name: 'Kari' } })
    const { contactId, messageId, headerMessageId } = await deliveredNewsletter({ email, contactId: enrollment.json().contactId })
    const res = await post('arf', arfFor({ headerMessageId }))
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json().results, [{ outcome: 'applied', messageId, effect: 'complaint' }])
    t.match(await suppressionsOf(contactId), [{ scope: 'global', reason: 'complaint' }])
    const consents = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items
    t.match(consents.at(-1), { type: 'objected', source: 'complaint', purpose: 'marketing' })
    t.match(await decide({ kind: 'newsletter', listId: list.id, contactId }), { allowed: false, reason: 'complaint' })
    t.match(await decide({ kind: 'course', courseId: 'COMPLAINT-1', contactId }), { allowed: true, basis: 'contract' })
    t.ok((await eventsOf(messageId)).includes('complained'))
  })

  t.test('a bounce for an erased person applies to the keyed hash and stores nothing in clear', async (t) => {
    const { email, contactId, headerMessageId, messageId } = await deliveredNewsletter()
    const erased = await app.as('admin')({ method: 'POST', url: `/v1/contacts/${contactId}/erase`, payload: {} })
    t.equal(erased.statusCode, 200, erased.body)
    const res = await post('dsn', dsnFor({ headerMessageId, recipient: email, status: '5.1.1' }))
    t.match(res.json().results, [{ outcome: 'applied', effect: 'hard_bounce', messageId }])
    const [suppression] = await selectRows<{ contact_id: string | null; note: string; scope: string }>(
      app.app.db,
      sql`select contact_id, note, scope from suppressions where reason = 'bounce' and note like ${`%${messageId}%`}`,
    )
    t.match(suppression, { contact_id: null, scope: 'all-mail' }, 'suppressed by the hash alone')
    const kept = await selectRows<Record<string, unknown>>(app.app.db, sql`select * from return_reports where message_id = ${messageId}::uuid`)
    t.equal(kept.length, 1)
    t.notMatch(JSON.stringify(kept), email, 'the kept report holds no address')
    t.notMatch(JSON.stringify(await selectRows(app.app.db, sql`select reply from delivery_events where message_id = ${messageId}::uuid`)), email)
    t.match(await decide({ kind: 'newsletter', listId: list.id, email }), { allowed: false }, 'the address stays stopped')
  })
})

t.test('a campaign pauses itself when its complaint rate passes the providers’ limit', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app: TestApp = await build(t, {
    config: { smtpUrl: sink.url, returns: returnsConfig({ returnPath: RETURN_PATH, rateMinimum: 4 }) },
  })
  const list = await createList(app, { kind: 'newsletter', name: 'Kampanjeliste' })
  for (let i = 0; i < 5; i++) {
    const person = await createContact(app, { email: uniqueEmail('member'), name: `Medlem ${i}` })
    await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
  }
  const created = await app.as('staff')({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Vår', listId: list.id, template: 'newsletter', data: { headline: 'Vår', body: 'Nytt.' } } })
  const campaign = created.json().id as string
  await app.as('staff')({ method: 'POST', url: `/v1/campaigns/${campaign}/start` })
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, 60_000)
  // Four of the five go; the fifth waits while the reports come back.
  t.equal(await app.app.deliveryWorker.runOnce(4), 4)
  const recipients = (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${campaign}/recipients` })).json().items
  const sentOne = recipients.find((r: { status: string }) => r.status === 'sent')
  const first = (await app.as('staff')({ method: 'GET', url: `/v1/messages/${sentOne.messageId}` })).json()
  const res = await app.as('provider')({ method: 'POST', url: '/v1/events/arf', headers: { 'content-type': 'message/rfc822' }, payload: arfFor({ headerMessageId: first.headerMessageId }) })
  t.equal(res.statusCode, 200, res.body)
  const after = (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${campaign}` })).json()
  t.match(after, { status: 'paused', pausedReason: 'complaint_rate', counts: { complaints: 1, complaintRate: 0.25, warnings: ['complaint_rate'], queued: 1 } })
  t.equal(await app.app.deliveryWorker.runOnce(4), 0, 'nothing more leaves while it is paused')
  t.equal(sink.received.length, 4)
  const resumed = (await app.as('staff')({ method: 'POST', url: `/v1/campaigns/${campaign}/resume` })).json()
  t.match(resumed, { pausedReason: null }, 'staff resume it, and the reason goes')
  const day = app.clock.now().toISOString().slice(0, 10)
  const dailyRes = await app.as('staff')({ method: 'GET', url: `/v1/returns/daily?from=${day}&to=${day}` })
  t.equal(dailyRes.statusCode, 200, dailyRes.body)
  const daily = dailyRes.json().items
  t.match(daily, [{ day, delivered: 4, complaints: 1, complaintRate: 0.25 }])
})
