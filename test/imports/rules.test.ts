// What an import never does: re-add someone erased, someone who objected,
// someone suppressed for the list, or re-open a list for someone who left
// it; and how invalid rows, dry runs, all or nothing and a second import of
// the same file are reported. Each through the API, on the real database.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { selectRows } from '../../db/client.js'
import { build } from '../helper.js'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { importCsv, importWorld, multipart, NOTICE, waitForImport } from './support.js'

const importDir = mkdtempSync(join(tmpdir(), 'samtykke-imports-'))
t.teardown(() => rmSync(importDir, { recursive: true, force: true }))

const app = await build(t, { config: { importDir } })
const { list } = await importWorld(app)
const staff = app.as('staff')

/** How many rows each table the import writes holds. */
async function tableCounts() {
  const [row] = await selectRows<{ contacts: number; subscriptions: number; events: number }>(
    app.app.db,
    sql`select (select count(*)::int from contacts) as contacts, (select count(*)::int from subscriptions) as subscriptions,
               (select count(*)::int from consent_events) as events`,
  )
  return row!
}

async function contactId(email: string): Promise<string | undefined> {
  return (await staff({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}` })).json().items[0]?.id
}

async function subscriptionStatus(listId: string, id: string) {
  const res = await staff({ method: 'GET', url: `/v1/lists/${listId}/subscriptions/${id}` })
  return res.statusCode === 404 ? null : (res.json().status as string)
}

t.test('every rule that keeps an address out keeps it out, and the report names the rule', async (t) => {
  // Suppressed by address alone (no contact): a manual block for every list.
  await staff({ method: 'POST', url: '/v1/suppressions', payload: { email: 'blokkert@example.no', scope: 'global', reason: 'manual' } })
  // A hard bounce, for all mail, of someone we hold.
  const bounced = await createContact(app, { email: 'sprettet@example.no' })
  await staff({ method: 'POST', url: '/v1/suppressions', payload: { contactId: bounced.id, scope: 'all-mail', reason: 'bounce' } })
  // An objection to direct marketing.
  const objector = await createContact(app, { email: 'protest@example.no' })
  await app.app.services.optOut.objectToMarketing(objector.id, { source: 'staff', evidence: 'ringte inn' }, { id: 'staff:test', name: null, role: 'staff' })
  // Erased: nothing of the person is left but the keyed hash of the address.
  const erased = await createContact(app, { email: 'slettet@example.no' })
  t.equal((await app.as('admin')({ method: 'POST', url: `/v1/contacts/${erased.id}/erase`, payload: {} })).statusCode, 200)
  // Left this list.
  const leaver = await createContact(app, { email: 'meldtav@example.no' })
  t.equal((await subscribe(app, list.id, { contactId: leaver.id, source: 'form', consent: consentPayload() })).statusCode, 201)
  t.equal((await staff({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${leaver.id}/unsubscribe`, payload: { source: 'link' } })).statusCode, 200)
  // Left another list only: this one is still open to them.
  const other = await createList(app, { kind: 'newsletter', name: 'Annet' })
  const elsewhere = await createContact(app, { email: 'annenliste@example.no' })
  await subscribe(app, other.id, { contactId: elsewhere.id, source: 'form', consent: consentPayload() })
  await staff({ method: 'POST', url: `/v1/lists/${other.id}/subscriptions/${elsewhere.id}/unsubscribe`, payload: { source: 'link' } })
  const before = await tableCounts()

  const csv = [
    'email,name',
    'blokkert@example.no,Blokkert Person',
    'SPRETTET@example.no,Sprettet Person',
    'protest@example.no,Protest Person',
    'slettet@example.no,Slettet Person',
    'meldtav@example.no,Meldtav Person',
    'annenliste@example.no,Annenliste Person',
  ].join('\n')
  const report = await importCsv(app, csv, { list: list.slug })
  t.match(report.import, { status: 'completed', rowsRead: 6, rowsApplied: 1, contactsCreated: 0 })
  t.same(report.rows, [
    { line: 2, code: 'suppressed', detail: 'manual (global)' },
    { line: 3, code: 'suppressed', detail: 'bounce (all-mail)' },
    { line: 4, code: 'objected', detail: null },
    { line: 5, code: 'erased', detail: null },
    { line: 6, code: 'left_list', detail: null },
  ])
  t.match(report.import.counts, { suppressed: 2, objected: 1, erased: 1, left_list: 1, added: 1 })

  const after = await tableCounts()
  t.equal(after.contacts, before.contacts, 'no one was created: not the blocked address, nor the erased one')
  t.equal(after.subscriptions, before.subscriptions + 1, 'only the person who left another list is on this one')
  t.equal(after.events, before.events + 1, 'one consent event, for that one')
  t.equal(await contactId('slettet@example.no'), undefined, 'the erased person is not brought back')
  t.equal(await subscriptionStatus(list.id, leaver.id), 'unsubscribed', 'the list stays closed to the one who left it')
  t.equal(await subscriptionStatus(list.id, objector.id), null)
  t.equal(await subscriptionStatus(list.id, elsewhere.id), 'active')
  t.equal(await subscriptionStatus(other.id, elsewhere.id), 'unsubscribed', 'the other list is not touched')
})

t.test('invalid rows are reported by line with a stable code, the valid ones applied', async (t) => {
  const course = await createList(app, { kind: 'transactional', name: 'Kvitteringer', basis: 'contract' })
  const csv = [
    'email,name,subscribed_at,list,status,ip',
    'gyldig.en@example.no,Gyldig En,2024-01-01 10:00:00,,,',
    ',Uten Adresse,,,,',
    'ikke-en-adresse,Feil Adresse,,,,',
    'dato.feil@example.no,Dato Feil,1. januar 2024,,,',
    'fremtid@example.no,Frem Tid,2030-01-01T00:00:00Z,,,',
    'ukjent.liste@example.no,Ukjent Liste,,finnes-ikke,,',
    `kvittering@example.no,Kvittering,,${course.slug},,`,
    'gyldig.en@example.no,Gyldig Igjen,,,,',
    'status.feil@example.no,Status Feil,,,maybe,',
    'ip.feil@example.no,Ip Feil,,,,999.1.1.1',
    `langt.navn@example.no,${'N'.repeat(201)},,,,`,
    '"flere.linjer@example.no","Navn over',
    'to linjer",,,,',
    'etter.flere@example.no,,2024-13-01,,,',
    '',
    'gyldig.to@example.no,Gyldig To,2023-05-05T05:05:05.5+02:00,,subscribed,2001:db8::1',
  ].join('\r\n')
  const report = await importCsv(app, csv, { list: list.slug })
  t.match(report.import, { status: 'completed', rowsRead: 14, rowsApplied: 3 })
  t.same(
    report.rows.map((r) => [r.line, r.code]),
    [
      [3, 'missing_email'],
      [4, 'invalid_email'],
      [5, 'invalid_date'],
      [6, 'date_in_future'],
      [7, 'unknown_list'],
      [8, 'list_not_importable'],
      [9, 'duplicate_in_file'],
      [10, 'invalid_status'],
      [11, 'invalid_ip'],
      [12, 'field_too_long'],
      [15, 'invalid_date'],
    ],
    'a quoted field over two lines counts both (lines 13–14), and a blank line is no row',
  )
  t.match(report.rows.find((r) => r.line === 9), { detail: 'the address is on line 2 for the same list' })
  for (const row of report.rows) t.notMatch(row.detail ?? '', /example\.no|ikke-en-adresse|Feil|Navn|januar|maybe|999/, 'a detail never repeats what the row held')
  t.ok(await contactId('flere.linjer@example.no'), 'the row over two lines was read whole')
})

t.test('text that is not UTF-8 past the first bytes is an invalid row, not a garbled name', async (t) => {
  const lines = ['email,name']
  for (let i = 0; i < 2000; i++) lines.push(`tegn.${i}@example.no,Person Nummer ${i}`)
  const file = Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from('tegn.feil@example.no,Lise S\xf8rli\n', 'latin1')])
  const res = await staff({ method: 'POST', url: '/v1/imports', ...multipart({ list: list.slug, noticeKey: NOTICE.key, noticeVersion: '1' }, { content: file }) })
  t.equal(res.statusCode, 202)
  const report = await waitForImport(app, res.json().id)
  t.same(report.rows, [{ line: 2002, code: 'invalid_text', detail: 'name' }])
  t.equal(report.import.rowsApplied, 2000)
})

t.test('a dry run reports what would happen and changes nothing', async (t) => {
  await staff({ method: 'POST', url: '/v1/suppressions', payload: { email: 'torr.blokk@example.no', scope: 'global', reason: 'manual' } })
  const before = await tableCounts()
  const csv = 'email\ntorr.en@example.no\ntorr.to@example.no\ntorr.blokk@example.no\ntorr.en@example.no\nikke-adresse\n'
  const report = await importCsv(app, csv, { list: list.slug, dryRun: 'true' })
  t.match(report.import, { status: 'completed', dryRun: true, rowsApplied: 2, contactsCreated: 0, counts: { added: 2, suppressed: 1, duplicate_in_file: 1, invalid_email: 1 } })
  t.same(await tableCounts(), before, 'no contact, subscription or consent event')
  t.equal(await contactId('torr.en@example.no'), undefined)
})

t.test('all or nothing: one invalid row and no row is applied; none invalid and every row is', async (t) => {
  const before = await tableCounts()
  const bad = 'email,subscribed_at\nalle.en@example.no,2024-01-01\nalle.to@example.no,i går\nalle.tre@example.no,\n'
  const rejected = await importCsv(app, bad, { list: list.slug, allOrNothing: 'true' })
  t.match(rejected.import, { status: 'rejected', rowsApplied: 0 })
  t.same(rejected.rows, [{ line: 3, code: 'invalid_date', detail: rejected.rows[0]!.detail }])
  t.same(await tableCounts(), before, 'nothing written')

  const good = 'email,subscribed_at\nalle.en@example.no,2024-01-01\nalle.tre@example.no,\n'
  const applied = await importCsv(app, good, { list: list.slug, allOrNothing: 'true' })
  t.match(applied.import, { status: 'completed', rowsApplied: 2, phase: 'applying' })
  t.equal((await tableCounts()).events, before.events + 2)

  const dry = await importCsv(app, bad, { list: list.slug, allOrNothing: 'true', dryRun: 'true' })
  t.match(dry.import, { status: 'rejected', dryRun: true }, 'a dry run says so too')
})

t.test('importing the same file again changes nothing and records no second consent', async (t) => {
  const csv = 'email,name,subscribed_at\nigjen.en@example.no,Igjen En,2022-02-02 02:02:02\nigjen.to@example.no,Igjen To,\n'
  const first = await importCsv(app, csv, { list: list.slug })
  t.match(first.import, { rowsApplied: 2, contactsCreated: 2 })
  const before = await tableCounts()
  const second = await importCsv(app, csv, { list: list.slug })
  t.match(second.import, { status: 'completed', rowsApplied: 0, contactsCreated: 0, counts: { already_subscribed: 2 } })
  t.same(second.rows, [], 'being on the list already is no problem to report')
  t.same(await tableCounts(), before)
})

t.test('a repeat far down the file, in another batch, is still a duplicate', async (t) => {
  const lines = ['email']
  for (let i = 0; i < 2100; i++) lines.push(`mange.${i}@example.no`)
  lines.push('mange.7@example.no')
  const report = await importCsv(app, lines.join('\n'), { list: list.slug })
  t.match(report.import, { rowsRead: 2101, rowsApplied: 2100 })
  t.same(report.rows, [{ line: 2102, code: 'duplicate_in_file', detail: 'the address is on line 9 for the same list' }])
})

t.test('the import is audited: who ran it and the counts', async (t) => {
  const csv = 'email\nrevisjon@example.no\n'
  const report = await importCsv(app, csv, { list: list.slug })
  const entries = (await app.as('admin')({ method: 'GET', url: `/v1/audit?entityType=import&entityId=${report.import.id}` })).json().items
  t.match(entries, [
    { action: 'import.started', actorId: 'staff:test', changes: { dryRun: false, allOrNothing: false, format: 'generic' } },
    { action: 'import.finished', actorId: 'staff:test', changes: { status: 'completed', rowsRead: 1, rowsApplied: 1, contactsCreated: 1, counts: { added: 1 } } },
  ])
})
