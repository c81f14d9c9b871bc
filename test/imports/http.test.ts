// POST /v1/imports through to its report, and every way a request to it can
// be wrong: no file, not CSV, not multipart, a header without an address, a
// bad mapping, an unknown or closed list, an unknown notice, too large, the
// wrong role. A refused upload leaves nothing behind, not even its file.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { selectRows } from '../../db/client.js'
import { build } from '../helper.js'
import { createList } from '../factories.js'
import { importCsv, importWorld, multipart, NOTICE, upload, waitForImport } from './support.js'

const importDir = mkdtempSync(join(tmpdir(), 'samtykke-imports-'))
t.teardown(() => rmSync(importDir, { recursive: true, force: true }))

const app = await build(t, { config: { importDir, importMaxBytes: 64 * 1024 } })
const { list, notice } = await importWorld(app)
const staff = app.as('staff')
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex')

const importCount = async () => (await selectRows<{ n: number }>(app.app.db, sql`select count(*)::int as n from import_jobs`))[0]!.n

t.test('upload, 202 with the running import, poll it, read its report a page at a time', async (t) => {
  const lines = ['email,subscribed_at']
  for (let i = 0; i < 30; i++) lines.push(i % 3 === 0 ? `rad.${i}@example.no,ikke en dato` : `rad.${i}@example.no,2024-03-01`)
  const res = await upload(app, lines.join('\n'), { list: list.slug })
  t.equal(res.statusCode, 202)
  const job = res.json()
  t.equal(res.headers.location, `/v1/imports/${job.id}`)
  t.match(job, { status: 'running', dryRun: false, listId: list.id, noticeId: notice.id, format: 'generic', columns: [{ header: 'email', field: 'email' }, { header: 'subscribed_at', field: 'subscribedAt' }] })
  t.ok(job.bytesTotal > 0)

  const report = await waitForImport(app, job.id)
  t.match(report.import, { status: 'completed', rowsRead: 30, rowsApplied: 20, counts: { added: 20, invalid_date: 10 }, bytesRead: job.bytesTotal })
  t.equal(report.rows.length, 10)
  t.equal(report.nextRowsCursor, null)

  const first = await staff({ method: 'GET', url: `/v1/imports/${job.id}/rows?limit=4&code=invalid_date` })
  t.same(first.json().items.map((r: { line: number }) => r.line), [2, 5, 8, 11])
  const second = await staff({ method: 'GET', url: `/v1/imports/${job.id}/rows?limit=4&code=invalid_date&cursor=${first.json().nextCursor}` })
  t.same(second.json().items.map((r: { line: number }) => r.line), [14, 17, 20, 23])
  t.same((await staff({ method: 'GET', url: `/v1/imports/${job.id}/rows?code=added` })).json().items, [], 'applied rows are counted, not listed')

  const listed = (await staff({ method: 'GET', url: '/v1/imports' })).json()
  t.ok(listed.items.some((i: { id: string }) => i.id === job.id))
})

t.test('a file too large for IMPORT_MAX_BYTES is a 413, and nothing of it stays', async (t) => {
  const res = await upload(app, `email\n${'stor.fil@example.no\n'.repeat(4000)}`, { list: list.slug })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { code: 'payload_too_large' })
})

t.test('bad requests, each with its own problem and nothing recorded', async (t) => {
  const before = await importCount()
  const csv = 'email\nen@example.no\n'
  const cases: [string, () => ReturnType<typeof upload>, number, string][] = [
    ['no file', () => upload(app, null, { list: list.slug }), 400, 'validation_failed'],
    ['a text field named file', () => {
      const body = multipart({ file: '/etc/passwd', list: list.slug, noticeKey: NOTICE.key, noticeVersion: '1' })
      return staff({ method: 'POST', url: '/v1/imports', payload: body.payload, headers: body.headers })
    }, 400, 'validation_failed'],
    ['an image', () => upload(app, PNG, { list: list.slug }, { file: { type: 'image/png', filename: 'bilde.png' } }), 415, 'import_not_csv'],
    ['binary sent as octet-stream', () => upload(app, PNG, { list: list.slug }, { file: { type: 'application/octet-stream' } }), 415, 'import_not_csv'],
    ['an empty file', () => upload(app, '', { list: list.slug }), 415, 'import_not_csv'],
    ['Windows-1252 text, not UTF-8', () => upload(app, Buffer.from('email,name\nlise@example.no,Lise S\xf8rli\n', 'latin1'), { list: list.slug }), 415, 'import_not_csv'],
    ['JSON instead of a form', () => staff({ method: 'POST', url: '/v1/imports', payload: { list: list.slug } }), 415, 'unsupported_media_type'],
    ['a form cut short', () => {
      const body = multipart({ list: list.slug }, { content: csv })
      return staff({ method: 'POST', url: '/v1/imports', payload: body.payload.subarray(0, body.payload.length - 30), headers: body.headers })
    }, 400, 'bad_request'],
    ['no column for the address', () => upload(app, 'navn,telefon\nOla,123\n', { list: list.slug }), 422, 'import_no_email_column'],
    ['a first line that is a row, not a header', () => upload(app, 'ola@example.no,Ola\n', { list: list.slug }), 422, 'import_no_email_column'],
    ['a mapping that is not JSON', () => upload(app, csv, { list: list.slug, mapping: 'Epost=email' }), 400, 'import_mapping_invalid'],
    ['a mapping to no field', () => upload(app, csv, { list: list.slug, mapping: '{"email":"epost"}' }), 422, 'import_mapping_invalid'],
    ['a mapping of a column the file lacks', () => upload(app, csv, { list: list.slug, mapping: '{"Epost":"email"}' }), 422, 'import_mapping_invalid'],
    ['an unknown list', () => upload(app, csv, { list: 'finnes-ikke' }), 422, 'list_not_found'],
    ['no list, and no list column', () => upload(app, csv, {}), 422, 'list_required'],
    ['an unknown notice', () => upload(app, csv, { list: list.slug, noticeKey: 'ukjent' }), 422, 'notice_not_found'],
    ['an unknown notice version', () => upload(app, csv, { list: list.slug, noticeVersion: '2' }), 422, 'notice_not_found'],
    ['a bad notice version', () => upload(app, csv, { list: list.slug, noticeVersion: 'en' }), 400, 'validation_failed'],
    ['an unknown field', () => upload(app, csv, { list: list.slug, colour: 'blue' }), 400, 'validation_failed'],
  ]
  for (const [what, send, status, code] of cases) {
    const res = await send()
    t.equal(res.statusCode, status, what)
    t.match(res.headers['content-type'], /^application\/problem\+json/, what)
    t.equal(res.json().code, code, what)
    t.same(readdirSync(importDir), [], `${what}: no upload left in the folder`)
  }
  t.equal(await importCount(), before, 'no import recorded')
  t.same(readdirSync(importDir), [], 'no upload left in the folder')
})

t.test('lists an import cannot fill: course and transactional lists, archived ones', async (t) => {
  const receipts = await createList(app, { kind: 'transactional', name: 'Kvitteringer', basis: 'contract' })
  const archived = await createList(app, { kind: 'newsletter', name: 'Gammel' })
  await staff({ method: 'POST', url: `/v1/lists/${archived.id}/archive` })
  for (const slug of [receipts.slug, archived.slug]) {
    const res = await upload(app, 'email\nen@example.no\n', { list: slug })
    t.equal(res.statusCode, 422)
    t.equal(res.json().code, 'list_not_importable')
  }
})

t.test('roles: staff and admins import; the course system, a provider and no token do not', async (t) => {
  const csv = 'email\nrolle@example.no\n'
  t.equal((await upload(app, csv, { list: list.slug }, { role: 'admin' })).statusCode, 202)
  for (const role of ['course-system', 'provider'] as const) {
    const res = await upload(app, csv, { list: list.slug }, { role })
    t.equal(res.statusCode, 403, role)
    t.equal(res.json().code, 'forbidden')
    t.equal((await app.as(role)({ method: 'GET', url: '/v1/imports' })).statusCode, 403)
  }
  const body = multipart({ list: list.slug, noticeKey: NOTICE.key, noticeVersion: '1' }, { content: csv })
  t.equal((await app.app.inject({ method: 'POST', url: '/v1/imports', payload: body.payload, headers: body.headers })).statusCode, 401)
  t.equal((await app.as(null)({ method: 'GET', url: '/v1/imports' })).statusCode, 401)
})

t.test('an import that is not there is a 404', async (t) => {
  const res = await staff({ method: 'GET', url: '/v1/imports/00000000-0000-4000-8000-000000000000' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'import_not_found')
  t.equal((await staff({ method: 'GET', url: '/v1/imports/00000000-0000-4000-8000-000000000000/rows' })).statusCode, 404)
})

t.test('a file that breaks off is a failed import with the line, and the rows before it applied', async (t) => {
  const report = await importCsv(app, 'email,name\nfoer.brudd@example.no,Foer Brudd\n"etter.brudd@example.no,Aldri lukket\n', { list: list.slug })
  t.match(report.import, { status: 'failed', errorCode: 'import_malformed_csv', rowsApplied: 1 })
  t.match(report.import, { error: /line 3: a quoted field is never closed/ })
  t.notMatch(report.import.error, /brudd|lukket/, 'the error names no content of the file')
})
