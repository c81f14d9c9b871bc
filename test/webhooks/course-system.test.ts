// Issue 29's "done when", end to end through the API: the course system
// registers an endpoint, is down while a participant unsubscribes from
// everything during a course (deferred by the course lock), the opt-out is
// carried out at course end and the person is erased; the endpoint is
// disabled for failing a day meanwhile. Once it is back and enabled, what
// waited arrives signed and in order, and a replay of the time range brings
// what was recorded while it was disabled, in order — each event with its own
// webhook-id, so the receiver drops what it has already.
import t from 'tap'
import { systemActor } from '../../src/lib/actor.js'
import { consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build } from '../helper.js'
import { startReceiver, verifyWebhook } from './receiver.js'

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR

t.test('the course system hears a deferred unsubscribe, its carrying out and the erasure, in order, after being down', async (t) => {
  const app = await build(t)
  const admin = app.as('admin')
  const { services } = app.app
  const receiver = await startReceiver(t)
  const endpoint = (
    await admin({ method: 'POST', url: '/v1/webhooks', payload: { url: receiver.url, eventTypes: ['subscription.unsubscribed', 'unsubscribe.deferred_applied', 'contact.erased'] } })
  ).json()
  const start = app.clock.now()
  await receiver.stop()

  const course = await putCourse(app, 'K-2026-03')
  const email = uniqueEmail('deltaker')
  const enrolled = await putEnrollment(app, 'E-2026-03-1', { courseId: 'K-2026-03', contact: { email } })
  const contactId = enrolled.json().contactId as string
  const newsletter = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  await subscribe(app, newsletter.id, { contactId, source: 'form', consent: consentPayload() })

  const all = await app.as('staff')({ method: 'POST', url: `/v1/contacts/${contactId}/unsubscribe-all`, payload: { source: 'staff' } })
  t.equal(all.statusCode, 200, all.body)
  t.match(await services.webhooks.deliverDue(), { delivered: 0, retrying: 1 }, 'the receiver is down')
  // The job's turns, hourly here: after a day of failures the endpoint is disabled.
  let disabled = 0
  for (let turn = 0; turn < 30 && disabled === 0; turn++) {
    app.clock.advance(HOUR)
    disabled = (await services.webhooks.deliverDue()).disabled
  }
  t.equal(disabled, 1, 'failing for a day: disabled')

  // The course ends; the deferred opt-out is carried out while the endpoint is disabled.
  app.clock.set(new Date(new Date(course.endsAt).getTime() + HOUR))
  t.ok((await services.optOut.applyDueDeferredUnsubscribes(systemActor)) >= 1)

  // A month on the person is erased; the disabled endpoint is queued nothing.
  app.clock.advance(31 * DAY)
  const request = (await app.as('staff')({ method: 'POST', url: '/v1/requests', payload: { type: 'erasure', channel: 'email', contactId } })).json()
  const erased = await admin({ method: 'POST', url: `/v1/contacts/${contactId}/erase`, payload: { requestId: request.id } })
  t.equal(erased.statusCode, 200, erased.body)

  await receiver.start()
  t.match((await admin({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/enable` })).json(), { status: 'active' })
  t.match(await services.webhooks.deliverDue(), { delivered: 1, failed: 0 }, 'what waited is sent once enabled: the unsubscribe, past its three days but taken at the first try')
  const replay = await admin({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/replay`, payload: { from: start.toISOString(), to: new Date(app.clock.now().getTime() + 1000).toISOString() } })
  t.same(replay.json(), { queued: 3 })
  t.match(await services.webhooks.deliverDue(), { delivered: 3 })

  const now = Math.floor(app.clock.now().getTime() / 1000)
  for (const r of receiver.received) t.equal(verifyWebhook(endpoint.secret, r, r.body, now), 'valid')
  // The receiver keeps the first of each webhook-id, as Standard Webhooks asks of it.
  const seen = new Set<string>()
  const taken = receiver.received.filter((r) => !seen.has(r.id) && seen.add(r.id)).map((r) => JSON.parse(r.body))
  t.match(taken, [
    { type: 'subscription.unsubscribed', data: { contactId, scope: 'all', deferred: true, courseIds: ['K-2026-03'] } },
    { type: 'unsubscribe.deferred_applied', data: { contactId, courseId: 'K-2026-03' } },
    { type: 'contact.erased', data: { contactId, requestId: request.id } },
  ])
  t.equal(taken.length, 3)
  t.same(Object.keys(taken[2].data).sort(), ['contactId', 'requestId'], 'the erasure carries no personal data')
  t.notOk(receiver.received.some((r) => r.body.includes(email)), 'no delivery carried the address: the endpoint was not allowed it')
})
