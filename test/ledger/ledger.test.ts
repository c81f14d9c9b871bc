// The send ledger: recordSendDecision (what the send path calls) writes one
// immutable row per decision; GET /v1/ledger reads them back, filtered and
// paged; the database itself refuses to rewrite or delete a decision.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'
import type { Queryable } from '../../db/client.js'
import { newId } from '../../src/lib/ids.js'
import type { SendDecisionInput } from '../../src/ledger/service.js'
import type { LedgerRow } from '../../src/ledger/queries.js'
import type { DecisionStage } from '../../src/vocabulary.js'

const CAMPAIGN = '11111111-1111-4111-8111-111111111111'
const OTHER_CAMPAIGN = '22222222-2222-4222-8222-222222222222'

const ledgerOf = (app: TestApp) => app.app.services.ledger

/** Message ids are uuids; the tests name them by label. */
const messageIds = new Map<string, string>()
const mid = (label: string) => messageIds.get(label) ?? messageIds.set(label, newId()).get(label)!
const labelOf = (id: string) => [...messageIds].find(([, v]) => v === id)?.[0] ?? id
const labels = (items: { messageId: string }[]) => items.map((r) => labelOf(r.messageId))

/** Records a decision at enqueue (unless told another stage) for the message labelled `messageId`; returns the row. */
async function record(app: TestApp, input: Omit<SendDecisionInput, 'stage'> & { stage?: DecisionStage }, tx?: Queryable): Promise<LedgerRow> {
  const { row } = await ledgerOf(app).recordSendDecision({ stage: 'enqueue', ...input, messageId: mid(input.messageId) }, tx)
  return row
}
const readLedger = (app: TestApp, query = '') => app.as('staff')({ method: 'GET', url: `/v1/ledger${query}` })

/** A newsletter list with one consenting subscriber and one contact who is not on it. */
async function newsletterSetup(app: TestApp) {
  const list = await createList(app, { kind: 'newsletter' })
  const subscriber = await createContact(app)
  const outsider = await createContact(app)
  await subscribe(app, list.id, { contactId: subscriber.id, source: 'form', consent: consentPayload() })
  const grant = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${subscriber.id}/consents` })).json().items[0]
  return { list, subscriber, outsider, grant }
}

t.test('send ledger', async (t) => {
  const app = await build(t)

  t.test('an allowed decision is recorded queued, with its basis and evidence; a blocked one skipped, with its reason', async (t) => {
    const { list, subscriber, outsider, grant } = await newsletterSetup(app)
    const allowed = await record(app, {
      messageId: 'msg-1',
      contactId: subscriber.id,
      kind: 'newsletter',
      listId: list.id,
      campaignId: CAMPAIGN,
      templateVersion: 'spring-letter@3',
    })
    t.match(allowed, {
      messageId: mid('msg-1'),
      stage: 'enqueue',
      contactId: subscriber.id,
      kind: 'newsletter',
      listId: list.id,
      campaignId: CAMPAIGN,
      templateVersion: 'spring-letter@3',
      decision: 'allowed',
      basis: 'consent',
      evidenceType: 'consent_event',
      evidenceId: grant.id,
      reason: null,
      decidedAt: app.clock.now(),
    })
    t.match(allowed.addressHash, /^[0-9a-f]{64}$/)

    const firstAt = app.clock.now()
    app.clock.advance(1000)
    const blocked = await record(app, { messageId: 'msg-2', email: outsider.email, kind: 'newsletter', listId: list.id, campaignId: CAMPAIGN })
    t.match(blocked, {
      contactId: outsider.id,
      decision: 'blocked',
      basis: null,
      evidenceType: null,
      evidenceId: null,
      reason: 'not_subscribed',
    })

    const res = await readLedger(app, `?listId=${list.id}`)
    t.equal(res.statusCode, 200)
    t.same(labels(res.json().items), ['msg-1', 'msg-2'])
    t.match(res.json().items[0], { decision: 'allowed', evidenceId: grant.id, decidedAt: firstAt.toISOString() })
  })

  t.test('a blocked decision keeps the row that blocks as evidence, and an address with no contact is recorded by its hash alone', async (t) => {
    const receipts = await createList(app, { kind: 'transactional' })
    const email = uniqueEmail('bounced')
    const bounce = (await app.as('staff')({ method: 'POST', url: '/v1/suppressions', payload: { email, scope: 'all-mail', reason: 'bounce' } })).json()
    const row = await record(app, { messageId: 'receipt-1', email, kind: 'transactional', listId: receipts.id })
    t.match(row, {
      contactId: null,
      addressHash: bounce.addressHash,
      decision: 'blocked',
      reason: 'hard_bounce',
      evidenceType: 'suppression',
      evidenceId: bounce.id,
    })
  })

  t.test('course mail is recorded with the course and the course list', async (t) => {
    const course = await putCourse(app, 'yoga-201')
    const enrollment = (await putEnrollment(app, 'enr-201', { courseId: 'yoga-201', contact: { email: uniqueEmail() } })).json()
    const row = await record(app, { messageId: 'course-1', contactId: enrollment.contactId, kind: 'course', courseId: 'yoga-201' })
    t.match(row, { decision: 'allowed', basis: 'contract', evidenceType: 'enrollment', evidenceId: 'enr-201', courseId: 'yoga-201', listId: course.listId })
  })

  t.test('a message has one decision when queued (a second is a conflict and changes nothing) and one per delivery attempt', async (t) => {
    const { list, subscriber, outsider } = await newsletterSetup(app)
    await record(app, { messageId: 'msg-dup', contactId: subscriber.id, kind: 'newsletter', listId: list.id })
    await t.rejects(
      record(app, { messageId: 'msg-dup', contactId: outsider.id, kind: 'newsletter', listId: list.id }),
      { status: 409, code: 'message_id_taken' },
    )
    app.clock.advance(1000)
    const atDelivery = await record(app, { messageId: 'msg-dup', stage: 'delivery', contactId: subscriber.id, kind: 'newsletter', listId: list.id })
    t.match(atDelivery, { stage: 'delivery', decision: 'allowed' })
    app.clock.advance(1000)
    await record(app, { messageId: 'msg-dup', stage: 'delivery', contactId: subscriber.id, kind: 'newsletter', listId: list.id })
    const items = (await readLedger(app, `?listId=${list.id}`)).json().items
    t.same(items.map((r: { messageId: string; stage: string; contactId: string }) => [labelOf(r.messageId), r.stage, r.contactId]), [
      ['msg-dup', 'enqueue', subscriber.id],
      ['msg-dup', 'delivery', subscriber.id],
      ['msg-dup', 'delivery', subscriber.id],
    ], 'the first decision stands; the delivery decision sits beside it')
    t.same(labels((await readLedger(app, `?listId=${list.id}&stage=delivery`)).json().items), ['msg-dup', 'msg-dup'])
  })

  t.test('a request the decision refuses writes no row', async (t) => {
    const { subscriber } = await newsletterSetup(app)
    // Rows of other cases share the ledger: any row this case wrote would be decided from now on.
    app.clock.advance(1000)
    const since = encodeURIComponent(app.clock.now().toISOString())
    await t.rejects(record(app, { messageId: 'msg-x', contactId: subscriber.id, kind: 'newsletter' }), { status: 422, code: 'list_required' })
    await t.rejects(
      record(app, { messageId: 'msg-y', contactId: '00000000-0000-4000-8000-000000000000', kind: 'course', courseId: 'c' }),
      { status: 404, code: 'contact_not_found' },
    )
    t.same((await readLedger(app, `?from=${since}`)).json().items, [])
  })

  t.test("inside the caller's transaction the row commits with it, or not at all", async (t) => {
    const { list, subscriber } = await newsletterSetup(app)
    const db = app.app.db
    const row = await db.transaction((tx) => record(app, { messageId: 'in-tx', contactId: subscriber.id, kind: 'newsletter', listId: list.id }, tx))
    t.equal(row.decision, 'allowed')
    await t.rejects(
      db.transaction(async (tx) => {
        await record(app, { messageId: 'rolled-back', contactId: subscriber.id, kind: 'newsletter', listId: list.id }, tx)
        throw new Error('the send failed')
      }),
      /the send failed/,
    )
    t.same(labels((await readLedger(app, `?listId=${list.id}`)).json().items), ['in-tx'])
  })

  t.test('the ledger is filtered by contact, campaign, list, decision and time, and paged in decision order', async (t) => {
    // Its own app: what every filter and page returns is asserted of the whole ledger.
    const app = await build(t)
    const { list, subscriber, outsider } = await newsletterSetup(app)
    const other = await createList(app, { kind: 'newsletter' })
    const start = app.clock.now()
    const decideAt = async (messageId: string, contactId: string, listId: string, campaignId?: string) => {
      app.clock.advance(60_000)
      return record(app, { messageId, contactId, kind: 'newsletter', listId, campaignId })
    }
    await decideAt('m1', subscriber.id, list.id, CAMPAIGN) // allowed
    await decideAt('m2', outsider.id, list.id, CAMPAIGN) // blocked
    await decideAt('m3', subscriber.id, other.id, OTHER_CAMPAIGN) // blocked: not on that list
    await decideAt('m4', subscriber.id, list.id) // allowed
    await decideAt('m5', outsider.id, other.id) // blocked
    const ids = async (query: string) => {
      const res = await readLedger(app, query)
      t.equal(res.statusCode, 200, query)
      return labels(res.json().items)
    }
    const at = (minutes: number) => encodeURIComponent(new Date(start.getTime() + minutes * 60_000).toISOString())

    t.same(await ids(''), ['m1', 'm2', 'm3', 'm4', 'm5'])
    t.same(await ids(`?contactId=${subscriber.id}`), ['m1', 'm3', 'm4'])
    t.same(await ids(`?campaignId=${CAMPAIGN}`), ['m1', 'm2'])
    t.same(await ids(`?listId=${other.id}`), ['m3', 'm5'])
    t.same(await ids('?decision=allowed'), ['m1', 'm4'])
    t.same(await ids(`?decision=blocked&contactId=${subscriber.id}`), ['m3'])
    t.same(await ids(`?from=${at(2)}&to=${at(4)}`), ['m2', 'm3'], 'from is inclusive, to exclusive')
    t.same(await ids(`?from=${at(4)}`), ['m4', 'm5'])
    t.same(await ids(`?to=${at(2)}`), ['m1'])
    t.same(await ids(`?from=${at(3)}&to=${at(3)}`), [], 'an empty range is allowed')

    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await readLedger(app, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      t.equal(res.statusCode, 200)
      seen.push(...labels(res.json().items))
      cursor = res.json().nextCursor
      pages++
    } while (cursor)
    t.same(seen, ['m1', 'm2', 'm3', 'm4', 'm5'], 'pages follow one another without gaps or repeats')
    t.equal(pages, 3)
    t.same(await ids(`?decision=blocked&limit=1&cursor=${(await readLedger(app, '?decision=blocked&limit=1')).json().nextCursor}`), ['m3'])
  })

  t.test('bad ledger queries are refused: from after to, a foreign cursor, unknown parameters', async (t) => {
    const backwards = await readLedger(app, '?from=2026-03-02T10:00:00Z&to=2026-03-02T09:00:00Z')
    t.equal(backwards.statusCode, 400)
    t.equal(backwards.json().code, 'invalid_range')
    t.equal(backwards.json().errors[0].field, 'querystring.from')
    for (const query of ['?cursor=bm90LWEtY3Vyc29y', '?from=yesterday', '?decision=maybe', '?contactId=abc', '?limit=0', '?limit=201', '?kind=course']) {
      const res = await readLedger(app, query)
      t.equal(res.statusCode, 400, query)
      t.match(res.headers['content-type'], /^application\/problem\+json/)
    }
  })

  t.test('only staff and admins read the ledger', async (t) => {
    t.equal((await app.as('admin')({ method: 'GET', url: '/v1/ledger' })).statusCode, 200)
    t.equal((await app.as('course-system')({ method: 'GET', url: '/v1/ledger' })).statusCode, 403)
    t.equal((await app.as(null)({ method: 'GET', url: '/v1/ledger' })).statusCode, 401)
  })

  t.test('the database refuses to rewrite or delete a decision; erasure alone may clear the contact', async (t) => {
    const { list, subscriber } = await newsletterSetup(app)
    const row = await record(app, { messageId: 'proof-1', contactId: subscriber.id, kind: 'newsletter', listId: list.id })
    const db = app.app.db
    await t.rejects(db.execute(sql`update send_ledger set decision = 'blocked', basis = null, reason = 'manual_block'`), 'the outcome cannot change')
    await t.rejects(db.execute(sql`update send_ledger set evidence_id = 'forged'`), 'the evidence cannot change')
    await t.rejects(db.execute(sql`update send_ledger set decided_at = now()`), 'the time cannot change')
    await t.rejects(db.execute(sql`delete from send_ledger`), 'rows are never deleted')
    await t.rejects(db.execute(sql`truncate send_ledger`), 'nor truncated')
    await t.rejects(db.execute(sql`update send_ledger set stage = 'delivery' where id = ${row.id}`), 'the stage cannot change')

    await db.execute(sql`update send_ledger set contact_id = null where id = ${row.id}`)
    const [after] = (await readLedger(app, `?listId=${list.id}`)).json().items
    t.match(after, { id: row.id, contactId: null, decision: 'allowed', evidenceId: row.evidenceId, addressHash: row.addressHash })
  })
})
