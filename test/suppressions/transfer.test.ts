// Moving suppressions to a new instance (GET /v1/suppressions/export, POST
// /v1/suppressions/import): the file carries keyed hashes, reasons, scopes,
// list slugs and times and nothing personal; on a fresh instance with the same
// pepper a contact made later with a suppressed address is blocked; another
// pepper is refused; bad lines are reported by number; a second import adds
// nothing; only admins move them.
import t from 'tap'
import { pepperFingerprint } from '../../src/suppressions/transfer-format.js'
import { askDecision, consentPayload, createContact, createList, subscribe, uniqueEmail } from '../factories.js'
import { build, PEPPER, TestClock, type TestApp } from '../helper.js'

const NDJSON = 'application/x-ndjson'
const SLUG = 'nyheter-flytt'
const DAY = 24 * 60 * 60 * 1000

const exportFrom = (app: TestApp) => app.as('admin')({ method: 'GET', url: '/v1/suppressions/export' })
const importInto = (app: TestApp, body: string, query = '') =>
  app.as('admin')({ method: 'POST', url: `/v1/suppressions/import${query}`, headers: { 'content-type': NDJSON }, payload: body })
const linesOf = (body: string) => body.trim().split('\n').map((line) => JSON.parse(line))
const activeSuppressions = async (app: TestApp) => (await app.as('staff')({ method: 'GET', url: '/v1/suppressions?active=true&limit=200' })).json().items

/** The old instance: one person per kind of suppression, and some that are not in force. */
async function oldInstance() {
  const app = await build(t)
  const staff = app.as('staff')
  const news = await createList(app, { kind: 'newsletter', slug: SLUG })
  const suppress = async (payload: Record<string, unknown>) => {
    const res = await staff({ method: 'POST', url: '/v1/suppressions', payload })
    if (res.statusCode !== 201) throw new Error(`suppress: ${res.statusCode} ${res.body}`)
    return res.json()
  }
  const people = { global: uniqueEmail('global'), list: uniqueEmail('list'), purpose: uniqueEmail('purpose'), bounce: uniqueEmail('bounce'), lifted: uniqueEmail('lifted') }
  await suppress({ email: people.global, scope: 'global', reason: 'unsubscribe', note: 'Kari said so on the phone' })
  await suppress({ email: people.list, scope: 'list', listId: news.id, reason: 'objection' })
  await suppress({ email: people.purpose, scope: 'purpose', purpose: 'marketing', reason: 'objection' })
  await suppress({ email: people.bounce, scope: 'all-mail', reason: 'bounce', expiresAt: new Date(app.clock.now().getTime() + 30 * DAY).toISOString() })
  const lifted = await suppress({ email: people.lifted, scope: 'global', reason: 'manual' })
  await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${lifted.id}/lift`, payload: { reason: 'Entered for the wrong person' } })
  // An erased person: the contact goes, the erasure suppression stays by hash alone.
  const erased = await createContact(app, { email: uniqueEmail('erased'), name: 'Erased Person' })
  const erasure = await app.as('admin')({ method: 'POST', url: `/v1/contacts/${erased.id}/erase`, payload: {} })
  if (erasure.statusCode !== 200) throw new Error(`erase: ${erasure.statusCode} ${erasure.body}`)
  return { app, news, people: { ...people, erased: erased.email as string } }
}

// One old instance for every test: building one is most of a test's time.
let old: Awaited<ReturnType<typeof oldInstance>>
let exported: Awaited<ReturnType<typeof exportFrom>>
let header: Record<string, unknown> & { exportId: string; pepperFingerprint: string }
let records: Record<string, unknown>[]
t.before(async () => {
  old = await oldInstance()
  exported = await exportFrom(old.app)
  ;[header, ...records] = linesOf(exported.body)
})

t.test('the export is a header with the pepper’s fingerprint, then one line per suppression in force, with nothing personal', async (t) => {
  t.equal(exported.statusCode, 200)
  t.match(exported.headers['content-type'], NDJSON)
  t.match(exported.headers['content-disposition'], /^attachment; filename="suppressions-[0-9a-f-]{36}\.ndjson"$/)
  t.match(header, { format: 'samtykke-suppressions', version: 1, pepperFingerprint: pepperFingerprint(PEPPER), exportedAt: '2026-03-02T09:00:00.000Z' })
  t.match(header.pepperFingerprint, /^[0-9a-f]{32}$/)
  t.notOk(exported.body.includes(PEPPER), 'the pepper itself is not in the file')
  t.same(
    records.map((r) => [r.scope, r.reason, r.list, r.purpose]).sort(),
    [
      ['all-mail', 'bounce', null, null],
      ['global', 'erasure', null, null],
      ['global', 'unsubscribe', null, null],
      ['list', 'objection', SLUG, null],
      ['purpose', 'objection', null, 'marketing'],
    ].sort(),
    'the lifted block is not in force and not exported; the erasure is',
  )
  for (const r of records) t.same(Object.keys(r).sort(), ['addressHash', 'createdAt', 'expiresAt', 'list', 'purpose', 'reason', 'scope'])
  t.notOk(/@|Kari|Erased Person/.test(exported.body), 'no address, name or note')
  const contactIds = (await old.app.as('staff')({ method: 'GET', url: '/v1/contacts?limit=200' })).json().items.map((c: { id: string }) => c.id)
  for (const id of contactIds) t.notOk(exported.body.includes(id), 'no contact id')
  const audit = (await old.app.as('admin')({ method: 'GET', url: '/v1/audit?action=suppressions.exported' })).json().items
  t.match(audit, [{ action: 'suppressions.exported', entityId: header.exportId, actorId: 'admin:test' }])
})

t.test('on a fresh instance with the same pepper, a contact made later with a suppressed address is blocked', async (t) => {
  const app = await build(t)
  const news = await createList(app, { kind: 'newsletter', slug: SLUG })
  t.not(news.id, old.news.id, 'the list has another id here')
  const res = await importInto(app, exported.body)
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { exportId: header.exportId, records: 5, created: 5, alreadyInForce: 0, expired: 0, problemCount: 0, problems: [] })

  const onNews = async (email: string) => {
    const contact = await createContact(app, { email })
    // Staff record the consent: not the person's own act, so it does not speak over what they said.
    t.equal((await subscribe(app, news.id, { contactId: contact.id, consent: consentPayload() })).statusCode, 201)
    return { contact, decision: await askDecision(app, { contactId: contact.id, kind: 'newsletter', listId: news.id }) }
  }
  t.match((await onNews(uniqueEmail('newcomer'))).decision, { allowed: true }, 'someone not suppressed gets the newsletter')
  const global = await onNews(old.people.global)
  t.match(global.decision, { allowed: false, reason: 'unsubscribed' })
  t.match((await onNews(old.people.list)).decision, { allowed: false, reason: 'objection' }, 'the list suppression found its list by slug')
  t.match((await onNews(old.people.bounce)).decision, { allowed: false, reason: 'hard_bounce' })
  t.match((await onNews(old.people.erased)).decision, { allowed: false })
  t.match((await onNews(old.people.lifted)).decision, { allowed: true }, 'what was lifted there is not carried over')

  const explained = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${global.contact.id}/explain` })).json()
  t.match(explained.suppressions, [{ contactId: null, scope: 'global', reason: 'unsubscribe', note: null, createdAt: '2026-03-02T09:00:00.000Z', createdById: 'admin:test', active: true }])
  t.equal((await askDecision(app, { email: old.people.purpose, kind: 'marketing', listId: (await createList(app, { kind: 'marketing' })).id })).reason, 'objection')

  t.test('importing the same file again adds nothing', async (t) => {
    const before = (await activeSuppressions(app)).length
    const again = await importInto(app, exported.body)
    t.equal(again.statusCode, 200)
    t.match(again.json(), { records: 5, created: 0, alreadyInForce: 5, problemCount: 0 })
    t.equal((await activeSuppressions(app)).length, before)
    const audit = (await app.as('admin')({ method: 'GET', url: '/v1/audit?action=suppressions.imported' })).json().items
    t.equal(audit.length, 2, 'each import is audited')
    t.match(audit[0], { action: 'suppressions.imported', entityType: 'suppression-transfer', actorId: 'admin:test' })
  })

  t.test('the person’s own new consent here speaks over an unsubscribe carried over, as it would have there', async (t) => {
    const person = await createContact(app, { email: uniqueEmail('comes-back') })
    const file = [JSON.stringify(header), JSON.stringify({ ...records.find((r) => r.reason === 'unsubscribe'), addressHash: hashOf(app, person.email) })].join('\n')
    t.equal((await importInto(app, file)).json().created, 1)
    t.match(await askDecision(app, { contactId: person.id, kind: 'newsletter', listId: news.id }), { allowed: false })
    app.clock.advance(60_000)
    t.equal((await subscribe(app, news.id, { contactId: person.id, source: 'form', consent: consentPayload() })).statusCode, 201)
    t.match(await askDecision(app, { contactId: person.id, kind: 'newsletter', listId: news.id }), { allowed: true })
  })
})

const hashOf = (app: TestApp, email: string) => app.app.services.contacts.addressHashOf(email)!

t.test('a file made under another pepper is refused and writes nothing', async (t) => {
  const app = await build(t, { config: { suppressionPepper: 'another-pepper-another-pepper-another-1' } })
  await createList(app, { kind: 'newsletter', slug: SLUG })
  const res = await importInto(app, exported.body)
  t.equal(res.statusCode, 422)
  t.match(res.json(), { code: 'pepper_mismatch', detail: /another SUPPRESSION_PEPPER/ })
  t.same(await activeSuppressions(app), [])
  t.not(pepperFingerprint('another-pepper-another-pepper-another-1'), header.pepperFingerprint)
})

t.test('lines that cannot be imported are reported by number; the rest go in, or with allOrNothing none', async (t) => {
  const valid = records.find((r) => r.scope === 'global')
  const file = [
    JSON.stringify(header),
    JSON.stringify(valid),
    'not json at all',
    JSON.stringify({ ...valid, email: 'someone@example.no' }),
    JSON.stringify({ ...records.find((r) => r.scope === 'list'), list: 'not-here' }),
    JSON.stringify({ ...valid, scope: 'list' }),
    '',
    JSON.stringify({ ...valid, addressHash: 'ab12' }),
    JSON.stringify({ ...valid, reason: 'whim' }),
    JSON.stringify({ ...valid, createdAt: 'yesterday' }),
    JSON.stringify(records.find((r) => r.scope === 'purpose')),
  ].join('\r\n')

  const strict = await build(t)
  await createList(strict, { kind: 'newsletter', slug: SLUG })
  const refused = await importInto(strict, file, '?allOrNothing=true')
  t.equal(refused.statusCode, 422)
  t.match(refused.json(), { code: 'suppression_file_invalid', problemCount: 7 })
  t.same(await activeSuppressions(strict), [], 'all or nothing: nothing')

  const app = await build(t)
  await createList(app, { kind: 'newsletter', slug: SLUG })
  const res = await importInto(app, file)
  t.equal(res.statusCode, 200)
  const report = res.json()
  t.match(report, { records: 9, created: 2, problemCount: 7 })
  t.same(
    report.problems.map((p: { line: number; code: string }) => [p.line, p.code]),
    [
      [3, 'line_malformed'],
      [4, 'line_malformed'],
      [5, 'list_unknown'],
      [6, 'line_malformed'],
      [8, 'line_malformed'],
      [9, 'line_malformed'],
      [10, 'line_malformed'],
    ],
  )
  t.match(report.problems[1].message, /fields this format does not have: email/)
  t.match(report.problems[2].message, /no list here has the slug not-here/)
  t.notOk(JSON.stringify(report).includes('someone@example.no'), 'a refused line is not echoed')
  t.equal((await activeSuppressions(app)).length, 2)
})

t.test('a file without its header, of another version, or empty is refused whole', async (t) => {
  const app = await build(t)
  const body = records.map((r) => JSON.stringify(r)).join('\n')
  const npmBanner = `\n> samtykke@0.1.0 suppressions\n> tsx src/cli/suppressions.ts export\n\n${exported.body}`
  for (const [what, file] of [
    ['no header', body],
    ['npm’s banner first', npmBanner],
    ['version 2', [JSON.stringify({ ...header, version: 2 }), body].join('\n')],
    ['empty', ''],
  ] as const) {
    const res = await importInto(app, file)
    t.equal(res.statusCode, 422, what)
    t.equal(res.json().code, 'suppression_file_invalid', what)
  }
  t.match((await importInto(app, npmBanner)).json().detail, /use --out/)
  const noBody = await app.as('admin')({ method: 'POST', url: '/v1/suppressions/import' })
  t.match(noBody.json(), { status: 422, code: 'suppression_file_invalid', detail: /empty/ }, 'no body at all is an empty file')
  t.same(await activeSuppressions(app), [])
})

t.test('a bounce that expired since the export is not carried over', async (t) => {
  const app = await build(t, { clock: new TestClock(new Date('2026-04-15T00:00:00.000Z')) })
  await createList(app, { kind: 'newsletter', slug: SLUG })
  t.match((await importInto(app, exported.body)).json(), { records: 5, created: 4, expired: 1 })
})

t.test('only admins export and import', async (t) => {
  for (const role of ['staff', 'course-system'] as const) {
    t.equal((await old.app.as(role)({ method: 'GET', url: '/v1/suppressions/export' })).statusCode, 403, role)
    t.equal((await old.app.as(role)({ method: 'POST', url: '/v1/suppressions/import', headers: { 'content-type': NDJSON }, payload: exported.body })).statusCode, 403, role)
  }
  t.equal((await old.app.as(null)({ method: 'GET', url: '/v1/suppressions/export' })).statusCode, 401)
  t.equal((await old.app.as(null)({ method: 'POST', url: '/v1/suppressions/import', headers: { 'content-type': NDJSON }, payload: exported.body })).statusCode, 401)
  const json = await old.app.as('admin')({ method: 'POST', url: '/v1/suppressions/import', payload: { suppressions: [] } })
  t.equal(json.statusCode, 415, 'the file is NDJSON, not a JSON document')
})
