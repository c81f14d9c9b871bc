// A handover to SMTP holds its recipients: an unsubscribe that arrives while a
// campaign's message to that person is at the server waits until the server
// has answered, so no message is accepted after an unsubscribe commits. On
// PostgreSQL (the embedded database runs one transaction at a time).
import t from 'tap'
import { consentEvents, contacts, subscriptions } from '../../db/schema/index.js'
import { signLink } from '../../src/lib/link-tokens.js'
import { storedAddressHash } from '../../src/lib/email.js'
import { createList } from '../factories.js'
import { build, LINK_SECRET, PEPPER } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'

const onPostgres = process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (TEST_DATABASE_URL): two transactions at once'

t.test('an unsubscribe waits for the handover in progress, and the next campaign message is blocked', { skip: onPostgres }, async (t) => {
  const sink = await startSmtpSink({ delayMs: 1500 })
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url } })
  const list = await createList(app, { kind: 'newsletter' })
  const [person] = await app.app.db.insert(contacts).values({ email: `hold.${process.pid}@example.no`, name: 'Kari' }).returning()
  await app.app.db.insert(subscriptions).values({ contactId: person!.id, listId: list.id, status: 'active', source: 'form' })
  await app.app.db.insert(consentEvents).values({
    contactId: person!.id,
    addressHash: storedAddressHash(person!.email, PEPPER),
    listId: list.id,
    purpose: list.purpose,
    type: 'granted',
    basis: 'consent',
    source: 'form',
    occurredAt: new Date(app.clock.now().getTime() - 60_000),
    actorId: 'test',
  })
  const campaign = async () => {
    const created = await app.as('staff')({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Hold', listId: list.id, template: 'newsletter', data: { headline: 'H', body: 'B' } } })
    await app.as('staff')({ method: 'POST', url: `/v1/campaigns/${created.json().id}/start` })
    await app.app.services.campaigns.fanOut('test', 60_000)
    return created.json().id as string
  }
  await campaign()
  const arrived = sink.waitFor(1, 10_000).then(() => Date.now())
  const delivering = app.app.deliveryWorker.runOnce()
  // The message is at the (slow) server: its handover holds the person.
  await new Promise((done) => setTimeout(done, 500))
  const token = signLink([{ id: 'test', secret: LINK_SECRET }], 'unsubscribe', { contactId: person!.id, listId: list.id })
  const unsubscribed = await app.as(null)({
    method: 'POST',
    url: `/unsubscribe/${token}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'List-Unsubscribe=One-Click',
  })
  const answeredAt = Date.now()
  await delivering
  t.equal(unsubscribed.statusCode, 200)
  t.equal(sink.received.length, 1, 'the message in progress was delivered')
  t.ok((await arrived) <= answeredAt, 'the server had the message before the unsubscribe was answered: the unsubscribe waited for the handover')
  const events = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${person!.id}/consents` })).json().items
  t.equal(events.at(-1).type, 'withdrawn')

  // A second campaign to the same list: its message is decided blocked, never sent.
  await campaign()
  await app.app.deliveryWorker.runOnce()
  t.equal(sink.received.length, 1, 'nothing after the unsubscribe committed')
})
