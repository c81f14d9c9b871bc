// Imports read listmonk, Mailchimp and Mailtrain exports as those tools
// write them (the fixture files), and other headers through a mapping.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { build } from '../helper.js'
import { fixture, importCsv, importWorld } from './support.js'

const importDir = mkdtempSync(join(tmpdir(), 'samtykke-imports-'))
t.teardown(() => rmSync(importDir, { recursive: true, force: true }))

const app = await build(t, { config: { importDir } })
const { list, notice } = await importWorld(app)
const staff = app.as('staff')

async function contactNamed(email: string) {
  const res = await staff({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}` })
  return res.json().items[0] as { id: string; email: string; name: string | null } | undefined
}

async function consentsOf(contactId: string) {
  return (await staff({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items as {
    type: string
    source: string
    basis: string
    listId: string
    occurredAt: string
    ip: string | null
    evidence: string | null
    notice: { id: string } | null
  }[]
}

t.test('a Mailchimp audience export: address, first and last name, the opt-in time and IP', async (t) => {
  const report = await importCsv(app, fixture('mailchimp.csv'), { list: list.slug })
  t.match(report.import, { status: 'completed', rowsRead: 3, rowsApplied: 3, contactsCreated: 3, format: 'mailchimp' })
  const kari = (await contactNamed('kari.nordmann@example.no'))!
  t.equal(kari.name, 'Kari Nordmann', 'First Name and Last Name make the name')
  const [grant] = await consentsOf(kari.id)
  t.match(grant, { type: 'granted', source: 'import', basis: 'consent', listId: list.id, ip: '203.0.113.7', notice: { id: notice.id } })
  t.equal(grant!.occurredAt, '2023-04-11T08:12:55.000Z', 'OPTIN_TIME, in UTC, is when the consent was given')
  t.match(grant!.evidence, /Mailchimp audience export \(import [0-9a-f-]{36}, line 2\)/)

  const ingrid = (await contactNamed('ingrid.berg@example.no'))!
  t.equal(ingrid.email, 'Ingrid.Berg@example.no', 'the address is stored as the service stores addresses (domain lower-cased)')
  const [confirmed] = await consentsOf(ingrid.id)
  t.equal(confirmed!.occurredAt, '2021-11-30T19:45:10.000Z', 'without an OPTIN_TIME, CONFIRM_TIME')
  t.equal(confirmed!.ip, '198.51.100.23', 'and CONFIRM_IP')
  t.equal((await contactNamed('jonas.lie@example.no'))!.name, 'Jonas', 'a first name alone')
})

t.test('a listmonk subscriber export: name, created_at as Go writes times, blocklisted kept out', async (t) => {
  const report = await importCsv(app, fixture('listmonk.csv'), { list: list.slug })
  t.match(report.import, { status: 'completed', rowsRead: 3, rowsApplied: 2, format: 'listmonk', counts: { added: 2, not_subscribed_in_source: 1 } })
  t.same(report.rows, [{ line: 3, code: 'not_subscribed_in_source', detail: 'blocklisted' }])
  t.equal(await contactNamed('siri.dahl@example.no'), undefined, 'someone listmonk blocklisted is not added at all')
  const ola = (await contactNamed('ola.hansen@example.no'))!
  t.equal(ola.name, 'Ola Hansen')
  t.equal((await consentsOf(ola.id))[0]!.occurredAt, '2022-09-01T10:15:30.123Z')
  const tor = (await contactNamed('tor.moe@example.no'))!
  t.equal((await consentsOf(tor.id))[0]!.occurredAt, '2020-12-24T18:29:59.999Z', 'a +0530 offset is honoured')
})

t.test('a Mailtrain subscription export: EMAIL and merge tags, unsubscribed kept out', async (t) => {
  const report = await importCsv(app, fixture('mailtrain.csv'), { list: list.slug })
  t.match(report.import, { status: 'completed', rowsRead: 3, rowsApplied: 2, format: 'mailtrain' })
  t.same(report.rows, [{ line: 3, code: 'not_subscribed_in_source', detail: 'unsubscribed' }])
  t.equal((await contactNamed('per.olsen@example.no'))!.name, 'Per Olsen')
  const [grant] = await consentsOf((await contactNamed('anne.strand@example.no'))!.id)
  t.match(grant, { source: 'import', evidence: /Mailtrain subscription export/ })
  t.ok(Math.abs(new Date(grant!.occurredAt).getTime() - app.clock.now().getTime()) < 1000, 'without a time in the file, the time of the import')
})

t.test('other headers through a mapping; a semicolon file as spreadsheets save it', async (t) => {
  const csv = 'Epost;Fullt navn;Meldt på;Hvor;Tekst\r\nmarte.holm@example.no;Marte Holm;2024-02-01T12:00:00+01:00;Påmeldingsskjema på nettsiden;Ja, send meg nyhetsbrev\r\n'
  const report = await importCsv(app, csv, {
    list: list.slug,
    mapping: JSON.stringify({ Epost: 'email', 'Fullt navn': 'name', 'Meldt på': 'subscribedAt', Hvor: 'consentSource', Tekst: 'consentText' }),
  })
  t.match(report.import, { status: 'completed', rowsApplied: 1, format: 'generic' })
  const marte = (await contactNamed('marte.holm@example.no'))!
  t.equal(marte.name, 'Marte Holm')
  const [grant] = await consentsOf(marte.id)
  t.equal(grant!.occurredAt, '2024-02-01T11:00:00.000Z')
  t.match(grant!.evidence, /source: Påmeldingsskjema på nettsiden; consent text: Ja, send meg nyhetsbrev$/)
})

t.test('a mapping can ignore a column a default would read', async (t) => {
  const csv = 'email,name\nnils.vik@example.no,Nils Vik\n'
  const report = await importCsv(app, csv, { list: list.slug, mapping: JSON.stringify({ name: 'ignore' }) })
  t.equal(report.import.rowsApplied, 1)
  t.equal((await contactNamed('nils.vik@example.no'))!.name, null)
})

t.test('a row names its own list by slug; the import’s list is for rows without one', async (t) => {
  const other = await importWorld(app, { name: 'Tilbud' })
  const csv = `email,list\nelin.aas@example.no,${other.list.slug}\nelin.aas@example.no,\n`
  const report = await importCsv(app, csv, { list: list.slug })
  t.match(report.import, { rowsApplied: 2, counts: { added: 2 } })
  const elin = (await contactNamed('elin.aas@example.no'))!
  t.same((await consentsOf(elin.id)).map((c) => c.listId).sort(), [list.id, other.list.id].sort())
})

t.test('the upload is deleted once the import is done', async (t) => {
  t.same(readdirSync(importDir), [])
})
