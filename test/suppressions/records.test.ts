// Suppressions are honest records: written once however often (and however
// concurrently) they are asked for, lifted only when staff or the system
// decided them, and guarded by the database against deletion and rewriting.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { askDecision, consentPayload, createContact, createList, subscribe, uniqueEmail } from '../factories.js'
import { build, failureOf } from '../helper.js'
import { newId } from '../../src/lib/ids.js'

const post = (payload: Record<string, unknown>) => ({ method: 'POST' as const, url: '/v1/suppressions', payload })

t.test('suppression records', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')
  const admin = app.as('admin')
  const lift = (id: string) => admin({ method: 'POST', url: `/v1/suppressions/${id}/lift`, payload: { reason: 'we decided so' } })

  t.test('twenty identical suppressions sent at once make one row; the first answers 201, the rest 200 with it', async (t) => {
    const email = uniqueEmail('race')
    const answers = await Promise.all(Array.from({ length: 20 }, () => staff(post({ email, scope: 'global', reason: 'complaint' }))))
    const statuses = answers.map((r) => r.statusCode).sort()
    t.equal(statuses.filter((s) => s === 201).length, 1, 'one 201')
    t.equal(statuses.filter((s) => s === 200).length, 19, 'nineteen 200s')
    t.equal(new Set(answers.map((r) => r.json().id)).size, 1, 'every answer names the same row')
    const rows = (await staff({ method: 'GET', url: `/v1/suppressions?email=${email}` })).json().items
    t.equal(rows.length, 1, 'one row in the database')
  })

  t.test('a longer-lasting repeat is a new row; a shorter one is covered by the row in force', async (t) => {
    const email = uniqueEmail('expiry')
    const inDays = (days: number) => new Date(app.clock.now().getTime() + days * 86_400_000).toISOString()
    const week = await staff(post({ email, scope: 'global', reason: 'manual', expiresAt: inDays(7) }))
    t.equal(week.statusCode, 201)
    const day = await staff(post({ email, scope: 'global', reason: 'manual', expiresAt: inDays(1) }))
    t.equal(day.statusCode, 200, 'a day is covered by the week')
    t.equal(day.json().id, week.json().id)
    const forever = await staff(post({ email, scope: 'global', reason: 'manual' }))
    t.equal(forever.statusCode, 201, 'no expiry reaches further than a week')
    t.equal((await staff(post({ email, scope: 'global', reason: 'manual', expiresAt: inDays(30) }))).json().id, forever.json().id)
  })

  t.test('what the person said is never lifted by staff; only what staff or the system decided', async (t) => {
    const contact = await createContact(app)
    for (const [reason, scope] of [['unsubscribe', 'global'], ['objection', 'purpose'], ['complaint', 'global']] as const) {
      const s = (await staff(post({ contactId: contact.id, scope, reason, ...(scope === 'purpose' ? { purpose: 'marketing' } : {}) }))).json()
      const res = await lift(s.id)
      t.equal(res.statusCode, 409, reason)
      t.equal(res.json().code, 'suppression_not_liftable')
    }
    for (const [reason, scope] of [['manual', 'global'], ['bounce', 'all-mail']] as const) {
      const s = (await staff(post({ contactId: contact.id, scope, reason }))).json()
      t.equal((await lift(s.id)).statusCode, 200, `${reason} is lifted`)
    }
  })

  t.test('after an unsubscribe-all an admin cannot open marketing again; only the person can', async (t) => {
    const contact = await createContact(app)
    const offers = await createList(app, { kind: 'marketing' })
    await subscribe(app, offers.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    const all = await staff({ method: 'POST', url: `/v1/contacts/${contact.id}/unsubscribe-all`, payload: { source: 'link' } })
    t.equal(all.statusCode, 200)
    t.equal((await lift(all.json().suppressionId)).json().code, 'suppression_not_liftable')
    const ask = () => askDecision(app, { contactId: contact.id, kind: 'marketing', listId: offers.id })
    t.match(await ask(), { allowed: false, reason: 'unsubscribed' })

    app.clock.advance(60_000)
    const byStaff = await subscribe(app, offers.id, { contactId: contact.id, source: 'staff', consent: consentPayload() })
    t.equal(byStaff.statusCode, 409, 'a consent staff write down does not subscribe them again')
    t.equal(byStaff.json().code, 'explicit_consent_required')
    t.match(await ask(), { allowed: false, reason: 'unsubscribed' })

    const own = await subscribe(app, offers.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    t.equal(own.statusCode, 201)
    t.match(await ask(), { allowed: true, basis: 'consent' }, "the person's own new consent reopens the list")
  })

  t.test('the database refuses to delete a suppression or rewrite it, and lets it be lifted once', async (t) => {
    const contact = await createContact(app)
    const other = await createContact(app)
    const s = (await staff(post({ contactId: contact.id, scope: 'global', reason: 'manual', note: 'by hand' }))).json()
    const db = app.app.db
    t.match(await failureOf(db.execute(sql`delete from suppressions where id = ${s.id}`)), /never deleted/)
    t.match(await failureOf(db.execute(sql`truncate suppressions`)), /append-only: TRUNCATE refused/)
    for (const [column, value] of [['reason', 'complaint'], ['scope', 'list'], ['created_by_id', 'someone'], ['address_hash', 'x']]) {
      t.match(await failureOf(db.execute(sql.raw(`update suppressions set ${column} = '${value}' where id = '${s.id}'`))), /never rewritten|violates/, `${column} refused`)
    }
    t.match(await failureOf(db.execute(sql`update suppressions set note = 'another story' where id = ${s.id}`)), /may only be redacted to null/)
    t.match(await failureOf(db.execute(sql`update suppressions set contact_id = ${other.id} where id = ${s.id}`)), /never moves to another contact/)
    t.equal(await failureOf(db.execute(sql`update suppressions set lifted_at = now(), lifted_by_id = 'admin', lift_reason = 'ok' where id = ${s.id}`)), 'no error', 'the lift columns are set')
    t.match(await failureOf(db.execute(sql`update suppressions set lift_reason = 'another story' where id = ${s.id}`)), /lifted once/)
    t.equal(await failureOf(db.execute(sql`update suppressions set contact_id = null where id = ${s.id}`)), 'no error', 'contact_id may become null (erasure)')
  })

  t.test('a send_ledger row never moves to another contact; its contact may only become null', async (t) => {
    const contact = await createContact(app)
    const other = await createContact(app)
    const list = await createList(app, { kind: 'transactional' })
    const { row } = await app.app.services.ledger.recordSendDecision({ messageId: newId(), stage: 'enqueue', contactId: contact.id, kind: 'transactional', listId: list.id })
    const db = app.app.db
    t.match(await failureOf(db.execute(sql`update send_ledger set contact_id = ${other.id} where id = ${row.id}`)), /only redaction, setting contact_id to null, is allowed; contact_id would change/)
    t.equal(await failureOf(db.execute(sql`update send_ledger set contact_id = null where id = ${row.id}`)), 'no error')
    t.match(await failureOf(db.execute(sql`update send_ledger set reason = 'complaint' where id = ${row.id}`)), /reason would change/)
    t.match(await failureOf(db.execute(sql`update send_ledger set evidence_type = 'not-a-type' where id = ${row.id}`)), /invalid input value for enum/, 'evidence_type is a closed set')
  })
})
