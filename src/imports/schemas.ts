import { Type } from 'typebox'
import { enumOf, NullableString, NullableTimestamp, Page, PageQuery, ref, Timestamp, Uuid } from '../lib/schemas.js'
import { ActorRole, ImportFormat, ImportPhase, ImportRowCode, ImportStatus } from '../vocabulary.js'
import { IGNORE, IMPORT_FIELDS } from './fields.js'

const Count = Type.Integer({ minimum: 0 })

export const ImportJob = Type.Object(
  {
    id: Uuid,
    status: enumOf(ImportStatus, {
      description: 'running; completed; rejected (all or nothing, and some rows are invalid: nothing applied); failed (errorCode says why); interrupted (its process stopped)',
    }),
    phase: enumOf(ImportPhase, { description: 'checking every row first (all or nothing), or applying them' }),
    dryRun: Type.Boolean({ description: 'Nothing is written but the job and its report: what would happen' }),
    allOrNothing: Type.Boolean(),
    listId: Type.Union([Uuid, Type.Null()], { description: 'The list rows without a list column go to' }),
    noticeId: Uuid,
    format: enumOf(ImportFormat, { description: 'Whose export the file is, by its header' }),
    columns: Type.Array(
      Type.Object({ header: Type.String(), field: Type.Union([Type.String(), Type.Null()], { description: 'What the column was read as; null: ignored' }) }),
      { description: 'The file’s header and how each column was read' },
    ),
    bytesTotal: Count,
    bytesRead: Count,
    rowsRead: Type.Integer({ minimum: 0, description: 'Rows read in this phase' }),
    rowsApplied: Type.Integer({ minimum: 0, description: 'Rows added to their list (in a dry run: that would be)' }),
    contactsCreated: Count,
    counts: Type.Record(Type.String(), Count, { description: 'Rows by outcome code (see ImportRow.code)' }),
    errorCode: Type.Union([Type.String(), Type.Null()], { description: 'Why it failed or was interrupted: import_malformed_csv, import_interrupted, internal_error' }),
    error: NullableString,
    createdById: Type.String(),
    createdByName: NullableString,
    createdByRole: Type.Union([enumOf(ActorRole), Type.Null()]),
    createdAt: Timestamp,
    finishedAt: NullableTimestamp,
  },
  { $id: 'Import', description: 'An import of subscribers from a CSV file, its progress and its counts' },
)

export const ImportRow = Type.Object(
  {
    line: Type.Integer({ minimum: 1, description: 'The line of the file the row starts on (the header is line 1)' }),
    code: enumOf(ImportRowCode, {
      description:
        'Kept out: erased, objected, left_list, suppressed, not_subscribed_in_source. Invalid: missing_email, invalid_email, invalid_date, date_in_future, ' +
        'missing_list, unknown_list, list_not_importable, duplicate_in_file, invalid_status, invalid_ip, field_too_long, invalid_text',
    }),
    detail: Type.Union([Type.String(), Type.Null()], { description: 'More of why, in the service’s words; never the row’s content' }),
  },
  { $id: 'ImportRow', description: 'A row of the file that was not applied' },
)

export const ImportRowPage = Page('ImportRowPage', ImportRow)

export const ImportWithReport = Type.Object(
  {
    import: ref(ImportJob),
    rows: Type.Array(ref(ImportRow), { description: 'The first rows not applied, by line' }),
    nextRowsCursor: Type.Union([Type.String(), Type.Null()], { description: 'More rows: GET /v1/imports/{id}/rows?cursor=…' }),
  },
  { $id: 'ImportWithReport' },
)

export const ImportPage = Page('ImportPage', ImportJob)

const fieldNames = [...IMPORT_FIELDS, IGNORE].join(', ')

/** A yes/no form field, as a form sends it. */
const Flag = (description: string) => Type.Unsafe<'true' | 'false'>({ type: 'string', enum: ['true', 'false'], description })

/** The form POST /v1/imports takes: the file and the import's options, as multipart/form-data fields. */
export const ImportForm = Type.Object(
  {
    file: Type.String({ format: 'binary', contentMediaType: 'text/csv', description: 'The CSV file, as listmonk, Mailchimp or Mailtrain export it, or with a header of your own (see mapping)' }),
    list: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'The slug of the list rows without a list column go to' })),
    noticeKey: Type.String({ minLength: 1, maxLength: 200, description: 'The notice the people consented under (it must be stored)' }),
    noticeVersion: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }),
    dryRun: Type.Optional(Flag('true: the report of what would happen, and nothing written')),
    allOrNothing: Type.Optional(Flag('true: one invalid row and no row is applied')),
    mapping: Type.Optional(
      Type.String({ maxLength: 8000, description: `A JSON object of header → field over the defaults, e.g. {"Epost":"email","Navn":"name"}; the fields are ${fieldNames}` }),
    ),
  },
  { additionalProperties: false },
)

export const ImportBody = Type.Unsafe({ content: { 'multipart/form-data': { schema: ImportForm } } })

export const ImportRowsQuery = Type.Object({ ...PageQuery, code: Type.Optional(enumOf(ImportRowCode)) }, { additionalProperties: false })

/** The named schemas of this module (the spec's components). */
export const importSchemas = [ImportJob, ImportRow, ImportRowPage, ImportWithReport, ImportPage]
