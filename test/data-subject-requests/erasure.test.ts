// Erasure: refused during a running course (and scheduled for its end), then
// carried out — after which no text or JSON column of any table, the job
// queue's included, holds the person's address, name, phone, IP or user agent
// in clear text, while the proof stays under the keyed address hash and the
// sales records stay for bookkeeping. Idempotent.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { selectRows } from '../../db/client.js'
import { systemActor } from '../../src/lib/actor.js'
import { storedAddressHash } from '../../src/lib/email.js'
import { askDecision, createList } from '../factories.js'
import { build, PEPPER, type TestApp } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { personEverywhere, type Person } from './person.js'

const DAY = 24 * 60 * 60 * 1000

/** Every place (schema.table.column) whose text holds one of the needles, searching every text, varchar, json, jsonb and array column of every table. */
async function clearTextHits(app: TestApp, needles: string[]): Promise<string[]> {
  const columns = await selectRows<{ table_schema: string; table_name: string; column_name: string }>(
    app.app.db,
    sql`select c.table_schema, c.table_name, c.column_name
        from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
        where c.table_schema not in ('pg_catalog', 'information_schema')
          and (c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb') or c.data_type = 'ARRAY')`,
  )
  const hits: string[] = []
  for (const { table_schema: schema, table_name: table, column_name: column } of columns) {
    const ident = (name: string) => `"${name.replaceAll('"', '""')}"`
    for (const needle of needles) {
      const [row] = await selectRows<{ n: number }>(
        app.app.db,
        sql`select count(*)::int as n from ${sql.raw(`${ident(schema)}.${ident(table)}`)} where ${sql.raw(ident(column))}::text ilike ${`%${needle}%`}`,
      )
      if (row!.n > 0) hits.push(`${schema}.${table}.${column} holds ${needle}`)
    }
  }
  return hits
}

const needlesOf = (p: Person) => [p.email, p.name, p.phone, p.address, p.ip, p.userAgent]

t.test('erasure', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url } })
  const admin = app.as('admin')
  const person = await personEverywhere(app, () => app.app.deliveryWorker.runOnce())
  const erase = (payload: Record<string, unknown> = {}) => admin({ method: 'POST', url: `/v1/contacts/${person.contactId}/erase`, payload })
  const consentRows = async () =>
    (await selectRows<{ n: number }>(app.app.db, sql`select count(*)::int as n from consent_events where address_hash = ${storedAddressHash(person.email, PEPPER)}`))[0]!.n

  t.test('the search finds the person before the erasure (it can fail)', async (t) => {
    const hits = await clearTextHits(app, needlesOf(person))
    for (const needle of needlesOf(person)) t.ok(hits.some((h) => h.endsWith(`holds ${needle}`)), `${needle} is found somewhere`)
  })

  t.test('during a running course it is refused, or scheduled for the course end with its request', async (t) => {
    const refused = await erase()
    t.equal(refused.statusCode, 409)
    t.match(refused.json(), { code: 'erasure_during_enrollment', courseEndsAt: /^\d{4}-/ })
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/contacts/${person.contactId}` })).statusCode, 200, 'nothing changed')
    t.equal((await erase({ scheduleAtCourseEnd: true })).json().code, 'schedule_needs_request')
    t.equal((await app.as('staff')({ method: 'POST', url: `/v1/contacts/${person.contactId}/erase`, payload: {} })).statusCode, 403, 'admins erase')

    const wrongType = await erase({ requestId: person.requestId, scheduleAtCourseEnd: true })
    t.equal(wrongType.json().code, 'request_type_mismatch', 'an access request does not carry out an erasure')
    const request = (
      await app.as('staff')({ method: 'POST', url: '/v1/requests', payload: { type: 'erasure', channel: 'email', contactId: person.contactId } })
    ).json()
    const scheduled = await erase({ requestId: request.id, scheduleAtCourseEnd: true })
    t.equal(scheduled.statusCode, 202)
    t.match(scheduled.json(), { status: 'scheduled', requestId: request.id, eraseAfter: /^\d{4}-/ })
    t.match((await app.as('staff')({ method: 'GET', url: `/v1/requests/${request.id}` })).json(), { status: 'in_progress' })

    t.same(await app.app.services.erasure.eraseScheduled(systemActor), { erased: 0, rescheduled: 0 }, 'not before the course is over')
    app.clock.advance(31 * DAY)
    const consentBefore = await consentRows()
    t.same(await app.app.services.erasure.eraseScheduled(systemActor), { erased: 1, rescheduled: 0 })
    const done = (await app.as('staff')({ method: 'GET', url: `/v1/requests/${request.id}` })).json()
    t.match(done, { status: 'completed', contactId: null, outcome: /^Erased; kept: enrollments \(1\)/ })
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/contacts/${person.contactId}` })).statusCode, 404, 'the contact is gone')
    t.equal(await consentRows(), consentBefore, 'the consent ledger keeps every event, under the keyed hash')
  })

  t.test('afterwards no column of any table holds the person in clear text', async (t) => {
    t.same(await clearTextHits(app, needlesOf(person)), [])
  })

  t.test('the proof stays, the address stays blocked for marketing, and erasing again is harmless', async (t) => {
    const hash = storedAddressHash(person.email, PEPPER)
    const [ledger] = await selectRows<{ n: number; named: number }>(
      app.app.db,
      sql`select count(*)::int as n, count(contact_id)::int as named from send_ledger where address_hash = ${hash}`,
    )
    t.ok(ledger!.n >= 2, 'the send decisions stay')
    t.equal(ledger!.named, 0, 'naming no contact')
    const [sales] = await selectRows<{ course_id: string; contact_id: string | null }>(app.app.db, sql`select course_id, contact_id from enrollments where address_hash = ${hash}`)
    t.match(sales, { course_id: person.courseId, contact_id: null }, 'the enrollment stays as a sales record')
    const offers = await createList(app, { kind: 'marketing' })
    t.match(await askDecision(app, { email: person.email, kind: 'marketing', listId: offers.id }), { allowed: false, reason: 'erased' })

    const again = await erase()
    t.equal(again.statusCode, 200)
    t.match(again.json(), { status: 'already_erased', contactId: person.contactId, erasedAt: /^\d{4}-/ })
    t.equal((await admin({ method: 'POST', url: '/v1/contacts/00000000-0000-4000-8000-000000000000/erase', payload: {} })).json().code, 'contact_not_found')
  })

  t.test('a person on no running course is erased at once, and the answer says what was kept and why', async (t) => {
    const other = await personEverywhere(app, () => app.app.deliveryWorker.runOnce())
    app.clock.advance(31 * DAY)
    const res = await admin({ method: 'POST', url: `/v1/contacts/${other.contactId}/erase`, payload: {} })
    t.equal(res.statusCode, 200)
    const answer = res.json()
    t.match(answer, {
      status: 'erased',
      removed: { contact: 1, subscriptions: 3, deferredUnsubscribes: 1 },
      redacted: { consentEvents: Number, sendLedger: 2, messages: 1 },
    })
    t.match(answer.kept[0], { records: 'enrollments', count: 1, reason: /bokføringsloven/ })
    t.ok(new Date(answer.kept[0].until).getTime() > app.clock.now().getTime() + 4 * 365 * DAY, 'kept five years from the sale')
    t.same(await clearTextHits(app, needlesOf(other)), [])
  })
})
