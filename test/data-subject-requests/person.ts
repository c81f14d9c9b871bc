// A person with a row in every table that can hold a person: made through the
// API, as users make them (a report that came back about their mail included). The export and erasure tests share it.
import { signLink } from '../../src/lib/link-tokens.js'
import { consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { LINK_SECRET, type TestApp } from '../helper.js'
import { dsnFor } from '../returns/reports.js'

export interface Person {
  contactId: string
  email: string
  name: string
  phone: string
  address: string
  ip: string
  userAgent: string
  courseId: string
  requestId: string
}

let people = 0

/** Kari, on a running course, a newsletter reader who left another list, with a message delivered and a request open. */
export async function personEverywhere(app: TestApp, deliver: () => Promise<number>): Promise<Person> {
  const n = ++people
  const courseId = `everywhere-${n}`
  const email = uniqueEmail('kari')
  const person = { email, name: `Kari Nordmann ${n}`, phone: `+47 912 34 5${String(n).padStart(2, '0')}`, address: `Storgata ${n}, 0155 Oslo` }
  const ip = `198.51.100.${n}`
  const userAgent = `Mozilla/5.0 (Kari's laptop ${n})`
  const staff = app.as('staff')

  await putCourse(app, courseId, { name: 'Keramikk for nybegynnere' })
  const enrolled = await putEnrollment(app, `everywhere-enrollment-${n}`, { courseId, contact: { email, name: person.name } })
  if (enrolled.statusCode !== 201) throw new Error(`enrollment: ${enrolled.statusCode} ${enrolled.body}`)
  const contactId = enrolled.json().contactId as string
  // Rectified by staff: the audit log keeps the values, about the person.
  const patched = await staff({ method: 'PATCH', url: `/v1/contacts/${contactId}`, payload: { phone: person.phone, address: person.address } })
  if (patched.statusCode !== 200) throw new Error(`patch: ${patched.statusCode} ${patched.body}`)

  const news = await createList(app, { kind: 'newsletter', name: 'Nyheter' })
  const offers = await createList(app, { kind: 'newsletter', name: 'Tilbud' })
  for (const list of [news, offers]) {
    const res = await subscribe(app, list.id, { contactId, source: 'form', consent: { ...consentPayload(), ip, userAgent } })
    if (res.statusCode !== 201) throw new Error(`subscribe: ${res.statusCode} ${res.body}`)
  }
  const keys = [{ id: 'test', secret: LINK_SECRET }]
  const oneClick = (listId: string) =>
    app.app.inject({
      method: 'POST',
      url: `/unsubscribe/${signLink(keys, 'unsubscribe', { contactId, listId })}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent },
      payload: 'List-Unsubscribe=One-Click',
      remoteAddress: ip,
    })
  // Leaves the offers (a suppression and a withdrawal) and the course list (kept until the course ends).
  await oneClick(offers.id)
  const courseList = (await staff({ method: 'GET', url: `/v1/contacts/${contactId}/subscriptions` })).json().items.find(
    (s: { listKind: string }) => s.listKind === 'course',
  )
  await oneClick(courseList.listId)

  const sent = await app.as('course-system')({
    method: 'POST',
    url: '/v1/sends',
    payload: {
      idempotencyKey: `everywhere-${n}`,
      template: 'course-message',
      kind: 'course',
      courseId,
      contactId,
      data: { name: person.name, courseName: 'Keramikk for nybegynnere', message: `Ring meg på ${person.phone}` },
    },
  })
  if (sent.statusCode !== 202) throw new Error(`send: ${sent.statusCode} ${sent.body}`)
  await deliver()
  // Its recipient's server was slow to take it: a report that came back, about the person's address.
  const { headerMessageId } = (await staff({ method: 'GET', url: `/v1/messages/${sent.json().messageId}` })).json()
  const delayed = await app.as('provider')({
    method: 'POST',
    url: '/v1/events/dsn',
    headers: { 'content-type': 'message/rfc822' },
    payload: dsnFor({ headerMessageId, recipient: email, status: '4.2.2', action: 'delayed', date: app.clock.now() }),
  })
  if (delayed.statusCode !== 200) throw new Error(`dsn: ${delayed.statusCode} ${delayed.body}`)

  // A corrected phone number: a rectification request, which tells the processors (P9).
  const rectification = await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'rectification', channel: 'phone', contactId, details: `Nytt nummer ${person.phone}` } })
  await staff({ method: 'POST', url: `/v1/requests/${rectification.json().id}/complete`, payload: { outcome: `Phone set to ${person.phone}` } })
  const request = await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'access', channel: 'email', contactId, details: `Fra ${person.name}, ${person.phone}` } })
  if (request.statusCode !== 201) throw new Error(`request: ${request.statusCode} ${request.body}`)
  return { contactId, ...person, ip, userAgent, courseId, requestId: request.json().id }
}
