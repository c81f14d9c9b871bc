// Single sends end to end: POST /v1/sends decides, records and queues; the
// delivery worker decides again, renders and hands the message to a real SMTP
// server in this process, whose received messages are parsed here.
import t from 'tap'
import { consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build } from '../helper.js'
import { startSmtpSink, type ReceivedMessage } from '../support/smtp-sink.js'

const COURSE_FROM = 'Kurs hos Oss <kurs@example.no>'
const NEWS_FROM = 'Nyheter fra Oss <nyheter@example.no>'

/** A header as it arrived, unfolded (mailparser groups List-* headers into one structured value). */
function rawHeader(mail: ReceivedMessage, name: string): string | undefined {
  const line = mail.parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line
  return line?.replace(/\r?\n(?=[ \t])/g, '').replace(/^[^:]+:\s*/, '')
}

let keyCounter = 0
const nextKey = () => `key-${++keyCounter}`

t.test('single sends and delivery', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, {
    config: { smtpUrl: sink.url, courseMailFrom: COURSE_FROM, mailFrom: NEWS_FROM, deliveryMaxAttempts: 3, unsubscribeMailto: 'unsubscribe@example.no' },
  })
  const deliver = () => app.app.deliveryWorker.runOnce()
  const send = (role: 'course-system' | 'staff' | 'admin', payload: Record<string, unknown>) =>
    app.as(role)({ method: 'POST', url: '/v1/sends', payload: { idempotencyKey: nextKey(), ...payload } })
  const messageOf = async (id: string) => (await app.as('staff')({ method: 'GET', url: `/v1/messages/${id}` })).json()
  /** Messages the sink got for one address. */
  const receivedBy = (address: string) => sink.received.filter((m) => m.envelope.to.includes(address))

  const enrolled = async (courseId: string, contact: Record<string, unknown> = {}) => {
    await putCourse(app, courseId)
    const email = uniqueEmail('student')
    const res = await putEnrollment(app, `enr-${courseId}-${++keyCounter}`, { courseId, contact: { email, name: 'Kari Nordmann', ...contact } })
    if (res.statusCode !== 201) throw new Error(`enrolled: ${res.statusCode} ${res.body}`)
    return { email, contactId: res.json().contactId as string }
  }
  const courseMessage = (courseId: string, extra: Record<string, unknown> = {}) => ({
    template: 'course-message',
    kind: 'course',
    courseId,
    data: { name: 'Kari', courseName: 'Yoga for nybegynnere', message: 'Vi møtes i rom 2.' },
    ...extra,
  })

  t.test('a course send arrives once, from the course address, without one-click, saying until when course mail comes', async (t) => {
    const { email } = await enrolled('yoga-1')
    const res = await send('course-system', { ...courseMessage('yoga-1'), email })
    t.equal(res.statusCode, 202)
    const answer = res.json()
    t.match(answer, { status: 'queued', decision: { allowed: true, basis: 'contract', evidence: { type: 'enrollment' } } })

    t.equal(await deliver(), 1)
    const [mail] = receivedBy(email) as [ReceivedMessage]
    t.equal(receivedBy(email).length, 1)
    t.same(mail.parsed.from?.value, [{ name: 'Kurs hos Oss', address: 'kurs@example.no' }], 'course mail has its own From')
    t.equal(mail.parsed.subject, 'Nytt fra Yoga for nybegynnere')
    t.notOk(rawHeader(mail, 'List-Unsubscribe'), 'no one-click header on course mail')
    t.notOk(rawHeader(mail, 'List-Unsubscribe-Post'))
    t.match(mail.parsed.text, /Vi møtes i rom 2\./)
    t.match(mail.parsed.text?.replace(/\s+/g, ' '), /Kurspost hører med til kurset og kommer til og med \d+\. \p{L}+ \d{4}\./u, 'the footer says until when course mail continues')
    const links = [...(mail.parsed.html || '').matchAll(/href="([^"]+)"/g)].map((m) => m[1]!)
    t.ok(links.some((href) => /\/u\/[^/]+$/.test(href)), 'the footer links the preference page')
    t.notOk(links.some((href) => href.includes('/unsubscribe/')), 'course mail never links the one-click unsubscribe')

    const message = await messageOf(answer.messageId)
    t.equal(mail.parsed.messageId, message.headerMessageId, 'the Message-ID is the stored one')
    t.match(message, { status: 'sent', kind: 'course', to: email, template: { name: 'course-message', version: 1 }, attempts: 1, nextAttemptAt: null })
    t.same(message.decisions.map((d: { stage: string; decision: string }) => [d.stage, d.decision]), [
      ['enqueue', 'allowed'],
      ['delivery', 'allowed'],
    ])
    t.match(message.decisions[1], { basis: 'contract', evidenceType: 'enrollment', templateVersion: 'course-message@1' })
    t.equal(message.events.length, 1)
    t.match(message.events[0], { type: 'accepted', attempt: 1, reply: /^250 / })
  })

  t.test('a value with markup arrives escaped in the HTML and as plain text in the text part', async (t) => {
    const { email } = await enrolled('yoga-2')
    const res = await send('course-system', { ...courseMessage('yoga-2'), email, data: { name: '<b>Ola</b> & co', courseName: 'Yoga', message: '<script>x()</script>' } })
    t.equal(res.statusCode, 202)
    await deliver()
    const [mail] = receivedBy(email) as [ReceivedMessage]
    const html = String(mail.parsed.html)
    t.match(html, /&lt;b&gt;Ola&lt;\/b&gt; &amp; co/)
    t.notMatch(html, /<b>Ola/)
    t.notMatch(html, /<script>/)
    t.match(mail.parsed.text, /<b>Ola<\/b> & co/, 'the text part reads as written')
  })

  t.test('a blocked send sends nothing and leaves a blocked ledger row', async (t) => {
    await putCourse(app, 'yoga-3')
    const outsider = await createContact(app)
    const res = await send('course-system', { ...courseMessage('yoga-3'), contactId: outsider.id })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { status: 'blocked', decision: { allowed: false, reason: 'not_enrolled' } })
    t.equal(await deliver(), 0, 'nothing was queued')
    t.equal(receivedBy(outsider.email).length, 0)
    const message = await messageOf(res.json().messageId)
    t.match(message, { status: 'blocked', to: null, events: [] })
    t.match(message.decisions, [{ stage: 'enqueue', decision: 'blocked', reason: 'not_enrolled' }])
    const ledger = (await app.as('staff')({ method: 'GET', url: `/v1/ledger?contactId=${outsider.id}` })).json().items
    t.match(ledger, [{ messageId: res.json().messageId, decision: 'blocked', reason: 'not_enrolled', templateVersion: 'course-message@1' }])
  })

  t.test('an unsubscribe committed between queueing and delivery stops the message, and the ledger shows both decisions', async (t) => {
    const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
    const person = await createContact(app)
    await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
    const res = await send('staff', { template: 'newsletter', kind: 'newsletter', listId: list.id, contactId: person.id, data: { name: 'Per', headline: 'Vår', body: 'Nytt i vår.' } })
    t.equal(res.statusCode, 202)
    app.clock.advance(60_000)
    const unsubscribed = await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${person.id}/unsubscribe`, payload: { source: 'staff' } })
    t.equal(unsubscribed.statusCode, 200)
    app.clock.advance(1000)
    t.equal(await deliver(), 1)
    t.equal(receivedBy(person.email).length, 0, 'nothing was handed to SMTP')
    const message = await messageOf(res.json().messageId)
    t.equal(message.status, 'blocked')
    t.match(message.decisions, [
      { stage: 'enqueue', decision: 'allowed', basis: 'consent' },
      { stage: 'delivery', decision: 'blocked', reason: 'unsubscribed', evidenceType: 'suppression' },
    ])
    t.ok(new Date(message.decisions[1].decidedAt) > new Date(message.decisions[0].decidedAt))
    t.match(message.events, [{ type: 'blocked', reply: 'blocked at delivery: unsubscribed' }])
  })

  t.test('a temporary failure is tried again later and delivered once', async (t) => {
    const { email } = await enrolled('yoga-4')
    sink.rejectNext({ code: 451, message: '4.3.0 Try again later' })
    const { messageId } = (await send('course-system', { ...courseMessage('yoga-4'), email })).json()
    t.equal(await deliver(), 1)
    let message = await messageOf(messageId)
    t.match(message, { status: 'deferred', events: [{ type: 'deferred', attempt: 1, reply: /451 4\.3\.0 Try again later/ }] })
    t.ok(new Date(message.nextAttemptAt) > app.clock.now(), 'due again later')
    t.equal(await deliver(), 0, 'not before it is due')
    app.clock.advance(2 * 60_000)
    t.equal(await deliver(), 1)
    message = await messageOf(messageId)
    t.match(message, { status: 'sent', attempts: 2, nextAttemptAt: null })
    t.same(message.events.map((e: { type: string }) => e.type), ['deferred', 'accepted'])
    t.equal(message.decisions.filter((d: { stage: string }) => d.stage === 'delivery').length, 2, 'decided again before each attempt')
    t.equal(receivedBy(email).length, 1, 'delivered once')
  })

  t.test('temporary failures up to the limit fail the message with the last reply', async (t) => {
    const { email } = await enrolled('yoga-5')
    const { messageId } = (await send('course-system', { ...courseMessage('yoga-5'), email })).json()
    for (let attempt = 1; attempt <= 3; attempt++) {
      sink.rejectNext({ code: 452, message: '4.2.2 Mailbox full' })
      t.equal(await deliver(), 1)
      app.clock.advance(60 * 60_000)
    }
    const message = await messageOf(messageId)
    t.match(message, { status: 'failed', nextAttemptAt: null })
    t.match(message.events.at(-1), { type: 'failed', attempt: 3, reply: /^gave up after 3 attempts: .*4\.2\.2 Mailbox full/ })
    t.equal(await deliver(), 0)
  })

  t.test('a 5.1.1 rejection bounces and suppresses the address for all mail; a 5.7.1 block fails and suppresses nothing', async (t) => {
    const bounced = await enrolled('yoga-6')
    sink.rejectNext({ code: 550, message: '5.1.1 No such user', at: 'rcpt' })
    const first = (await send('course-system', { ...courseMessage('yoga-6'), email: bounced.email })).json()
    await deliver()
    t.match(await messageOf(first.messageId), { status: 'bounced', events: [{ type: 'bounced', reply: /550 5\.1\.1 No such user/ }] })
    const suppressions = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${bounced.contactId}` })).json().items
    t.match(suppressions, [{ scope: 'all-mail', reason: 'bounce', createdById: 'system:returns', note: new RegExp(`^hard bounce: relay report [0-9a-f-]{36} \\(5\\.1\\.1\\) about message ${first.messageId}$`) }])
    const again = await send('course-system', { ...courseMessage('yoga-6'), email: bounced.email })
    t.match(again.json(), { status: 'blocked', decision: { reason: 'hard_bounce' } }, 'the next message is blocked')

    const refused = await enrolled('yoga-7')
    sink.rejectNext({ code: 550, message: '5.7.1 Message refused by policy' })
    const second = (await send('course-system', { ...courseMessage('yoga-7'), email: refused.email })).json()
    await deliver()
    t.match(await messageOf(second.messageId), { status: 'failed', events: [{ type: 'failed', reply: /5\.7\.1 Message refused by policy/ }] })
    t.same((await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${refused.contactId}` })).json().items, [])
  })

  t.test('a newsletter carries one-click headers, a List-Id and a visible unsubscribe link; its POST unsubscribes', async (t) => {
    const list = await createList(app, { kind: 'newsletter', name: 'Månedsbrev', slug: 'maanedsbrev' })
    const person = await createContact(app, { locale: 'en' })
    await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
    const res = await send('staff', { template: 'newsletter', kind: 'newsletter', listId: list.id, email: person.email, data: { name: 'Per', headline: 'Spring', body: 'News.' } })
    t.equal(res.statusCode, 202)
    await deliver()
    const [mail] = receivedBy(person.email) as [ReceivedMessage]
    t.equal(mail.parsed.from?.value[0]?.address, 'nyheter@example.no')
    const header = rawHeader(mail, 'List-Unsubscribe') ?? ''
    const match = /^<(http:\/\/localhost:3000\/unsubscribe\/([A-Za-z0-9_.-]+))>, <mailto:unsubscribe\+([0-9a-f]{48})@example\.no\?subject=unsubscribe>$/.exec(header)
    t.ok(match, `List-Unsubscribe is the HTTPS link and the mailto: tagged with the message: ${header}`)
    t.equal(rawHeader(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click')
    t.equal(rawHeader(mail, 'List-Id'), '<maanedsbrev.localhost>')
    const preferences = `http://localhost:3000/u/${match![2]}`
    t.match(String(mail.parsed.html), new RegExp(`href="${preferences.replaceAll('.', '\\.')}"`), 'the visible link opens the preference page, with the same token')
    t.match(mail.parsed.text, /Unsubscribe/)

    const post = await app.as(null)({
      method: 'POST',
      url: new URL(match![1]!).pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    })
    t.equal(post.statusCode, 200)
    const subscription = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${list.id}/subscriptions/${person.id}` })).json()
    t.equal(subscription.status, 'unsubscribed')
    const consents = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${person.id}/consents` })).json().items
    t.match(consents.at(-1), { type: 'withdrawn', source: 'link', listId: list.id, actorRole: 'subscriber' })
  })

  t.test('the same idempotency key returns the first answer and never sends twice, also when both arrive at once', async (t) => {
    const { email, contactId } = await enrolled('yoga-8')
    const payload = { ...courseMessage('yoga-8'), email, idempotencyKey: 'room-change-1' }
    const first = await send('course-system', payload)
    const again = await send('course-system', payload)
    t.equal(first.statusCode, 202)
    t.equal(again.statusCode, 202)
    t.same(again.json(), first.json())
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.notOk(first.headers['idempotent-replayed'])

    const other = await send('course-system', { ...payload, data: { ...payload.data, message: 'Another message' } })
    t.equal(other.statusCode, 409)
    t.equal(other.json().code, 'idempotency_key_reused')

    const together = { ...payload, idempotencyKey: 'room-change-2' }
    const [a, b] = await Promise.all([send('course-system', together), send('course-system', together)])
    t.equal(a!.json().messageId, b!.json().messageId, 'one message for both')
    await deliver()
    t.equal(receivedBy(email).length, 2, 'one message per key')
    const ledger = (await app.as('staff')({ method: 'GET', url: `/v1/ledger?contactId=${contactId}&stage=enqueue` })).json().items
    t.same(ledger.map((r: { messageId: string }) => r.messageId), [first.json().messageId, a!.json().messageId], 'one decision per key')
  })

  t.test('bad sends are refused before anything is recorded', async (t) => {
    const { email, contactId } = await enrolled('yoga-9')
    const since = app.clock.now()
    app.clock.advance(1000)
    const missing = await send('course-system', { ...courseMessage('yoga-9'), email, data: { name: 'Kari', courseName: null } })
    t.equal(missing.statusCode, 422)
    t.match(missing.json(), { code: 'template_data_missing', missing: ['courseName', 'message'] })
    const mismatch = await send('course-system', { ...courseMessage('yoga-9'), email, kind: 'transactional', listId: '00000000-0000-4000-8000-000000000000' })
    t.equal(mismatch.statusCode, 422)
    t.equal(mismatch.json().code, 'template_kind_mismatch')
    const unknown = await send('course-system', { ...courseMessage('yoga-9'), email, template: 'no-such-template' })
    t.equal(unknown.statusCode, 404)
    t.equal(unknown.json().code, 'template_not_found')
    const newsletter = await send('course-system', { template: 'newsletter', kind: 'newsletter', listId: '00000000-0000-4000-8000-000000000000', email, data: {} })
    t.equal(newsletter.statusCode, 403, 'the course system sends course and transactional mail only')
    const both = await send('course-system', { ...courseMessage('yoga-9'), email, contactId })
    t.equal(both.statusCode, 400)
    t.equal(both.json().code, 'recipient_ambiguous')
    const header = await send('course-system', { ...courseMessage('yoga-9'), email, data: { ...courseMessage('yoga-9').data, 'List-Unsubscribe': 'x' } })
    t.equal(header.statusCode, 400, 'data holds template values only: no header can come from it')
    for (const body of [{}, { ...courseMessage('yoga-9'), email }, { ...courseMessage('yoga-9'), email, idempotencyKey: '' }]) {
      const res = await app.as('course-system')({ method: 'POST', url: '/v1/sends', payload: body })
      t.equal(res.statusCode, 400)
    }
    const ledger = (await app.as('staff')({ method: 'GET', url: `/v1/ledger?contactId=${contactId}&from=${encodeURIComponent(new Date(since.getTime() + 1).toISOString())}` })).json().items
    t.same(ledger, [])
  })

  t.test('the course system sees only its own messages; a message that is not there is a 404', async (t) => {
    const { email } = await enrolled('yoga-10')
    const { messageId } = (await send('course-system', { ...courseMessage('yoga-10'), email })).json()
    t.equal((await app.as('course-system')({ method: 'GET', url: `/v1/messages/${messageId}` })).statusCode, 200)
    const other = app.token('course-system', { sub: 'course-system:other' })
    t.equal((await app.app.inject({ method: 'GET', url: `/v1/messages/${messageId}`, headers: { authorization: `Bearer ${other}` } })).statusCode, 404)
    const missing = await app.as('staff')({ method: 'GET', url: '/v1/messages/00000000-0000-4000-8000-000000000000' })
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'message_not_found')
    await deliver()
  })
})
