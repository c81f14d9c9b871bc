// Webhook events from the domain changes they report (issue 29): each real
// change, made through the API (or the service a job calls), leaves its event
// in the outbox with the contact, the data its payload schema describes, and
// the person's address beside it; a change that rolls back leaves none.
// Bounces, complaints, campaigns and erasure: events-returns.test.ts.
import t from 'tap'
import { consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build } from '../helper.js'
import { signLink } from '../../src/lib/link-tokens.js'
import { systemActor } from '../../src/lib/actor.js'
import { checkPayloads, markOutbox, only, typesOf } from './outbox.js'

const DAY = 24 * 60 * 60 * 1000

t.test('webhook events', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')
  const { services } = app.app
  let courses = 0

  async function subscriber() {
    const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
    const person = await createContact(app)
    const res = await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
    if (res.statusCode !== 201) throw new Error(`subscribe: ${res.statusCode} ${res.body}`)
    return { list, person: person as { id: string; email: string } }
  }

  /** A person enrolled on a running course (the course lock holds its list, P3). */
  async function enrolled(extra: Record<string, unknown> = {}) {
    const courseId = `C-${process.pid}-${++courses}`
    const course = await putCourse(app, courseId)
    const email = uniqueEmail('participant')
    const res = await putEnrollment(app, `E-${courseId}`, { courseId, contact: { email }, ...extra })
    if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`enroll: ${res.statusCode} ${res.body}`)
    return { course, courseId, enrollmentId: `E-${courseId}`, contactId: res.json().contactId as string, email }
  }

  t.test('a grant from a form is consent.granted, with the list, purpose, source and the person’s address', async (t) => {
    const since = await markOutbox(app)
    const { list, person } = await subscriber()
    const events = await since()
    t.same(typesOf(events), ['consent.granted'])
    t.match(events[0], { contactId: person.id, email: person.email, data: { listId: list.id, purpose: list.purpose, source: 'form' } })
    checkPayloads(t, events)
  })

  t.test('an unsubscribe through the API: the withdrawal, the list suppression, and subscription.unsubscribed, at once', async (t) => {
    const { list, person } = await subscriber()
    const since = await markOutbox(app)
    const res = await staff({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${person.id}/unsubscribe`, payload: { source: 'staff' } })
    t.equal(res.statusCode, 200, res.body)
    const events = await since()
    t.same(typesOf(events).sort(), ['consent.withdrawn', 'subscription.unsubscribed', 'suppression.added'])
    t.equal(typesOf(events).at(-1), 'subscription.unsubscribed', 'the unsubscribe is announced after what it did')
    t.match(only(t, events, 'consent.withdrawn'), { contactId: person.id, email: person.email, data: { listId: list.id, source: 'staff' } })
    t.match(only(t, events, 'suppression.added'), { contactId: person.id, email: person.email, data: { scope: 'list', reason: 'unsubscribe', listId: list.id, purpose: null } })
    t.match(only(t, events, 'subscription.unsubscribed'), {
      contactId: person.id,
      data: { scope: 'list', listId: list.id, deferred: false, deferredUntil: null, courseIds: [] },
    })
    t.ok(events.every((e) => e.occurredAt.getTime() === app.clock.now().getTime()), 'each as of the change')
    checkPayloads(t, events)
    const again = await markOutbox(app)
    await staff({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${person.id}/unsubscribe`, payload: { source: 'staff' } })
    t.same(await again(), [], 'unsubscribing again changes nothing and announces nothing')
  })

  t.test('a one-click unsubscribe link announces the same', async (t) => {
    const { list, person } = await subscriber()
    const since = await markOutbox(app)
    const path = `/unsubscribe/${signLink(app.config.linkSigningKeys, 'unsubscribe', { contactId: person.id, listId: list.id })}`
    const res = await app.as(null)({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
    t.equal(res.statusCode, 200)
    const events = await since()
    t.match(only(t, events, 'subscription.unsubscribed'), { contactId: person.id, email: person.email, data: { scope: 'list', listId: list.id, deferred: false } })
    t.match(only(t, events, 'consent.withdrawn'), { data: { source: 'link' } })
    checkPayloads(t, events)
  })

  t.test('an enrollment grants on the contract; leaving its course list is deferred (P3), then carried out at course end', async (t) => {
    const enrollment = await markOutbox(app)
    const { course, courseId, contactId, email } = await enrolled()
    t.match(only(t, await enrollment(), 'consent.granted'), { contactId, email, data: { listId: course.listId, source: 'enrollment' } })

    const since = await markOutbox(app)
    const res = await staff({ method: 'POST', url: `/v1/lists/${course.listId}/subscriptions/${contactId}/unsubscribe`, payload: { source: 'link' } })
    t.equal(res.statusCode, 409)
    const deferred = await since()
    t.same(typesOf(deferred), ['subscription.unsubscribed'], 'the kept wish is announced, though the answer is a 409')
    t.match(deferred[0], {
      contactId,
      email,
      data: { scope: 'list', listId: course.listId, deferred: true, deferredUntil: new Date(course.endsAt).toISOString(), courseIds: [courseId] },
    })
    checkPayloads(t, deferred)
    const repeated = await markOutbox(app)
    await staff({ method: 'POST', url: `/v1/lists/${course.listId}/subscriptions/${contactId}/unsubscribe`, payload: { source: 'link' } })
    t.same(await repeated(), [], 'the same wish again, while one is kept, is not announced again')

    app.clock.set(new Date(new Date(course.endsAt).getTime() + DAY))
    const applied = await markOutbox(app)
    t.ok((await services.optOut.applyDueDeferredUnsubscribes(systemActor)) >= 1)
    const events = (await applied()).filter((e) => e.contactId === contactId)
    t.same(typesOf(events), ['consent.withdrawn', 'unsubscribe.deferred_applied'])
    t.match(events[1], { email, data: { listId: course.listId, courseId } })
    checkPayloads(t, events)
    app.clock.set(new Date('2026-03-02T09:00:00.000Z'))
  })

  t.test('unsubscribe from everything during a course: scope all, deferred for the course list until it ends', async (t) => {
    const { course, courseId, contactId } = await enrolled()
    const list = await createList(app, { kind: 'newsletter', name: 'Nytt' })
    await subscribe(app, list.id, { contactId, source: 'form', consent: consentPayload() })
    const since = await markOutbox(app)
    const res = await staff({ method: 'POST', url: `/v1/contacts/${contactId}/unsubscribe-all`, payload: { source: 'staff' } })
    t.equal(res.statusCode, 200, res.body)
    const events = await since()
    t.match(only(t, events, 'subscription.unsubscribed'), {
      contactId,
      data: { scope: 'all', listId: null, deferred: true, deferredUntil: new Date(course.endsAt).toISOString(), courseIds: [courseId] },
    })
    t.match(only(t, events, 'consent.withdrawn'), { data: { listId: list.id } }, 'the newsletter at once, the course list not yet')
    t.same(events.filter((e) => e.type === 'suppression.added').map((e) => (e.data as { scope: string }).scope).sort(), ['global', 'list'])
    checkPayloads(t, events)
  })

  t.test('a declined marketing offer and a completed objection request are objection.recorded', async (t) => {
    const since = await markOutbox(app)
    const { contactId, email } = await enrolled({ marketingOptOut: true })
    const events = await since()
    t.match(only(t, events, 'objection.recorded'), { contactId, email, data: { purpose: 'marketing', source: 'enrollment' } })
    t.match(only(t, events, 'suppression.added'), { data: { scope: 'purpose', reason: 'objection', purpose: 'marketing' } })
    checkPayloads(t, events)

    const person = await createContact(app)
    const request = (await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'objection', channel: 'email', contactId: person.id } })).json()
    const completing = await markOutbox(app)
    t.equal((await staff({ method: 'POST', url: `/v1/requests/${request.id}/complete`, payload: { outcome: 'Objection recorded' } })).statusCode, 200)
    const done = await completing()
    t.same(typesOf(done), ['suppression.added', 'objection.recorded', 'request.completed'])
    t.match(done[1], { contactId: person.id, email: person.email, data: { purpose: 'marketing', source: 'staff' } })
    checkPayloads(t, done)
  })

  t.test('asking to keep data for the next course (P1) is data_retention.keep_requested, with the course system’s ids', async (t) => {
    const since = await markOutbox(app)
    const first = await enrolled({ keepDataAfterCourse: true })
    t.match(only(t, await since(), 'data_retention.keep_requested'), {
      contactId: first.contactId,
      email: first.email,
      data: { courseId: first.courseId, enrollmentId: first.enrollmentId },
    })
    const second = await enrolled()
    const asked = await markOutbox(app)
    t.equal(await services.enrollments.setKeepDataAfterCourse(second.contactId, true, systemActor), 1)
    const events = await asked()
    t.same(typesOf(events), ['data_retention.keep_requested'])
    t.match(events[0], { contactId: second.contactId, email: second.email, data: { courseId: second.courseId, enrollmentId: second.enrollmentId } })
    checkPayloads(t, events)
    const again = await markOutbox(app)
    await services.enrollments.setKeepDataAfterCourse(second.contactId, true, systemActor)
    await services.enrollments.setKeepDataAfterCourse(second.contactId, false, systemActor)
    t.same(await again(), [], 'asking again, or taking it back, is no new request to keep')
  })

  t.test('a manual suppression added and lifted, with scope and reason; an address without a contact too', async (t) => {
    const person = await createContact(app)
    const since = await markOutbox(app)
    const created = await staff({ method: 'POST', url: '/v1/suppressions', payload: { contactId: person.id, scope: 'all-mail', reason: 'manual', note: 'asked by phone' } })
    t.equal(created.statusCode, 201, created.body)
    const lifted = await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${created.json().id}/lift`, payload: { reason: 'entered by mistake' } })
    t.equal(lifted.statusCode, 200, lifted.body)
    const events = await since()
    t.same(typesOf(events), ['suppression.added', 'suppression.lifted'])
    for (const e of events) {
      t.match(e, { contactId: person.id, email: person.email, data: { suppressionId: created.json().id, scope: 'all-mail', reason: 'manual', listId: null, purpose: null } }, e.type)
    }
    const stranger = uniqueEmail('stranger')
    const byAddress = await markOutbox(app)
    t.equal((await staff({ method: 'POST', url: '/v1/suppressions', payload: { email: stranger, scope: 'global', reason: 'manual' } })).statusCode, 201)
    const [added] = await byAddress()
    t.match(added, { type: 'suppression.added', contactId: null, email: stranger, data: { scope: 'global', reason: 'manual' } })
    checkPayloads(t, [...events, added!])
  })

  t.test('a request is announced when created and when closed, completed or refused, with its type and due date', async (t) => {
    const person = await createContact(app)
    const since = await markOutbox(app)
    const access = (await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'access', channel: 'email', contactId: person.id } })).json()
    const rectification = (await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'rectification', channel: 'phone', contactId: person.id } })).json()
    await staff({ method: 'POST', url: `/v1/requests/${access.id}/start` })
    await staff({ method: 'POST', url: `/v1/requests/${access.id}/complete`, payload: { outcome: 'Sent the export' } })
    await staff({ method: 'POST', url: `/v1/requests/${rectification.id}/refuse`, payload: { outcome: 'Nothing to correct' } })
    const events = await since()
    t.same(typesOf(events), ['request.created', 'request.created', 'request.completed', 'request.completed'], 'starting one is not announced')
    t.match(events[0], { contactId: person.id, email: person.email, data: { requestId: access.id, type: 'access', dueDate: access.dueOn } })
    t.match(events[2], { data: { requestId: access.id, type: 'access', dueDate: access.dueOn, status: 'completed' } })
    t.match(events[3], { data: { requestId: rectification.id, type: 'rectification', status: 'refused' } })
    checkPayloads(t, events)
    const closed = await markOutbox(app)
    t.equal((await staff({ method: 'POST', url: `/v1/requests/${access.id}/complete`, payload: { outcome: 'Again' } })).statusCode, 409)
    t.same(await closed(), [], 'a conflicting request records nothing')
  })

  t.test('a change that rolls back, or is refused, leaves no event', async (t) => {
    const { list, person } = await subscriber()
    await staff({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${person.id}/unsubscribe`, payload: { source: 'staff' } })
    const since = await markOutbox(app)
    const refused = await subscribe(app, list.id, { contactId: person.id, source: 'staff' })
    t.equal(refused.json().code, 'explicit_consent_required')
    const invalid = await staff({ method: 'POST', url: '/v1/suppressions', payload: { contactId: person.id, scope: 'list', reason: 'manual' } })
    t.equal(invalid.json().code, 'list_scope_needs_list')
    // The objection and its suppression are written, then the transaction fails: their events go with them.
    const failure = await app.app.db
      .transaction(async (tx) => {
        t.same(await services.optOut.objectToMarketingIn(tx, person.id, { source: 'staff' }, systemActor), { changed: true })
        throw new Error('rolled back after the write')
      })
      .catch((error: Error) => error.message)
    t.equal(failure, 'rolled back after the write')
    t.same(await since(), [], 'nothing in the outbox')
    const later = await markOutbox(app)
    await services.optOut.objectToMarketing(person.id, { source: 'staff' }, systemActor)
    t.same(typesOf(await later()), ['suppression.added', 'objection.recorded'], 'the same change, committed, is announced')
  })
})
