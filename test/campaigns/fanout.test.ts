// The fan-out in rounds of several batches (side by side on PostgreSQL, one
// after the other on PGlite): every member decided, recorded and queued
// once; a round run again after a crash (its batches committed, the place
// not moved) adds no one twice; a message stores only the person's own
// values, and goes out with the campaign's.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { selectRows } from '../../db/client.js'
import { createCampaignFanout } from '../../src/campaigns/fanout.js'
import { updateCampaign } from '../../src/campaigns/queries.js'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build, type TestApp } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'

const MEMBERS = 10
const engine = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'

/** A fan-out of 3 members a batch, 3 batches a round on PostgreSQL: 10 members make two rounds, the second short. */
function smallBatchFanout(app: TestApp) {
  const { services } = app.app
  return createCampaignFanout({
    db: app.app.db,
    clock: app.clock,
    config: app.config,
    policy: app.config,
    batchesInFlight: engine === 'postgres' ? 3 : 1,
    batchSize: 3,
    lists: services.lists,
    templates: services.templates,
    delivery: services.delivery,
    metrics: { countDecisions: () => {} },
    requireCampaign: services.campaigns.requireCampaign,
    finishIfDone: services.campaigns.finishIfDone,
  })
}

async function counts(app: TestApp, campaignId: string) {
  const [row] = await selectRows<{ ledger: number; contacts: number; messages: number; queued: number }>(
    app.app.db,
    sql`select
      (select count(*)::int from send_ledger where campaign_id = ${campaignId}::uuid and stage = 'enqueue') as ledger,
      (select count(distinct contact_id)::int from send_ledger where campaign_id = ${campaignId}::uuid and stage = 'enqueue') as contacts,
      (select count(*)::int from messages where campaign_id = ${campaignId}::uuid) as messages,
      (select count(*)::int from delivery_queue where campaign_id = ${campaignId}::uuid) as queued`,
  )
  return row
}

t.test('rounds of batches decide everyone once; a round run again adds no one; the campaign data goes out with each message', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url } })
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  const people: { id: string; email: string }[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const contact = await createContact(app, { name: `Person ${i}` })
    const res = await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    t.equal(res.statusCode, 201)
    people.push(contact)
  }
  const created = await app.as('staff')({
    method: 'POST',
    url: '/v1/campaigns',
    payload: { name: 'Runder', listId: list.id, template: 'newsletter', data: { headline: 'Nye kurs i vår', body: 'Påmeldingen er åpen.' } },
  })
  t.equal(created.statusCode, 201)
  const campaignId = created.json().id as string
  t.equal((await app.as('staff')({ method: 'POST', url: `/v1/campaigns/${campaignId}/start` })).statusCode, 200)

  const fanout = smallBatchFanout(app)
  let covered = 0
  for (let n = 0; (n = await fanout.fanOut('test:fanout', 60_000)) > 0; ) covered += n
  t.equal(covered, MEMBERS, 'every member covered')
  t.same(await counts(app, campaignId), { ledger: MEMBERS, contacts: MEMBERS, messages: MEMBERS, queued: MEMBERS }, 'each once')
  const campaign = await app.app.services.campaigns.requireCampaign(app.app.db, campaignId)
  t.ok(campaign.fanoutDoneAt, 'the fan-out is done')

  // A crash after the batches committed and before the place moved: the place is back at the start.
  await updateCampaign(app.app.db, campaignId, { fanoutAfter: null, fanoutDoneAt: null, fanoutOwner: null, fanoutLeaseUntil: null })
  let again = 0
  for (let n = 0; (n = await fanout.fanOut('test:after-crash', 60_000)) > 0; ) again += n
  t.equal(again, MEMBERS, 'the rounds are run again')
  t.same(await counts(app, campaignId), { ledger: MEMBERS, contacts: MEMBERS, messages: MEMBERS, queued: MEMBERS }, 'and no one is added twice')

  const [message] = await app.app.services.sends.messagesByIds(app.app.db, [
    ...(await app.app.services.ledger.campaignRecipients(app.app.db, campaignId, { limit: 1 })).map((r) => r.messageId),
  ])
  t.same(Object.keys(message!.data ?? {}), ['name'], "a message keeps only the person's own values")

  while ((await app.app.deliveryWorker.work()) > 0) {}
  const emails = new Set(people.map((p) => p.email))
  const received = sink.received.filter((m) => m.envelope.to.some((to) => emails.has(to)))
  t.equal(received.length, MEMBERS, 'each member got one message')
  for (const m of received) {
    t.match(m.parsed.text, /Nye kurs i vår/, "with the campaign's headline")
    t.match(m.parsed.text, /Påmeldingen er åpen\./, "and the campaign's body")
    t.match(m.parsed.text, /Person \d/, 'and their own name')
  }
})
