// Webhook delivery (issue 29): events recorded with a change reach a receiver
// in this process signed per Standard Webhooks, each person's in order; a
// rolled-back change sends nothing; a receiver that is down gets everything
// once, in order, when it is back; rotation keeps deliveries verifiable with
// either secret during the overlap; a receiver failing for a day is disabled.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { eq } from 'drizzle-orm'
import { webhookEvents } from '../../db/schema/index.js'
import { DELIVERY_LEASE_MS, FAILING_DISABLES_AFTER_MS, webhookBackoffMs } from '../../src/webhooks/delivery.js'
import { claimDueDeliveries } from '../../src/webhooks/queries.js'
import { recordWebhookEvent, recordWebhookEvents } from '../../src/webhooks/record.js'
import type { WebhookEventInput } from '../../src/webhooks/events.js'
import { auditTrail, build, type TestApp } from '../helper.js'
import { startReceiver, verifyWebhook, type Received } from './receiver.js'

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR

/** An endpoint for one subtest: disabled when it ends, so the next subtest's events go only to its own. */
async function createEndpoint(t: { teardown: (fn: () => Promise<unknown>) => void }, app: TestApp, body: Record<string, unknown>) {
  const response = await app.as('admin')({ method: 'POST', url: '/v1/webhooks', payload: body })
  if (response.statusCode !== 201) throw new Error(`endpoint not created: ${response.body}`)
  const endpoint = response.json() as { id: string; secret: string }
  t.teardown(() => app.as('admin')({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/disable` }))
  return endpoint
}

const withdrawn = (contactId: string, n: number): Extract<WebhookEventInput, { type: 'consent.withdrawn' }> => ({
  type: 'consent.withdrawn',
  contactId,
  data: { consentEventId: randomUUID(), listId: null, purpose: `purpose-${n}`, source: 'link' },
})

const seconds = (app: TestApp) => Math.floor(app.clock.now().getTime() / 1000)
const verdict = (app: TestApp, secret: string, r: Received) => verifyWebhook(secret, r, r.body, seconds(app))

/** Each contact's events in the order the receiver got them, by the `purpose` the test numbered them with. */
function orderPerContact(payloads: { data: Record<string, unknown> }[]) {
  const order: Record<string, unknown[]> = {}
  for (const p of payloads) (order[p.data.contactId as string] ??= []).push(p.data.purpose)
  return order
}

t.test('webhook delivery', async (t) => {
  const app = await build(t)
  const db = app.app.db
  const deliver = () => app.app.services.webhooks.deliverDue()
  const record = (event: WebhookEventInput) => recordWebhookEvent(db, app.clock.now(), event)

  t.test('events arrive signed per Standard Webhooks, each person’s in the order they happened, with ids and no email', async (t) => {
    const receiver = await startReceiver(t)
    const endpoint = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn', 'contact.erased'] })
    const [a, b] = [randomUUID(), randomUUID()]
    for (const [contact, n] of [[a, 1], [b, 1], [a, 2], [a, 3], [b, 2]] as const) {
      const recorded = await record({ ...withdrawn(contact, n), email: 'kari@example.no' })
      t.equal(recorded.deliveries, 1, 'one delivery: the one endpoint subscribed')
    }
    await record({ type: 'campaign.finished', contactId: null, data: { campaignId: randomUUID(), status: 'finished' } })
    t.match(await deliver(), { delivered: 5, retrying: 0, failed: 0 })
    t.equal(receiver.received.length, 5, 'an event of a type it did not ask for is not sent')
    for (const r of receiver.received) t.equal(verdict(app, endpoint.secret, r), 'valid')
    t.same(orderPerContact(receiver.payloads()), { [a]: ['purpose-1', 'purpose-2', 'purpose-3'], [b]: ['purpose-1', 'purpose-2'] })
    const first = receiver.payloads()[0]!
    t.match(first, { type: 'consent.withdrawn', timestamp: app.clock.now().toISOString(), data: { contactId: a, listId: null, source: 'link' } })
    t.notOk('email' in first.data, 'no email for an endpoint not allowed it')
    t.equal(new Set(receiver.received.map((r) => r.id)).size, 5, 'each delivery carries its own event’s webhook-id')
    t.same(await deliver(), { delivered: 0, retrying: 0, failed: 0, disabled: 0 }, 'nothing is sent twice')
  })

  t.test('an endpoint allowed the email gets it; contact.erased carries none', async (t) => {
    const receiver = await startReceiver(t)
    await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn', 'contact.erased'], includeEmail: true })
    const contact = randomUUID()
    await record({ ...withdrawn(contact, 1), email: 'ola@example.no' })
    // Not allowed by the type; a caller that casts past it still sends none.
    await record({ type: 'contact.erased', contactId: contact, data: { requestId: null }, email: 'ola@example.no' } as never)
    await deliver()
    const mine = receiver.payloads().filter((p) => p.data.contactId === contact)
    t.match(mine, [{ type: 'consent.withdrawn', data: { email: 'ola@example.no' } }, { type: 'contact.erased', data: { contactId: contact, requestId: null } }])
    t.same(Object.keys(mine[1]!.data).sort(), ['contactId', 'requestId'], 'the erasure names the person by id only')
  })

  t.test('many events recorded at once (an import’s) are delivered like one at a time, each as of its own time, in order', async (t) => {
    const receiver = await startReceiver(t)
    const endpoint = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    const [a, b] = [randomUUID(), randomUUID()]
    const earlier = new Date(app.clock.now().getTime() - HOUR)
    await recordWebhookEvents(db, app.clock.now(), [
      { at: earlier, event: withdrawn(a, 1) },
      { at: earlier, event: withdrawn(b, 1) },
      { at: app.clock.now(), event: withdrawn(a, 2) },
      { at: app.clock.now(), event: { type: 'contact.erased', contactId: b, data: { requestId: null } } },
    ])
    t.match(await deliver(), { delivered: 3 }, 'the type the endpoint does not take is not queued')
    t.same(orderPerContact(receiver.payloads()), { [a]: ['purpose-1', 'purpose-2'], [b]: ['purpose-1'] })
    t.equal(receiver.payloads()[0]!.timestamp, earlier.toISOString())
    for (const r of receiver.received) t.equal(verdict(app, endpoint.secret, r), 'valid')
  })

  t.test('a change that rolls back records nothing and sends nothing', async (t) => {
    const receiver = await startReceiver(t)
    await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    const contact = randomUUID()
    const failed = await db
      .transaction(async (tx) => {
        await recordWebhookEvent(tx, app.clock.now(), withdrawn(contact, 1))
        throw new Error('the change failed after its event was recorded')
      })
      .catch((error: Error) => error.message)
    t.equal(failed, 'the change failed after its event was recorded')
    t.same(await db.select().from(webhookEvents).where(eq(webhookEvents.contactId, contact)), [])
    await deliver()
    t.same(receiver.received, [])
  })

  t.test('a receiver that is down gets every event once, in order, when it is back', async (t) => {
    const receiver = await startReceiver(t)
    const endpoint = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    await receiver.stop()
    const [c, d] = [randomUUID(), randomUUID()]
    for (const [contact, n] of [[c, 1], [c, 2], [d, 1], [c, 3], [d, 2], [c, 4]] as const) await record(withdrawn(contact, n))
    t.match(await deliver(), { delivered: 0, retrying: 2 }, 'only each person’s first event is tried: the rest wait behind it')
    app.clock.advance(webhookBackoffMs(1))
    t.match(await deliver(), { delivered: 0, retrying: 2 })
    const log = (await app.as('admin')({ method: 'GET', url: `/v1/webhooks/${endpoint.id}/deliveries` })).json()
    t.equal(log.items.length, 4, 'every attempt is in the log')
    t.match(log.items[0], { statusCode: null, error: 'connection failed: ECONNREFUSED', deliveryStatus: 'pending', attempts: 2 })
    t.notMatch(JSON.stringify(log), /127\.0\.0\.1/, 'the log names no host or port')

    await receiver.start()
    app.clock.advance(webhookBackoffMs(2))
    t.match(await deliver(), { delivered: 6, retrying: 0, failed: 0 }, 'one turn brings them all out, round after round')
    t.same(orderPerContact(receiver.payloads()), { [c]: ['purpose-1', 'purpose-2', 'purpose-3', 'purpose-4'], [d]: ['purpose-1', 'purpose-2'] })
    t.equal(new Set(receiver.received.map((r) => r.id)).size, 6, 'each once')
    for (const r of receiver.received) t.equal(verdict(app, endpoint.secret, r), 'valid')
  })

  t.test('a worker that dies after claiming loses nothing: once its lease runs out another delivers, once', async (t) => {
    const receiver = await startReceiver(t)
    await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    const contact = randomUUID()
    await record(withdrawn(contact, 1))
    await record(withdrawn(contact, 2))
    // What a worker killed between its claim and its POST leaves behind: a claimed, unsettled delivery.
    const now = app.clock.now()
    t.equal((await claimDueDeliveries(db, now, new Date(now.getTime() + DELIVERY_LEASE_MS), 20)).length, 1, 'the first event only: the second waits behind it')
    t.match(await deliver(), { delivered: 0, retrying: 0 }, 'nothing while the lease holds, not even the later event')
    app.clock.advance(DELIVERY_LEASE_MS)
    t.match(await deliver(), { delivered: 2 })
    t.same(receiver.payloads().map((p) => p.data.purpose), ['purpose-1', 'purpose-2'])
  })

  t.test(
    'two transactions about one person number their events in the order they commit',
    { skip: !process.env.TEST_DATABASE_URL && 'needs two connections at once (PostgreSQL)' },
    async (t) => {
      const contact = randomUUID()
      const steps: string[] = []
      let release!: () => void
      const held = new Promise<void>((done) => (release = done))
      let recorded!: () => void
      const firstRecorded = new Promise<void>((done) => (recorded = done))
      const first = db.transaction(async (tx) => {
        const event = await recordWebhookEvent(tx, app.clock.now(), withdrawn(contact, 1))
        recorded()
        await held
        steps.push('first commits')
        return event
      })
      await firstRecorded
      const second = db.transaction(async (tx) => {
        const event = await recordWebhookEvent(tx, app.clock.now(), withdrawn(contact, 2))
        steps.push('second recorded')
        return event
      })
      // Long enough for the second to have recorded its event, were it not made to wait.
      await new Promise((done) => setTimeout(done, 300))
      steps.push('first released')
      release()
      const [a, b] = await Promise.all([first, second])
      t.same(steps, ['first released', 'first commits', 'second recorded'], 'the second waits for the first')
      t.ok(b.sequence > a.sequence)
    },
  )

  t.test('a replayed (old) or forged delivery is recognisable by the receiver', async (t) => {
    const receiver = await startReceiver(t)
    const endpoint = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    await record(withdrawn(randomUUID(), 1))
    await deliver()
    const [got] = receiver.received
    t.equal(verdict(app, endpoint.secret, got!), 'valid')
    app.clock.advance(10 * 60 * 1000)
    t.equal(verdict(app, endpoint.secret, got!), 'timestamp_out_of_range', 'the same delivery sent again ten minutes later')
    app.clock.advance(-10 * 60 * 1000)
    t.equal(verifyWebhook(endpoint.secret, got!, got!.body.replace('purpose-1', 'purpose-2'), seconds(app)), 'signature_mismatch', 'a changed body')
    t.equal(verifyWebhook(endpoint.secret, { ...got!, timestamp: String(Number(got!.timestamp) + 1) }, got!.body, seconds(app)), 'signature_mismatch', 'a changed timestamp')
    const other = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['contact.erased'] })
    t.equal(verdict(app, other.secret, got!), 'signature_mismatch', 'signed with another secret')
    t.equal(verifyWebhook(endpoint.secret, { id: got!.id, timestamp: got!.timestamp }, got!.body, seconds(app)), 'missing_headers')
  })

  t.test('after a rotation both secrets verify during the overlap, then only the new one', async (t) => {
    const receiver = await startReceiver(t)
    const endpoint = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    const rotated = (await app.as('admin')({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/rotate-secret` })).json()
    t.not(rotated.secret, endpoint.secret)
    await record(withdrawn(randomUUID(), 1))
    await deliver()
    const during = receiver.received.at(-1)!
    t.equal(during.signature.split(' ').length, 2, 'two signatures while the old secret still signs')
    t.equal(verdict(app, endpoint.secret, during), 'valid', 'the old secret verifies')
    t.equal(verdict(app, rotated.secret, during), 'valid', 'the new secret verifies')
    app.clock.advance(DAY + 1000)
    await record(withdrawn(randomUUID(), 2))
    await deliver()
    const after = receiver.received.at(-1)!
    t.equal(after.signature.split(' ').length, 1)
    t.equal(verdict(app, rotated.secret, after), 'valid')
    t.equal(verdict(app, endpoint.secret, after), 'signature_mismatch', 'the old secret no longer does once the overlap is over')
  })

  t.test('replay sends one event again, or every event of a time range, with the same webhook-id', async (t) => {
    const receiver = await startReceiver(t)
    const endpoint = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    const admin = app.as('admin')
    // After the earlier subtests' events: the range is this subtest's alone.
    app.clock.advance(60_000)
    const from = app.clock.now()
    const contact = randomUUID()
    const first = await record(withdrawn(contact, 1))
    app.clock.advance(60_000)
    await record(withdrawn(contact, 2))
    app.clock.advance(60_000)
    const to = app.clock.now()
    await record(withdrawn(contact, 3))
    await deliver()
    t.equal(receiver.received.length, 3)

    const one = await admin({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/events/${first.id}/replay` })
    t.equal(one.statusCode, 202)
    t.same(one.json(), { queued: 1 })
    await deliver()
    t.equal(receiver.received.at(-1)!.id, first.id, 'the replay carries the event’s own webhook-id')
    t.equal(verdict(app, endpoint.secret, receiver.received.at(-1)!), 'valid', 'signed anew, with a fresh timestamp')

    const range = await admin({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/replay`, payload: { from: from.toISOString(), to: to.toISOString() } })
    t.same(range.json(), { queued: 2 }, 'from inclusive, to exclusive')
    await deliver()
    t.same(receiver.payloads().slice(-2).map((p) => p.data.purpose), ['purpose-1', 'purpose-2'], 'in order')
    t.match(await auditTrail(app, 'webhook_endpoint', endpoint.id), [{ action: 'webhook_endpoint.created' }, { action: 'webhook_endpoint.replayed' }, { action: 'webhook_endpoint.replayed' }])
  })

  t.test('an endpoint failing for a day is disabled, with an audit entry for the controller; a delivery fails after three days', async (t) => {
    const receiver = await startReceiver(t)
    const endpoint = await createEndpoint(t, app, { url: receiver.url, eventTypes: ['consent.withdrawn'] })
    receiver.answers.push(...Array(1000).fill(503))
    await record(withdrawn(randomUUID(), 1))
    let counts = await deliver()
    let turns = 0
    while (counts.disabled === 0 && turns++ < 100) {
      app.clock.advance(HOUR)
      counts = await deliver()
    }
    const disabled = (await app.as('admin')({ method: 'GET', url: `/v1/webhooks/${endpoint.id}` })).json()
    t.match(disabled, { status: 'disabled', disabledReason: 'failing' })
    t.ok(app.clock.now().getTime() - new Date(disabled.failingSince).getTime() >= FAILING_DISABLES_AFTER_MS, 'after a day of failures')
    t.ok(turns <= 25, 'not much later than a day')
    const entries = await auditTrail(app, 'webhook_endpoint', endpoint.id)
    t.match(entries.at(-1), { action: 'webhook_endpoint.disabled', actorId: 'system:scheduler' })
    const attemptsBefore = receiver.received.length
    app.clock.advance(HOUR)
    await deliver()
    t.equal(receiver.received.length, attemptsBefore, 'a disabled endpoint is sent nothing')

    app.clock.advance(2 * DAY)
    const enabled = (await app.as('admin')({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/enable` })).json()
    t.match(enabled, { status: 'active', disabledReason: null, failingSince: null })
    t.match(await deliver(), { failed: 1, retrying: 0 }, 'tried once more when enabled, past its three days: failed')
    const log = (await app.as('admin')({ method: 'GET', url: `/v1/webhooks/${endpoint.id}/deliveries?limit=1` })).json()
    t.match(log.items, [{ statusCode: 503, error: 'HTTP 503', deliveryStatus: 'failed' }])
    t.type(log.nextCursor, 'string', 'the log is paged')
    const next = (await app.as('admin')({ method: 'GET', url: `/v1/webhooks/${endpoint.id}/deliveries?limit=1&cursor=${log.nextCursor}` })).json()
    t.ok(new Date(next.items[0].at) < new Date(log.items[0].at), 'newest first')
  })
})
