// The inbound SMTP listener as a relay and a mail client reach it, through
// real SMTP (nodemailer as the client): bounce mail and feedback reports to a
// message's return path, a mailto: unsubscribe from the address the message
// went to, and the refusals — any other address at RCPT, a message over
// 1 MiB, a tampered token, an unsubscribe from someone else. What the service
// did is read back through the API. One app for the file: each test sends a
// message of its own to a person of its own.
import nodemailer from 'nodemailer'
import t from 'tap'
import { askDecision, createList, putCourse, putEnrollment, uniqueEmail } from '../factories.js'
import { build } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { messageToken, taggedAddress } from '../../src/returns/return-path.js'
import { arfFor, deliveredNewsletter, dsnFor, returnsConfig } from './reports.js'

const RETURN_PATH = 'bounces@returns.example.no'
const MAILTO = 'unsubscribe@example.no'

/** A token with one character of its MAC changed: the right shape, but it does not verify. */
const tampered = (address: string) => address.replace(/([0-9a-f])@/, (_, last: string) => `${last === '0' ? '1' : '0'}@`)

t.test('the inbound SMTP listener', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, {
    config: { smtpUrl: sink.url, unsubscribeMailto: MAILTO, returns: returnsConfig({ returnPath: RETURN_PATH, smtp: { host: '127.0.0.1', port: 0 } }) },
  })
  const port = app.app.inboundMail.port
  t.ok(port, 'listening on a port of its own')
  const client = nodemailer.createTransport({ host: '127.0.0.1', port: port!, secure: false, ignoreTLS: true })
  t.teardown(() => client.close())
  /** A raw mail as a relay hands it over; resolves with null when it was taken (250), else the SMTP reply code. */
  const mailTo = (to: string, raw: string, from = 'MAILER-DAEMON@mx.example.net') =>
    client.sendMail({ envelope: { from, to }, raw }).then(
      () => null,
      (error: { responseCode?: number; message: string }) => error.responseCode ?? error.message,
    )
  /** What a mail client sends for a mailto: unsubscribe. */
  const unsubscribeMail = (to: string, from: string) => mailTo(to, `From: ${from}\r\nTo: ${to}\r\nSubject: unsubscribe\r\nMIME-Version: 1.0\r\n\r\n`, from.replace(/^.*<|>$/g, ''))

  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  /** A newsletter delivered to the sink, with the return path and the mailto: address it went out with. */
  async function delivered(options: { email?: string; contactId?: string } = {}) {
    const message = await deliveredNewsletter(app, list.id, options)
    const mail = sink.received.find((m) => m.parsed.messageId === message.headerMessageId)!
    const listUnsubscribe = mail.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line
    const mailto = /<mailto:([^?>]+)\?subject=unsubscribe>/.exec(listUnsubscribe)![1]!
    return { ...message, returnPath: mail.envelope.from, mailto }
  }
  const get = async (url: string) => (await app.as('staff')({ method: 'GET', url })).json()
  const suppressionsOf = (contactId: string) => get(`/v1/suppressions?contactId=${contactId}&active=true`).then((r) => r.items)
  const statusOn = (listId: string, contactId: string) => get(`/v1/lists/${listId}/subscriptions/${contactId}`).then((r) => r.status)
  const eventsOf = (messageId: string) => get(`/v1/messages/${messageId}`).then((r) => r.events.map((e: { type: string }) => e.type))
  const keptFor = (messageId: string) => get(`/v1/returns?messageId=${messageId}`).then((r) => r.items)
  const rejectedIds = () => get('/v1/returns?outcome=rejected&limit=200').then((r) => new Set<string>(r.items.map((i: { id: string }) => i.id)))
  const newsletterDecision = (contactId: string) => askDecision(app, { kind: 'newsletter', listId: list.id, contactId })

  t.test('a DSN mailed to a message’s return path suppresses the address for all mail, and the send’s decision says hard_bounce', async (t) => {
    const { email, contactId, messageId, returnPath } = await delivered()
    t.match(returnPath, /^bounces\+[0-9a-f]{48}@returns\.example\.no$/)
    // The DSN names the message by its return path alone: the original's Message-ID here is someone else's.
    t.equal(await mailTo(returnPath, dsnFor({ headerMessageId: '<not-ours@mx.example.net>', recipient: email, status: '5.1.1', to: returnPath })), null, 'taken: 250')
    const suppressions = await suppressionsOf(contactId)
    t.equal(suppressions.length, 1)
    t.match(suppressions[0], { scope: 'all-mail', reason: 'bounce', note: new RegExp(`hard bounce: smtp report .* \\(5\\.1\\.1\\) about message ${messageId}`) })
    t.match(await newsletterDecision(contactId), { allowed: false, reason: 'hard_bounce' })
    const kept = await keptFor(messageId)
    t.equal(kept.length, 1, 'one report kept')
    t.match(kept[0], { channel: 'smtp', outcome: 'applied', effect: 'hard_bounce', status: '5.1.1', reportType: 'bounce' })
    t.equal((await eventsOf(messageId)).at(-1), 'bounced')
  })

  t.test('an ARF mailed to the return path is a complaint', async (t) => {
    const { contactId, messageId, headerMessageId, returnPath } = await delivered()
    t.equal(await mailTo(returnPath, arfFor({ headerMessageId }), 'fbl@fbl.example.net'), null, 'taken: 250')
    const suppressions = await suppressionsOf(contactId)
    t.equal(suppressions.length, 1)
    t.match(suppressions[0], { scope: 'global', reason: 'complaint' })
    t.match(await newsletterDecision(contactId), { allowed: false, reason: 'complaint' })
    const kept = await keptFor(messageId)
    t.equal(kept.length, 1, 'one report kept')
    t.match(kept[0], { channel: 'smtp', outcome: 'applied', effect: 'complaint', reportType: 'complaint' })
    t.ok((await eventsOf(messageId)).includes('complained'))
  })

  t.test('any address but a tagged one of ours is refused at RCPT with 550, and nothing changes', async (t) => {
    const { email, contactId, messageId, headerMessageId, returnPath, mailto } = await delivered()
    const before = await rejectedIds()
    const token = returnPath.slice('bounces+'.length, returnPath.indexOf('@'))
    for (const [what, to] of [
      ['another local part of the return domain', `postmaster@returns.example.no`],
      ['another local part with the token', `postmaster+${token}@returns.example.no`],
      ['the bare return-path base', RETURN_PATH],
      ['the bare unsubscribe base', MAILTO],
      ['the token at a foreign domain', `bounces+${token}@elsewhere.example`],
      ['the unsubscribe token at a foreign domain', mailto.replace('@example.no', '@elsewhere.example')],
    ] as const) {
      // A real DSN about the real message: were it taken, it would suppress the address.
      t.equal(await mailTo(to, dsnFor({ headerMessageId, recipient: email, status: '5.1.1', to })), 550, what)
    }
    t.same(await suppressionsOf(contactId), [])
    t.same(await keptFor(messageId), [])
    t.same([...(await rejectedIds())].filter((id) => !before.has(id)), [], 'not even a rejection is kept')
    t.match(await newsletterDecision(contactId), { allowed: true })
  })

  t.test('a tampered token of the right shape is taken at RCPT (a bounce of a bounce helps nobody) but changes nothing: it is kept as rejected', async (t) => {
    const { email, contactId, messageId, headerMessageId, returnPath, mailto } = await delivered()
    const eventsBefore = await eventsOf(messageId)
    const before = await rejectedIds()
    const forged = tampered(returnPath)
    t.not(forged, returnPath)
    // The DSN names the real message and address: only the token's signature keeps it out.
    t.equal(await mailTo(forged, dsnFor({ headerMessageId, recipient: email, status: '5.1.1', to: forged })), null, 'taken: 250')
    t.same(await suppressionsOf(contactId), [])
    t.match(await newsletterDecision(contactId), { allowed: true })
    t.same(await keptFor(messageId), [], 'nothing is tied to the message')
    t.same(await eventsOf(messageId), eventsBefore)
    const kept = (await get('/v1/returns?outcome=rejected&limit=200')).items.filter((r: { id: string }) => !before.has(r.id))
    t.equal(kept.length, 1, 'one report kept')
    t.match(kept[0], { channel: 'smtp', outcome: 'rejected', rejection: 'report_signature_invalid', messageId: null })

    t.equal(await unsubscribeMail(tampered(mailto), `Per <${email}>`), null, 'a tampered unsubscribe address is taken too')
    t.equal(await statusOn(list.id, contactId), 'active', 'and unsubscribes nobody')
  })

  t.test('a message over 1 MiB is refused with 552 and nothing of it is kept', async (t) => {
    const { email, contactId, messageId, headerMessageId, returnPath } = await delivered()
    const before = await rejectedIds()
    const padding = `${'x'.repeat(76)}\r\n`.repeat(Math.ceil((1024 * 1024) / 78) + 100)
    const big = dsnFor({ headerMessageId, recipient: email, status: '5.1.1', to: returnPath }).replace('This is the mail system', `${padding}This is the mail system`)
    t.ok(big.length > 1024 * 1024)
    t.equal(await mailTo(returnPath, big), 552)
    t.same(await suppressionsOf(contactId), [])
    t.same(await keptFor(messageId), [])
    t.same([...(await rejectedIds())].filter((id) => !before.has(id)), [], 'refused before the intake: not kept as rejected either')
  })

  t.test('a mailto: unsubscribe from the address the message went to leaves that list; from anyone else nothing happens', async (t) => {
    const { email, contactId, mailto } = await delivered()
    t.match(mailto, /^unsubscribe\+[0-9a-f]{48}@example\.no$/)
    t.equal(await unsubscribeMail(mailto, 'someone.else@example.no'), null, 'taken: 250')
    t.equal(await statusOn(list.id, contactId), 'active', 'not from the subscriber: no change')
    t.same(await suppressionsOf(contactId), [])
    t.equal(await unsubscribeMail(mailto, `Per <${email}>`), null)
    t.equal(await statusOn(list.id, contactId), 'unsubscribed')
    const consents = (await get(`/v1/contacts/${contactId}/consents`)).items
    t.match(consents.at(-1), { type: 'withdrawn', evidence: /mailto: unsubscribe answering message/ })
    t.match(await newsletterDecision(contactId), { allowed: false })
  })

  t.test('course mail carries no mailto:; a mailto: unsubscribe from an enrolled person’s newsletter leaves the newsletter only', async (t) => {
    const course = await putCourse(app, 'MAILTO-1')
    const email = uniqueEmail('student')
    const enrollment = await putEnrollment(app, 'enr-mailto-1', { courseId: 'MAILTO-1', contact: { email, name: 'Kari' } })
    const contactId = enrollment.json().contactId as string
    const courseSend = await app.as('course-system')({
      method: 'POST',
      url: '/v1/sends',
      payload: { template: 'course-message', kind: 'course', courseId: 'MAILTO-1', contactId, data: { name: 'Kari', courseName: 'Yoga', message: 'Hei.' }, idempotencyKey: 'mailto-course-1' },
    })
    t.equal(courseSend.statusCode, 202, 'the course message is sent')
    await app.app.deliveryWorker.runOnce()
    const courseMail = sink.received.find((m) => m.envelope.to.includes(email))!
    t.notOk(courseMail.parsed.headerLines.some((h) => h.key === 'list-unsubscribe'), 'no List-Unsubscribe on course mail')

    const { mailto } = await delivered({ email, contactId })
    t.equal(await statusOn(course.listId, contactId), 'active')
    t.equal(await unsubscribeMail(mailto, `Kari <${email}>`), null)
    t.equal(await statusOn(list.id, contactId), 'unsubscribed', 'the newsletter is left')
    t.equal(await statusOn(course.listId, contactId), 'active', 'the course list is not')
    t.match(await askDecision(app, { kind: 'course', courseId: 'MAILTO-1', contactId }), { allowed: true, basis: 'contract' })
    t.notOk((await suppressionsOf(contactId)).some((s: { scope: string }) => s.scope === 'global'), 'not an unsubscribe from everything')
    // Had it left a wish for the course list, the list would be left when the enrollment ends.
    await putEnrollment(app, 'enr-mailto-1', { courseId: 'MAILTO-1', contact: { email, name: 'Kari' }, status: 'completed' })
    t.equal(await statusOn(course.listId, contactId), 'active', 'no wish for the course list was kept')
  })

  t.test('a signed mailto: for a course message, while the course runs, is kept as a wish and carried out when the enrollment ends', async (t) => {
    // Course mail goes without this address (above); made here the way compose would, to show the lock holds for the intake too.
    const course = await putCourse(app, 'MAILTO-2')
    const email = uniqueEmail('student')
    const enrollment = await putEnrollment(app, 'enr-mailto-2', { courseId: 'MAILTO-2', contact: { email, name: 'Kari' } })
    const contactId = enrollment.json().contactId as string
    const sent = await app.as('course-system')({
      method: 'POST',
      url: '/v1/sends',
      payload: { template: 'course-message', kind: 'course', courseId: 'MAILTO-2', contactId, data: { name: 'Kari', courseName: 'Yoga', message: 'Hei.' }, idempotencyKey: 'mailto-course-2' },
    })
    t.equal(sent.statusCode, 202, 'the course message is sent')
    const messageId = sent.json().messageId as string
    await app.app.deliveryWorker.runOnce()
    t.equal((await get(`/v1/messages/${messageId}`)).listId, course.listId, 'course mail goes on the course list')
    const mailto = taggedAddress(MAILTO, messageToken(app.config.linkSigningKeys, 'unsubscribe', messageId))
    t.equal(await unsubscribeMail(mailto, `Kari <${email}>`), null)
    t.equal(await statusOn(course.listId, contactId), 'active', 'locked while the course runs')
    t.match(await askDecision(app, { kind: 'course', courseId: 'MAILTO-2', contactId }), { allowed: true })

    const done = await putEnrollment(app, 'enr-mailto-2', { courseId: 'MAILTO-2', contact: { email, name: 'Kari' }, status: 'completed' })
    t.equal(done.statusCode, 200, 'the enrollment is completed')
    t.equal(await statusOn(course.listId, contactId), 'unsubscribed', 'the wish is carried out once the lock ends')
  })
})
