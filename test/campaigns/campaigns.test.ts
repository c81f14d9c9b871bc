// Campaigns through the API and the in-process worker, to a real SMTP server:
// fan-out with a ledger row per member, pause and resume without skipping or
// doubling anyone, an unsubscribe during a campaign, cancel, the send-by
// deadline, retry-failed, a handover cut off by a dead worker, the schedule,
// and the transitions that make no sense.
import t from 'tap'
import { claimDue, markHandedOver } from '../../src/delivery/queries.js'
import { LEASE_MS } from '../../src/delivery/worker.js'
import { systemActor } from '../../src/lib/actor.js'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build, type TestApp } from '../helper.js'
import { startSmtpSink, type ReceivedMessage, type SmtpSink } from '../support/smtp-sink.js'

const newsletterData = { headline: 'Nye kurs', body: 'Påmeldingen er åpen.' }

// One service and one SMTP server for the whole file (each test makes its own list and people).
let shared: Promise<{ app: TestApp; sink: SmtpSink }> | undefined
function sharedApp(): Promise<{ app: TestApp; sink: SmtpSink }> {
  shared ??= (async () => {
    const sink = await startSmtpSink()
    t.teardown(() => sink.close())
    return { app: await build(t, { config: { smtpUrl: sink.url } }), sink }
  })()
  return shared
}

/** A newsletter list with `members` people subscribed with consent, and what the SMTP server received for them. */
async function setUp(members = 4) {
  const { app, sink } = await sharedApp()
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  const people: { id: string; email: string }[] = []
  for (let i = 0; i < members; i++) {
    const contact = await createContact(app, { name: i === 0 ? 'Kari <b>Nordmann</b>' : `Person ${i}` })
    const res = await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    if (res.statusCode !== 201) throw new Error(`subscribe: ${res.statusCode} ${res.body}`)
    people.push(contact)
  }
  const emails = new Set(people.map((p) => p.email))
  /** The messages the server received for these people, in order. */
  const received = () => sink.received.filter((m) => m.envelope.to.some((to) => emails.has(to)))
  return { app, sink, list, people, received }
}

async function createCampaign(app: TestApp, body: Record<string, unknown>) {
  const res = await app.as('staff')({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Desember', template: 'newsletter', data: newsletterData, ...body } })
  if (res.statusCode !== 201) throw new Error(`createCampaign: ${res.statusCode} ${res.body}`)
  return res.json()
}

const act = (app: TestApp, id: string, action: string) => app.as('staff')({ method: 'POST', url: `/v1/campaigns/${id}/${action}` })
const getCampaign = async (app: TestApp, id: string) => (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${id}` })).json()

/** Works until the worker finds nothing more to do. */
async function drain(app: TestApp) {
  while ((await app.app.deliveryWorker.work()) > 0) {}
}

/** How many messages each address received. */
const perRecipient = (received: ReceivedMessage[]) => {
  const counts = new Map<string, number>()
  for (const m of received) for (const to of m.envelope.to) counts.set(to, (counts.get(to) ?? 0) + 1)
  return counts
}

t.test('a campaign reaches every member with consent once, and records why the others got nothing', async (t) => {
  const { app, list, people, received } = await setUp(4)
  await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${people[1]!.id}/unsubscribe`, payload: { source: 'staff' } })
  await app.as('staff')({ method: 'POST', url: '/v1/suppressions', payload: { contactId: people[2]!.id, scope: 'all-mail', reason: 'manual', note: 'test' } })

  const campaign = await createCampaign(app, { listId: list.id })
  t.equal(campaign.status, 'draft')
  const started = await act(app, campaign.id, 'start')
  t.equal(started.statusCode, 200)
  t.equal(started.json().status, 'sending')
  await drain(app)

  t.same([...perRecipient(received()).entries()].sort(), [[people[0]!.email, 1], [people[3]!.email, 1]].sort(), 'each allowed member once')
  const first = received().find((m) => m.envelope.to[0] === people[0]!.email)!
  t.match(first.parsed.html, /Kari &lt;b&gt;Nordmann&lt;\/b&gt;/, 'the name arrives escaped')
  const header = (name: string) => first.parsed.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '')
  t.equal(header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click')
  const unsubscribeUrl = /<(https?:[^>]+)>/.exec(header('list-unsubscribe') ?? '')?.[1]
  t.ok(unsubscribeUrl, 'a one-click unsubscribe link')

  const done = await getCampaign(app, campaign.id)
  t.equal(done.status, 'finished')
  t.match(done.counts, { recipients: 4, sent: 2, blocked: 2, queued: 0, deferred: 0, failed: 0, possibleDuplicates: 0, fanoutDone: true, progress: 1 })
  t.same(done.counts.blockedByReason, { unsubscribed: 1, manual_block: 1 })

  const recipients = (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${campaign.id}/recipients?limit=2` })).json()
  t.equal(recipients.items.length, 2)
  const rest = (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${campaign.id}/recipients?cursor=${recipients.nextCursor}` })).json()
  const all = [...recipients.items, ...rest.items]
  t.equal(all.length, 4, 'one row per member, paged')
  const byContact = new Map(all.map((r: { contactId: string }) => [r.contactId, r]))
  t.match(byContact.get(people[0]!.id), { decision: 'allowed', basis: 'consent', evidence: { type: 'consent_event' }, status: 'sent', reason: null })
  t.match(byContact.get(people[1]!.id), { decision: 'blocked', reason: 'unsubscribed', status: 'blocked' })
  t.match(byContact.get(people[2]!.id), { decision: 'blocked', reason: 'manual_block', evidence: { type: 'suppression' } })

  const ledger = (await app.as('staff')({ method: 'GET', url: `/v1/ledger?campaignId=${campaign.id}&limit=50` })).json().items
  t.equal(ledger.filter((r: { stage: string }) => r.stage === 'enqueue').length, 4, 'a decision per member when queued')
  t.equal(ledger.filter((r: { stage: string }) => r.stage === 'delivery').length, 2, 'and again at delivery for each message sent')

  t.equal((await act(app, campaign.id, 'start')).json().status, 'finished', 'starting it again changes nothing')
  t.equal(received().length, 2)

  // The campaign's one-click link really unsubscribes: the next campaign leaves that person out.
  const click = await app.as(null)({
    method: 'POST',
    url: new URL(unsubscribeUrl!).pathname,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'List-Unsubscribe=One-Click',
  })
  t.equal(click.statusCode, 200)
  const next = await createCampaign(app, { listId: list.id })
  await act(app, next.id, 'start')
  await drain(app)
  t.same(received().slice(2).map((m) => m.envelope.to[0]), [people[3]!.email])
})

t.test('pause and resume in the middle, twice: no one is skipped, no one gets it twice', async (t) => {
  const { app, list, people, received } = await setUp(7)
  const campaign = await createCampaign(app, { listId: list.id })
  await act(app, campaign.id, 'start')
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, LEASE_MS)
  for (let round = 0; round < 2; round++) {
    t.equal(await app.app.deliveryWorker.runOnce(2), 2)
    t.equal((await act(app, campaign.id, 'pause')).json().status, 'paused')
    t.equal((await act(app, campaign.id, 'pause')).json().status, 'paused', 'pausing again changes nothing')
    t.equal(await app.app.deliveryWorker.work(), 0, 'nothing goes while paused')
    t.equal((await getCampaign(app, campaign.id)).counts.sent, 2 * (round + 1))
    t.equal((await act(app, campaign.id, 'resume')).json().status, 'sending')
  }
  await drain(app)
  t.same([...perRecipient(received()).values()], people.map(() => 1), 'every member exactly once')
  t.equal(perRecipient(received()).size, 7)
  t.match((await getCampaign(app, campaign.id)).counts, { sent: 7, recipients: 7 })
})

t.test('an unsubscribe that commits during a campaign stops the message still waiting; the ledger shows both decisions', async (t) => {
  const { app, list, people, received } = await setUp(3)
  const campaign = await createCampaign(app, { listId: list.id })
  await act(app, campaign.id, 'start')
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, LEASE_MS)
  await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${people[1]!.id}/unsubscribe`, payload: { source: 'staff' } })
  await drain(app)
  t.notOk(perRecipient(received()).has(people[1]!.email), 'nothing to the person who left')
  t.equal(received().length, 2)
  const counts = (await getCampaign(app, campaign.id)).counts
  t.match(counts, { sent: 2, blocked: 1, blockedByReason: { unsubscribed: 1 } })
  const row = (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${campaign.id}/recipients` })).json().items.find(
    (r: { contactId: string }) => r.contactId === people[1]!.id,
  )
  t.match(row, { decision: 'allowed', reason: 'unsubscribed', status: 'blocked' })
  const message = (await app.as('staff')({ method: 'GET', url: `/v1/messages/${row.messageId}` })).json()
  t.match(message.decisions, [{ stage: 'enqueue', decision: 'allowed' }, { stage: 'delivery', decision: 'blocked', reason: 'unsubscribed' }])
})

t.test('cancel: nothing leaves after it commits, and what waited ends as cancelled', async (t) => {
  const { app, list, received } = await setUp(5)
  const campaign = await createCampaign(app, { listId: list.id })
  await act(app, campaign.id, 'start')
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, LEASE_MS)
  t.equal(await app.app.deliveryWorker.runOnce(2), 2)
  t.equal((await act(app, campaign.id, 'cancel')).json().status, 'cancelled')
  t.equal((await act(app, campaign.id, 'cancel')).json().status, 'cancelled', 'cancelling again changes nothing')
  await drain(app)
  t.equal(received().length, 2)
  t.match((await getCampaign(app, campaign.id)).counts, { sent: 2, cancelled: 3, queued: 0, progress: 1 })
  const resume = await act(app, campaign.id, 'resume')
  t.equal(resume.statusCode, 409)
  t.match(resume.json(), { code: 'campaign_transition_invalid', campaignStatus: 'cancelled' })
  t.equal((await act(app, campaign.id, 'start')).statusCode, 409)
})

t.test('past its send-by deadline nothing more leaves; what is left is expired', async (t) => {
  const { app, list, received } = await setUp(4)
  const notAfter = new Date(app.clock.now().getTime() + 60 * 60_000).toISOString()
  const campaign = await createCampaign(app, { listId: list.id, notAfter })
  await act(app, campaign.id, 'start')
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, LEASE_MS)
  t.equal(await app.app.deliveryWorker.runOnce(1), 1)
  app.clock.advance(2 * 60 * 60_000)
  await drain(app)
  t.equal(received().length, 1)
  const after = await getCampaign(app, campaign.id)
  t.match(after, { status: 'finished', counts: { sent: 1, expired: 3, queued: 0 } })
})

t.test('retry-failed tries each failed message once more, never twice', async (t) => {
  const { app, sink, list, received } = await setUp(3)
  const campaign = await createCampaign(app, { listId: list.id })
  await act(app, campaign.id, 'start')
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, LEASE_MS)
  // A policy refusal is about us, not the address: it fails without suppressing anyone.
  sink.rejectNext({ code: 550, message: '5.7.1 Message refused by policy' })
  await drain(app)
  t.match(await getCampaign(app, campaign.id), { status: 'finished', counts: { sent: 2, failed: 1 } })
  t.equal((await act(app, campaign.id, 'retry-failed')).json().status, 'sending')
  sink.rejectNext({ code: 550, message: '5.7.1 Message refused by policy' })
  await drain(app)
  t.match(await getCampaign(app, campaign.id), { status: 'finished', counts: { sent: 2, failed: 1 } })
  t.equal((await act(app, campaign.id, 'retry-failed')).json().status, 'finished', 'a message retried once is not retried again')
  await drain(app)
  t.equal(received().length, 2)
  t.equal(perRecipient(received()).size, 2)
})

t.test('a worker that dies handing a message over: it is sent again, marked and counted as a possible duplicate', async (t) => {
  const { app, list, received } = await setUp(2)
  const campaign = await createCampaign(app, { listId: list.id })
  await act(app, campaign.id, 'start')
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, LEASE_MS)
  const { db } = app.app
  const now = app.clock.now()
  const [taken] = await db.transaction((tx) =>
    claimDue(tx, { owner: 'dead', now, leaseUntil: new Date(now.getTime() + LEASE_MS), limit: 1, sendingCampaigns: app.app.services.campaigns.sendingCampaignIds() }),
  )
  await markHandedOver(db, taken!.messageId, 'dead', now)
  app.clock.advance(LEASE_MS + 1000)
  await drain(app)
  t.equal(received().length, 2)
  t.match((await getCampaign(app, campaign.id)).counts, { sent: 2, possibleDuplicates: 1 })
  const rows = (await app.as('staff')({ method: 'GET', url: `/v1/campaigns/${campaign.id}/recipients` })).json().items
  t.same(rows.map((r: { possibleDuplicate: boolean }) => r.possibleDuplicate).sort(), [false, true])
})

t.test('a scheduled campaign starts when its time has come', async (t) => {
  const { app, list, received } = await setUp(2)
  const scheduledAt = new Date(app.clock.now().getTime() + 30 * 60_000).toISOString()
  const campaign = await createCampaign(app, { listId: list.id, scheduledAt })
  t.equal((await act(app, campaign.id, 'start')).json().status, 'scheduled')
  t.same(await app.app.services.campaigns.startDue(systemActor), { started: 0 })
  await drain(app)
  t.equal(received().length, 0, 'nothing before its time')
  app.clock.advance(31 * 60_000)
  t.same(await app.app.services.campaigns.startDue(systemActor), { started: 1 })
  await drain(app)
  t.equal(received().length, 2)
})

t.test('what makes no sense is refused', async (t) => {
  const { app } = await sharedApp()
  const list = await createList(app, { kind: 'newsletter' })
  const course = await createList(app, { kind: 'marketing' })
  const draft = await createCampaign(app, { listId: list.id })
  const post = (payload: Record<string, unknown>) => app.as('staff')({ method: 'POST', url: '/v1/campaigns', payload: { name: 'x', template: 'newsletter', data: newsletterData, ...payload } })

  t.match((await act(app, draft.id, 'resume')).json(), { code: 'campaign_transition_invalid' })
  t.equal((await act(app, draft.id, 'retry-failed')).statusCode, 409)
  t.match((await post({ listId: course.id })).json(), { status: 422, code: 'template_kind_mismatch' })
  t.match((await post({ listId: list.id, data: {} })).json(), { status: 422, code: 'template_data_missing' })
  t.match((await post({ listId: list.id, notAfter: new Date(app.clock.now().getTime() - 1000).toISOString() })).json(), {
    status: 422,
    code: 'campaign_schedule_invalid',
  })
  t.match((await post({ listId: '0193a1c2-7d4e-7b8a-9c1d-2e3f4a5b6c7d' })).json(), { status: 404, code: 'list_not_found' })
  t.match((await post({ listId: list.id, template: 'no-such' })).json(), { status: 404, code: 'template_not_found' })
  t.equal((await post({ listId: list.id, extra: 1 })).statusCode, 400)
  const receipts = await createList(app, { kind: 'transactional', basis: 'contract' })
  t.match((await post({ listId: receipts.id })).json(), { status: 422, code: 'campaign_list_kind' })
  t.match((await app.as('staff')({ method: 'GET', url: '/v1/campaigns/0193a1c2-7d4e-7b8a-9c1d-2e3f4a5b6c7d' })).json(), {
    status: 404,
    code: 'campaign_not_found',
  })
  t.equal((await app.as('course-system')({ method: 'GET', url: `/v1/campaigns/${draft.id}` })).statusCode, 403)
  t.equal((await app.as('course-system')({ method: 'POST', url: `/v1/campaigns/${draft.id}/start` })).statusCode, 403)

  await app.as('admin')({ method: 'POST', url: `/v1/lists/${list.id}/archive` })
  const archived = await act(app, draft.id, 'start')
  t.match(archived.json(), { status: 409, code: 'list_archived' })
  t.equal((await getCampaign(app, draft.id)).status, 'draft', 'a refused start changes nothing')
  const page = (await app.as('staff')({ method: 'GET', url: '/v1/campaigns?status=draft' })).json()
  t.ok(page.items.some((c: { id: string }) => c.id === draft.id))
})
