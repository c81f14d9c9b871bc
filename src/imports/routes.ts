// Staff API for imports: upload a CSV file (multipart/form-data, streamed to
// the upload folder, never held in memory), answered 202 with the running
// import; read its progress and report; list imports. Multipart is spoken in
// this plugin's scope only; everything else of the API is JSON.
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { dirname } from 'node:path'
import { pipeline } from 'node:stream/promises'
import multipart, { type MultipartFile } from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyRequest } from 'fastify'
import type { Static } from 'typebox'
import { AppError, ValidationError } from '../lib/errors.js'
import { API_PREFIX } from '../lib/http.js'
import { errorResponses, IdParams, PageQuery, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { Type } from 'typebox'
import { ImportBody, ImportForm, ImportJob, ImportPage, ImportRowPage, ImportRowsQuery, ImportWithReport } from './schemas.js'
import type { ImportOptions } from './service.js'

const tags = ['imports']

/** What browsers, curl and spreadsheet programs call a CSV file; anything else is not one. */
const CSV_TYPES = new Set(['text/csv', 'text/plain', 'application/csv', 'text/comma-separated-values', 'application/vnd.ms-excel', 'application/octet-stream'])

/** The first rows of the report GET /v1/imports/{id} shows; the rest are paged at …/rows. */
const REPORT_ROWS = 100

interface Upload {
  /** What the form's `file` field holds once the part is saved: tells the file part from a text field of that name. */
  token: string
  path: string
  /** Handed to the import service, which deletes it when the import ends. */
  taken: boolean
}
const uploads = new WeakMap<FastifyRequest, Upload>()
/** Requests whose form was read to its end: an error after that is not the form's. */
const formRead = new WeakSet<FastifyRequest>()

/** The multipart parser's refusals, as problems; a body cut short is a plain error without a status. */
function multipartProblem(error: FastifyError, request: FastifyRequest): AppError | null {
  if (error instanceof AppError || error.validation || formRead.has(request)) return null
  switch (error.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError(413, 'payload_too_large', 'The file is larger than IMPORT_MAX_BYTES allows')
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError(400, 'bad_request', 'Send one file and the import’s fields, nothing more')
    default:
      return error.statusCode ? null : new AppError(400, 'bad_request', 'The form could not be read')
  }
}

function optionsOf(form: Static<typeof ImportForm>): ImportOptions {
  let mapping: Record<string, string> | undefined
  if (form.mapping !== undefined) {
    const parsed: unknown = (() => {
      try {
        return JSON.parse(form.mapping)
      } catch {
        return null
      }
    })()
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      throw new ValidationError([{ field: 'body.mapping', message: 'must be a JSON object of header → field names' }], 'import_mapping_invalid')
    }
    mapping = parsed as Record<string, string>
  }
  return {
    list: form.list,
    noticeKey: form.noticeKey,
    noticeVersion: Number(form.noticeVersion),
    dryRun: form.dryRun === 'true',
    allOrNothing: form.allOrNothing === 'true',
    mapping,
  }
}

export const importRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { imports } = app.services

  // In this scope only: the one body taken is the upload form.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => done(new AppError(415, 'unsupported_media_type', 'Send the file as multipart/form-data'), undefined))
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { files: 1, fields: 10, parts: 11, fieldSize: 16 * 1024, fieldNameSize: 100, fileSize: imports.uploadLimit },
    async onFile(this: FastifyRequest, part: MultipartFile) {
      if (part.fieldname !== 'file') throw new ValidationError([{ field: `body.${part.fieldname}`, message: 'is not a file field; send the file as "file"' }])
      const mediaType = part.mimetype.split(';')[0]!.trim().toLowerCase()
      if (!CSV_TYPES.has(mediaType)) throw new AppError(415, 'import_not_csv', `The file is ${mediaType}, not CSV (text/csv)`)
      const path = imports.newUploadPath()
      const upload: Upload = { token: randomUUID(), path, taken: false }
      uploads.set(this, upload)
      await mkdir(dirname(path), { recursive: true })
      await pipeline(part.file, createWriteStream(path, { mode: 0o600 }))
      ;(part as unknown as { value: string }).value = upload.token
    },
  })
  app.addHook('preHandler', async (request) => {
    formRead.add(request)
  })
  // An upload the import did not take (the request was refused, or the client went away) goes at once.
  const discard = async (request: FastifyRequest) => {
    const upload = uploads.get(request)
    if (upload && !upload.taken) await rm(upload.path, { force: true })
  }
  // Before the refusal is answered: whoever hears it finds no file left.
  app.setErrorHandler(async (error: FastifyError, request) => {
    await discard(request)
    throw multipartProblem(error, request) ?? error
  })
  app.addHook('onRequestAbort', discard)
  // Imports whose process stopped while they ran are marked so when the service starts.
  app.addHook('onReady', async () => {
    await imports.interruptStale()
  })
  // Closing stops this process's imports after their current batch, before the database closes.
  app.addHook('onClose', () => imports.stopRunning())

  app.post('/imports', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createImport',
      summary: 'Import subscribers from a CSV file (listmonk, Mailchimp or Mailtrain export, or mapped)',
      description:
        'The file is checked (CSV text, a header with an address column, the list and the notice) before anything is recorded; then the import runs in the background ' +
        'and the answer is 202 with the running import: poll GET /v1/imports/{id}. Each row is put on its list with the consent evidence in the ledger ' +
        '(source import, the notice named), unless the address was erased, objected, left the list or is suppressed for it — never re-added — or the row is invalid ' +
        '(reported by line number and code). allOrNothing: one invalid row and none is applied. dryRun: the report of what would happen, nothing written.',
      tags,
      body: ImportBody,
      response: { 202: ref(ImportJob, 'The import, running; Location is its address'), ...errorResponses(413, 415, 422) },
    },
    handler: async (request, reply) => {
      const form = request.body as Static<typeof ImportForm>
      const upload = uploads.get(request)
      if (!upload || form.file !== upload.token) throw new ValidationError([{ field: 'body.file', message: 'must be the file, as a file part' }])
      const options = optionsOf(form)
      upload.taken = true
      const job = await imports.startImport({ path: upload.path, ownsFile: true, options }, request.actor, (importId, error) =>
        app.log.error({ importId, err: error }, 'import failed'),
      )
      return reply.code(202).header('location', `${API_PREFIX}/imports/${job.id}`).send(job)
    },
  })

  app.get('/imports', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listImports',
      summary: 'List imports, oldest first',
      tags,
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: { 200: ref(ImportPage, 'A page of imports') },
    },
    handler: async (request) => imports.listImports(request.query),
  })

  app.get('/imports/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getImport',
      summary: 'An import’s status, progress and report',
      description: `The counts by outcome code, and the first ${REPORT_ROWS} rows not applied, by line number (never by address); the rest at GET /v1/imports/{id}/rows.`,
      tags,
      params: IdParams,
      response: { 200: ref(ImportWithReport, 'The import and its report'), ...errorResponses(404) },
    },
    handler: async (request) => imports.importWithReport(request.params.id, REPORT_ROWS),
  })

  app.get('/imports/:id/rows', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listImportRows',
      summary: 'The rows of an import that were not applied, by line, optionally of one code',
      tags,
      params: IdParams,
      querystring: ImportRowsQuery,
      response: { 200: ref(ImportRowPage, 'A page of rows'), ...errorResponses(404) },
    },
    handler: async (request) => imports.importRows(request.params.id, request.query),
  })
}
