// What the import tests share: multipart bodies as a browser or curl sends
// them, a newsletter list with a stored notice, an upload through the API
// and the wait for its job, and the fixture files (real export shapes).
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TestApp } from '../helper.js'
import { createList } from '../factories.js'
import { registerPersonalData } from '../support/log-scanner.js'
import type { Role } from '../../src/vocabulary.js'

export const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8')

/** The names in a CSV text: no log line may carry them (the log scanner fails the test on one). */
export function registerCsvPeople(csv: string) {
  for (const cell of csv.split(/[,;\t\r\n"]+/)) if (/^[A-ZÆØÅ][a-zæøå]+( [A-ZÆØÅ][a-zæøå]+)*$/.test(cell)) registerPersonalData(cell)
}

export interface FilePart {
  field?: string
  filename?: string
  type?: string
  content: string | Buffer
}

/** A multipart/form-data body: the fields, then the file part. */
export function multipart(fields: Record<string, string>, file?: FilePart) {
  const boundary = `----samtykke${randomBytes(8).toString('hex')}`
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.filename ?? 'export.csv'}"\r\n` +
          `Content-Type: ${file.type ?? 'text/csv'}\r\n\r\n`,
      ),
      Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content),
      Buffer.from('\r\n'),
    )
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

export const NOTICE = { key: 'nyhetsbrev-import', version: 1, text: 'Ja takk, send meg nyhetsbrev om kurs (samtykke gitt i det gamle systemet).' }

/** A newsletter list and the notice the imported people consented under. */
export async function importWorld(t: TestApp, list: Record<string, unknown> = {}) {
  const created = await createList(t, { kind: 'newsletter', name: 'Nyhetsbrev', ...list })
  const notice = await t.as('staff')({ method: 'POST', url: '/v1/notices', payload: NOTICE })
  if (notice.statusCode !== 201 && notice.statusCode !== 200) throw new Error(`notice: ${notice.statusCode} ${notice.body}`)
  return { list: created as { id: string; slug: string }, notice: notice.json() as { id: string } }
}

/** POST /v1/imports as this role, with the given form fields over the usual ones. */
export async function upload(t: TestApp, csv: string | Buffer | null, fields: Record<string, string>, options: { role?: Role; file?: Partial<FilePart> } = {}) {
  if (typeof csv === 'string') registerCsvPeople(csv)
  const form = { noticeKey: NOTICE.key, noticeVersion: String(NOTICE.version), ...fields }
  const body = multipart(form, csv === null ? undefined : { content: csv, ...options.file })
  return t.as(options.role ?? 'staff')({ method: 'POST', url: '/v1/imports', payload: body.payload, headers: body.headers })
}

export interface ImportReport {
  import: { id: string; status: string; rowsRead: number; rowsApplied: number; counts: Record<string, number>; contactsCreated: number; errorCode: string | null; error: string | null; dryRun: boolean }
  rows: { line: number; code: string; detail: string | null }[]
  nextRowsCursor: string | null
}

/** Polls the import until it is no longer running, as a client would, and returns its report. */
export async function waitForImport(t: TestApp, id: string): Promise<ImportReport> {
  for (let i = 0; i < 2000; i++) {
    const res = await t.as('staff')({ method: 'GET', url: `/v1/imports/${id}` })
    if (res.statusCode !== 200) throw new Error(`GET import: ${res.statusCode} ${res.body}`)
    const report = res.json() as ImportReport
    if (report.import.status !== 'running') return report
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('the import did not finish')
}

/** Uploads and waits: the finished import's report. */
export async function importCsv(t: TestApp, csv: string, fields: Record<string, string>) {
  const res = await upload(t, csv, fields)
  if (res.statusCode !== 202) throw new Error(`import: ${res.statusCode} ${res.body}`)
  return waitForImport(t, res.json().id)
}
