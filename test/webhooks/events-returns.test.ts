// Webhook events of what comes back and what ends (issue 29): bounces and
// complaints matched to a message, a campaign finished or cancelled, an
// import's grants, and an erasure — announced with no personal data, and
// leaving no address anywhere in the outbox. The other events: events.test.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { consentPayload, createContact, createList, subscribe, uniqueEmail } from '../factories.js'
import { build } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { arfFor, deliveredNewsletter, dsnFor, returnsConfig } from '../returns/reports.js'
import { importCsv, importWorld } from '../imports/support.js'
import { systemActor } from '../../src/lib/actor.js'
import { listWebhookEvents } from '../../src/webhooks/queries.js'
import { checkPayloads, markOutbox, only, typesOf } from './outbox.js'

t.test('webhook events of returns, campaigns, imports and erasure', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const importDir = mkdtempSync(join(tmpdir(), 'samtykke-webhook-imports-'))
  t.teardown(() => rmSync(importDir, { recursive: true, force: true }))
  const app = await build(t, { config: { smtpUrl: sink.url, importDir, returns: returnsConfig({ rateMinimum: 1000 }) } })
  const staff = app.as('staff')
  const admin = app.as('admin')
  const post = (kind: 'dsn' | 'arf', body: string) =>
    app.as('provider')({ method: 'POST', url: `/v1/events/${kind}`, headers: { 'content-type': 'message/rfc822' }, payload: body })
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })

  t.test('a hard bounce is message.bounced (hard) beside its all-mail suppression; a soft one message.bounced (soft)', async (t) => {
    const hard = await deliveredNewsletter(app, list.id)
    const since = await markOutbox(app)
    t.equal((await post('dsn', dsnFor({ headerMessageId: hard.headerMessageId, recipient: hard.email, status: '5.1.1' }))).statusCode, 200)
    const events = await since()
    t.same(typesOf(events), ['suppression.added', 'message.bounced'])
    t.match(events[0], { contactId: hard.contactId, email: hard.email, data: { scope: 'all-mail', reason: 'bounce' } })
    t.match(events[1], { contactId: hard.contactId, email: hard.email, data: { messageId: hard.messageId, campaignId: null, bounceType: 'hard', status: '5.1.1' } })
    checkPayloads(t, events)

    const soft = await deliveredNewsletter(app, list.id)
    const later = await markOutbox(app)
    const dsn = dsnFor({ headerMessageId: soft.headerMessageId, recipient: soft.email, status: '4.2.2', action: 'delayed' })
    t.equal((await post('dsn', dsn)).statusCode, 200)
    const softEvents = await later()
    t.same(typesOf(softEvents), ['message.bounced'])
    t.match(softEvents[0], { contactId: soft.contactId, data: { messageId: soft.messageId, bounceType: 'soft', status: '4.2.2' } })
    checkPayloads(t, softEvents)
    const again = await markOutbox(app)
    t.match((await post('dsn', dsn)).json().results, [{ outcome: 'duplicate' }])
    t.same(await again(), [], 'the same report again announces nothing')
  })

  t.test('a complaint is message.complained, with the global suppression and the objection it records', async (t) => {
    const person = await deliveredNewsletter(app, list.id)
    const since = await markOutbox(app)
    t.equal((await post('arf', arfFor({ headerMessageId: person.headerMessageId, recipient: person.email }))).statusCode, 200)
    const events = await since()
    t.same(typesOf(events), ['suppression.added', 'objection.recorded', 'message.complained'])
    t.match(events[0], { contactId: person.contactId, email: person.email, data: { scope: 'global', reason: 'complaint' } })
    t.match(events[1], { contactId: person.contactId, data: { purpose: 'marketing', source: 'complaint' } })
    t.match(events[2], { contactId: person.contactId, email: person.email, data: { messageId: person.messageId, campaignId: null } })
    checkPayloads(t, events)
  })

  t.test('a campaign that finishes, and one cancelled, are campaign.finished about no one', async (t) => {
    const campaignList = await createList(app, { kind: 'newsletter', name: 'Kampanje' })
    const member = await createContact(app)
    await subscribe(app, campaignList.id, { contactId: member.id, source: 'form', consent: consentPayload() })
    const create = async () => {
      const res = await staff({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Desember', template: 'newsletter', listId: campaignList.id, data: { headline: 'Nye kurs', body: 'Åpen.' } } })
      if (res.statusCode !== 201) throw new Error(`campaign: ${res.statusCode} ${res.body}`)
      return res.json() as { id: string }
    }
    const sent = await create()
    const since = await markOutbox(app)
    t.equal((await staff({ method: 'POST', url: `/v1/campaigns/${sent.id}/start` })).statusCode, 200)
    while ((await app.app.deliveryWorker.work()) > 0) {}
    t.equal((await staff({ method: 'GET', url: `/v1/campaigns/${sent.id}` })).json().status, 'finished')
    const cancelled = await create()
    t.equal((await staff({ method: 'POST', url: `/v1/campaigns/${cancelled.id}/cancel` })).statusCode, 200)
    await staff({ method: 'POST', url: `/v1/campaigns/${cancelled.id}/cancel` })
    const events = (await since()).filter((e) => e.type === 'campaign.finished')
    t.same(
      events.map((e) => ({ contactId: e.contactId, email: e.email, data: e.data })),
      [
        { contactId: null, email: null, data: { campaignId: sent.id, status: 'finished' } },
        { contactId: null, email: null, data: { campaignId: cancelled.id, status: 'cancelled' } },
      ],
      'each end once; cancelling again changes nothing',
    )
    checkPayloads(t, events)
  })

  t.test('an import’s grants are consent.granted with source import, announced as of the import (the ledger keeps the file’s time)', async (t) => {
    const { list: imported } = await importWorld(app)
    const email = uniqueEmail('imported')
    const since = await markOutbox(app)
    const report = await importCsv(app, `email,subscribed_at\n${email},2024-03-01\n`, { list: imported.slug })
    t.match(report.import, { status: 'completed', rowsApplied: 1 })
    const events = await since()
    t.same(typesOf(events), ['consent.granted'])
    t.match(events[0], { email, data: { listId: imported.id, source: 'import' } })
    t.equal(events[0]!.occurredAt.toISOString(), app.clock.now().toISOString(), 'its deliveries get their three days of retries from now')
    const history = (await staff({ method: 'GET', url: `/v1/contacts/${events[0]!.contactId}/consents` })).json().items
    t.match(history.at(-1), { id: (events[0]!.data as { consentEventId: string }).consentEventId, occurredAt: /^2024-03-01/ }, 'the event names the grant, dated as the file says')
    checkPayloads(t, events)
  })

  t.test('an erasure is contact.erased with no personal data, and leaves no address in the outbox', async (t) => {
    const person = await deliveredNewsletter(app, list.id)
    await staff({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${person.contactId}/unsubscribe`, payload: { source: 'staff' } })
    const request = (await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'erasure', channel: 'email', contactId: person.contactId } })).json()
    const before = await listWebhookEvents(app.app.db, { contactId: person.contactId })
    t.ok(before.length >= 4 && before.every((e) => e.email === person.email), 'the person’s events kept their address for endpoints allowed it')
    const exported = (await staff({ method: 'GET', url: `/v1/contacts/${person.contactId}/export` })).json()
    t.same(exported.webhookEvents.map((e: { type: string }) => e.type), typesOf(before), 'the access export lists them')

    // Rolled back: nothing of the erasure is announced, nothing forgotten.
    const rolledBack = await markOutbox(app)
    await app.app.db
      .transaction(async (tx) => {
        await app.app.services.erasure.eraseIn(tx, person.contactId, { requestId: request.id }, systemActor)
        throw new Error('rolled back')
      })
      .catch(() => {})
    t.same(await rolledBack(), [])
    t.ok((await listWebhookEvents(app.app.db, { contactId: person.contactId })).every((e) => e.email === person.email))

    const since = await markOutbox(app)
    const res = await admin({ method: 'POST', url: `/v1/contacts/${person.contactId}/erase`, payload: { requestId: request.id } })
    t.equal(res.statusCode, 200, res.body)
    const events = await since()
    t.same(typesOf(events), ['suppression.added', 'request.completed', 'contact.erased'])
    t.same(
      { contactId: events.at(-1)!.contactId, email: events.at(-1)!.email, data: events.at(-1)!.data },
      { contactId: person.contactId, email: null, data: { requestId: request.id } },
    )
    t.match(only(t, events, 'suppression.added'), { contactId: null, email: null, data: { reason: 'erasure', scope: 'global' } })
    checkPayloads(t, events)
    const everything = await listWebhookEvents(app.app.db)
    t.notOk(JSON.stringify(everything).includes(person.email), 'the address is nowhere in the outbox')
    t.ok((await listWebhookEvents(app.app.db, { contactId: person.contactId })).length > before.length, 'the events stay, by contact id')
  })
})
