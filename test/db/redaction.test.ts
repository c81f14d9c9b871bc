// Records that erasure can redact: the append-only tables allow exactly one
// kind of change — their personal columns set to null — and refuse every
// other change, deletion and truncation. The keyed address hash stays, so the
// proof still names the address. Runs on PGlite and on PostgreSQL alike.
import { sql, type SQL } from 'drizzle-orm'
import t from 'tap'
import { storedAddressHash } from '../../src/lib/email.js'
import { consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { auditTrail, build, failureOf, PEPPER, type TestApp } from '../helper.js'
import { newId } from '../../src/lib/ids.js'

async function rows<T>(app: TestApp, query: SQL): Promise<T[]> {
  const result = (await app.app.db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}

t.test('redactable records', async (t) => {
  const app = await build(t)
  const db = app.app.db

  /** A person with a history in every record: consent events, audit values, a suppression, a ledger row. */
  async function personWithHistory() {
    const email = uniqueEmail('redact')
    const contact = await createContact(app, { email, name: 'Kari Nordmann', phone: '+47 900 00 000' })
    const news = await createList(app, { kind: 'newsletter' })
    await subscribe(app, news.id, { contactId: contact.id, source: 'form', evidence: 'form 7', consent: consentPayload() })
    await app.as('staff')({ method: 'POST', url: '/v1/suppressions', payload: { contactId: contact.id, scope: 'global', reason: 'manual', note: 'called in' } })
    const receipts = await createList(app, { kind: 'transactional' })
    await app.app.services.ledger.recordSendDecision({ messageId: newId(), stage: 'enqueue', contactId: contact.id, kind: 'transactional', listId: receipts.id })
    return { email, contact, news }
  }

  t.test('a consent event lets its personal columns be set to null, and nothing else change', async (t) => {
    const { contact } = await personWithHistory()
    const [event] = await rows<{ id: string }>(app, sql`select id from consent_events where contact_id = ${contact.id} and ip is not null`)
    const where = sql`where id = ${event!.id}`
    for (const [change, label] of [
      [sql`set ip = '198.51.100.1'`, 'another IP'],
      [sql`set user_agent = 'forged'`, 'another user agent'],
      [sql`set purpose = 'other'`, 'the purpose'],
      [sql`set type = 'withdrawn'`, 'the type'],
      [sql`set occurred_at = now()`, 'the time'],
      [sql`set address_hash = null`, 'the address hash (the proof)'],
      [sql`set notice_id = null`, 'the notice'],
    ] as const) {
      t.match(await failureOf(db.execute(sql`update consent_events ${change} ${where}`)), /append-only: UPDATE refused/, `${label} refused`)
    }
    t.match(await failureOf(db.execute(sql`delete from consent_events ${where}`)), /append-only: DELETE refused/)
    t.match(await failureOf(db.execute(sql`truncate consent_events`)), /append-only: TRUNCATE refused|cannot truncate/)
    t.equal(await failureOf(db.execute(sql`update consent_events set contact_id = null, ip = null, user_agent = null, evidence = null ${where}`)), 'no error', 'redaction is allowed')
    const [after] = await rows<Record<string, unknown>>(app, sql`select contact_id, ip, user_agent, evidence, address_hash, purpose from consent_events ${where}`)
    t.match(after, { contact_id: null, ip: null, user_agent: null, evidence: null, address_hash: storedAddressHash(contact.email, PEPPER) }, 'the keyed hash remains as the proof')
    t.match(await failureOf(db.execute(sql`update consent_events set ip = '192.0.2.10' ${where}`)), /append-only/, 'a redacted value does not come back')
  })

  t.test('an audit entry names the fields; the values sit beside it and only redaction touches them', async (t) => {
    const { contact } = await personWithHistory()
    const [entry] = await rows<{ id: string; changed_fields: string[] }>(
      app,
      sql`select id, changed_fields from audit_events where entity_type = 'contact' and entity_id = ${contact.id} and action = 'contact.created'`,
    )
    t.match(entry!.changed_fields, ['name', 'phone'])
    const [raw] = await rows<{ entry: string }>(app, sql`select row_to_json(a)::text as entry from audit_events a where id = ${entry!.id}`)
    t.notMatch(raw!.entry, /Kari|900 00 000|@/, 'the entry itself holds no personal value')
    const where = sql`where audit_event_id = ${entry!.id}`
    t.match(await failureOf(db.execute(sql`update audit_personal_values set changes = '{}'::jsonb ${where}`)), /append-only: UPDATE refused/)
    t.match(await failureOf(db.execute(sql`delete from audit_personal_values ${where}`)), /append-only: DELETE refused/)
    t.match(await failureOf(db.execute(sql`update audit_events set changed_fields = '{}' where id = ${entry!.id}`)), /append-only: UPDATE refused/)
    t.equal(await failureOf(db.execute(sql`update audit_personal_values set changes = null, contact_id = null ${where}`)), 'no error')
    const [trailEntry] = (await auditTrail(app, 'contact', contact.id)).filter((e) => e.id === entry!.id)
    t.match(trailEntry, { action: 'contact.created', changedFields: ['name', 'phone'], changes: null }, 'who did what, when, stays; the values are gone')
  })

  t.test('suppressions and the send ledger let the contact (and a suppression its note) go to null, nothing else', async (t) => {
    const { contact } = await personWithHistory()
    t.equal(await failureOf(db.execute(sql`update suppressions set note = null, contact_id = null where contact_id = ${contact.id}`)), 'no error')
    t.equal(await failureOf(db.execute(sql`update send_ledger set contact_id = null where contact_id = ${contact.id}`)), 'no error')
    t.match(await failureOf(db.execute(sql`update suppressions set note = 'x' where address_hash = ${storedAddressHash(contact.email, PEPPER)}`)), /redacted to null/)
  })

  t.test('once its mutable rows are gone, a contact can be deleted and every record keeps its proof', async (t) => {
    const { contact, email } = await personWithHistory()
    await putCourse(app, 'REDACT-C1')
    await putEnrollment(app, 'REDACT-E1', { courseId: 'REDACT-C1', contact: { email } })
    // What an erasure will do to the rows that are not records (the erasure issue builds the flow).
    await db.execute(sql`delete from deferred_unsubscribes where contact_id = ${contact.id}`)
    await db.execute(sql`delete from subscriptions where contact_id = ${contact.id}`)
    await db.execute(sql`delete from enrollments where contact_id = ${contact.id}`)
    t.equal(await failureOf(db.execute(sql`delete from contacts where id = ${contact.id}`)), 'no error', 'the records do not hold the contact back')
    const hash = storedAddressHash(email, PEPPER)
    const [counts] = await rows<{ consent_events: number; suppressions: number; ledger: number; still_linked: number }>(
      app,
      sql`select
        (select count(*)::int from consent_events where address_hash = ${hash} and contact_id is null) as consent_events,
        (select count(*)::int from suppressions where address_hash = ${hash} and contact_id is null) as suppressions,
        (select count(*)::int from send_ledger where address_hash = ${hash} and contact_id is null) as ledger,
        (select count(*)::int from consent_events where contact_id = ${contact.id}) as still_linked`,
    )
    t.ok(counts!.consent_events >= 1 && counts!.suppressions === 1 && counts!.ledger === 1, `the records remain, keyed by the address hash (${JSON.stringify(counts)})`)
    t.equal(counts!.still_linked, 0)
  })
})
