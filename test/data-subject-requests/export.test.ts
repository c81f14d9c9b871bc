// The access export answers art. 15 completely: a person with a row in every
// table that can hold a person gets every one of those rows back, with the
// register's purposes, bases, categories, recipients and retention; the same
// in an accessible page in their language; and the export is audited.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { selectRows } from '../../db/client.js'
import { storedAddressHash } from '../../src/lib/email.js'
import { createContact } from '../factories.js'
import { auditTrail, build, PEPPER } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { personEverywhere } from './person.js'
import { webhookEndpoints } from '../../db/schema/index.js'
import { webhookEventTypes } from '../../src/webhooks/events.js'

/** Where the export shows the rows of each table that holds people (by contact_id or address_hash). */
const EXPORTED_AS: Record<string, (e: Record<string, any>) => unknown[]> = {
  subscriptions: (e) => e.subscriptions,
  consent_events: (e) => e.consentEvents,
  enrollments: (e) => e.enrollments,
  deferred_unsubscribes: (e) => e.deferredUnsubscribes,
  suppressions: (e) => e.suppressions,
  messages: (e) => e.messages,
  send_ledger: (e) => e.messages.flatMap((m: { decisions: unknown[] }) => m.decisions),
  audit_personal_values: (e) => e.auditEntries.filter((a: { changes: unknown }) => a.changes !== null),
  data_subject_requests: (e) => e.requests,
  processor_notices: (e) => e.processorNotices,
  return_reports: (e) => e.returnReports,
  webhook_events: (e) => e.webhookEvents,
  webhook_deliveries: (e) => e.webhookEvents.flatMap((w: { deliveries: unknown[] }) => w.deliveries),
}

t.test('the access export', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url, controllerName: 'Vekstly AS', controllerEmail: 'hei@vekstly.no' } })
  // An endpoint for every event, so the person's events have deliveries too (rows of webhook_deliveries).
  const now = app.clock.now()
  await app.app.db.insert(webhookEndpoints).values({ url: 'https://course-system.example.no/hooks', eventTypes: [...webhookEventTypes], secret: 'whsec_dGVzdA==', createdAt: now, updatedAt: now })
  const person = await personEverywhere(app, () => app.app.deliveryWorker.runOnce())
  const hash = storedAddressHash(person.email, PEPPER)

  const res = await app.as('staff')({ method: 'GET', url: `/v1/contacts/${person.contactId}/export` })
  t.equal(res.statusCode, 200)
  const data = res.json()

  t.test('holds a row from every table that holds the person, and each of those rows', async (t) => {
    const tables = await selectRows<{ table_name: string }>(
      app.app.db,
      sql`select distinct table_name from information_schema.columns
          where table_schema = 'public' and column_name in ('contact_id', 'address_hash') order by table_name`,
    )
    for (const { table_name: table } of tables) {
      const [{ n }] = (await selectRows<{ n: number }>(
        app.app.db,
        sql.raw(`select count(*)::int as n from "${table}" where ${
          (await selectRows<{ column_name: string }>(app.app.db, sql`select column_name from information_schema.columns where table_schema = 'public' and table_name = ${table} and column_name in ('contact_id', 'address_hash')`))
            .map((c) => (c.column_name === 'contact_id' ? `contact_id = '${person.contactId}'` : `address_hash = '${hash}'`))
            .join(' or ')
        }`),
      )) as [{ n: number }]
      t.ok(n > 0, `the person has rows in ${table}`)
      t.ok(EXPORTED_AS[table], `the export shows ${table}`)
      if (EXPORTED_AS[table]) t.equal(EXPORTED_AS[table]!(data).length, n, `every row of ${table} is in the export`)
    }
    t.equal(data.contact.id, person.contactId)
    t.match(data.contact, { email: person.email, name: person.name, phone: person.phone, address: person.address })
    const [delivered] = data.messages
    t.match(delivered, { status: 'sent', kind: 'course' })
    t.ok(delivered.deliveryEvents.some((e: { type: string }) => e.type === 'accepted'), 'with its delivery events')
    t.equal(delivered.decisions.length, 2, 'decided when queued and at delivery')
    t.ok(data.consentEvents.some((e: { notice: { text: string } | null; ip: string }) => e.notice?.text && e.ip === person.ip), 'consent with the notice seen and the IP')
    t.match(data.enrollments, [{ courseId: person.courseId, course: { name: 'Keramikk for nybegynnere' } }])
    t.equal(data.deferredUnsubscribes.length, 1)
    t.ok(data.auditEntries.some((a: { action: string }) => a.action === 'contact.updated'))
  })

  t.test('says, from the register, why the data is processed and for how long', async (t) => {
    const purposes = new Map(data.processing.purposes.map((p: { id: string }) => [p.id, p]))
    t.match(purposes.get('course'), { legalBasis: 'contract', name: 'Gjennomføring av kurs', retention: /30 dager etter at kurset er over/ })
    t.match(purposes.get('newsletter'), { legalBasis: 'consent' })
    t.match(purposes.get('proof'), { legalBasis: 'legal_obligation' })
    t.notOk(purposes.has('marketing'), 'only the purposes that apply to this person')
    t.ok((purposes.get('course') as { dataCategories: string[] }).dataCategories.includes('Kontaktinformasjon: adresse, telefonnummer, e-postadresse'))
    t.same(data.controller, { name: 'Vekstly AS', email: 'hei@vekstly.no' })
  })

  t.test('the same as a page in the person’s language, every value escaped', async (t) => {
    const page = await app.as('staff')({ method: 'GET', url: `/v1/contacts/${person.contactId}/export?format=html` })
    t.equal(page.statusCode, 200)
    t.match(page.headers['content-type'], /^text\/html/)
    t.match(page.body, /<html lang="nb">/)
    t.match(page.body, /<h1>Dine personopplysninger<\/h1>/)
    t.match(page.body, /<th scope="col">Rettslig grunnlag<\/th>/)
    t.match(page.body, new RegExp(person.phone.replace(/\+/g, '\\+')))
    t.match(page.body, /Keramikk for nybegynnere/)
    t.match(page.body, /Kari&#39;s laptop|Storgata/)
    t.notMatch(page.body, /<script/i)

    const english = await createContact(app, { name: '<b>Bold</b> & Co', locale: 'en' })
    const other = await app.as('staff')({ method: 'GET', url: `/v1/contacts/${english.id}/export?format=html` })
    t.match(other.body, /<html lang="en">/)
    t.match(other.body, /<h1>Your personal data<\/h1>/)
    t.match(other.body, /&lt;b&gt;Bold&lt;\/b&gt; &amp; Co/)
    t.notMatch(other.body, /<b>Bold/)
  })

  t.test('every export is in the audit log; strangers and other roles get nothing', async (t) => {
    const trail = await auditTrail(app, 'contact', person.contactId)
    t.ok(trail.some((e: { action: string; actorId: string }) => e.action === 'contact.exported' && e.actorId === 'staff:test'))
    t.equal((await app.as('course-system')({ method: 'GET', url: `/v1/contacts/${person.contactId}/export` })).statusCode, 403)
    t.equal((await app.as(null)({ method: 'GET', url: `/v1/contacts/${person.contactId}/export` })).statusCode, 401)
    const missing = await app.as('staff')({ method: 'GET', url: '/v1/contacts/00000000-0000-4000-8000-000000000000/export' })
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'contact_not_found')
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/contacts/${person.contactId}/export?format=pdf` })).statusCode, 400)
  })
})
