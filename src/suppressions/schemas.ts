import { Type } from 'typebox'
import { enumOf, NullableString, NullableTimestamp, Page, PageQuery, ref, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { SuppressionReason, SuppressionScope } from '../vocabulary.js'
import { NDJSON, TransferProblemCode } from './transfer-format.js'

export const ScopeSchema = enumOf(SuppressionScope, { description: 'global: every list but course and transactional mail; list; purpose (e.g. all marketing); all-mail: everything (a hard bounce)' })
export const ReasonSchema = enumOf(SuppressionReason)

export const Suppression = Type.Object(
  {
    id: Uuid,
    contactId: Type.Union([Uuid, Type.Null()], { description: 'Null once the contact is gone; the address hash remains' }),
    addressHash: Type.String({ description: 'HMAC-SHA256 of the normalised address under the configured pepper; not reversible' }),
    scope: ScopeSchema,
    reason: ReasonSchema,
    listId: Type.Union([Uuid, Type.Null()]),
    purpose: NullableString,
    note: NullableString,
    expiresAt: NullableTimestamp,
    createdAt: Timestamp,
    createdById: Type.String(),
    createdByName: NullableString,
    liftedAt: NullableTimestamp,
    liftedById: NullableString,
    liftedByName: NullableString,
    liftReason: NullableString,
  },
  { $id: 'Suppression' },
)

const Purpose = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })

export const CreateSuppressionBody = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
    contactId: Type.Optional(Uuid),
    scope: ScopeSchema,
    reason: ReasonSchema,
    listId: Type.Optional(Uuid),
    purpose: Type.Optional(Purpose),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    expiresAt: Type.Optional(TimestampInput),
  },
  {
    $id: 'NewSuppression',
    additionalProperties: false,
    description: 'The person (by email or contactId, not both) and what not to send them',
    examples: [{ email: 'ola@example.no', scope: 'global', reason: 'complaint', note: 'spam report via the mail provider' }],
  },
)

export const LiftSuppressionBody = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 1000, description: 'Why it is lifted; kept in the audit log' }) },
  { $id: 'LiftRequest', additionalProperties: false, examples: [{ reason: 'Entered for the wrong person' }] },
)

export const ListSuppressionsQuery = Type.Object(
  {
    ...PageQuery,
    contactId: Type.Optional(Uuid),
    email: Type.Optional(Type.String({ maxLength: 320, description: 'Matched through its keyed hash; never stored in clear' })),
    scope: Type.Optional(ScopeSchema),
    reason: Type.Optional(ReasonSchema),
    active: Type.Optional(
      Type.Boolean({ description: "Only those in force now: not lifted, not expired, not superseded by the person's own newer consent" }),
    ),
  },
  { additionalProperties: false },
)

export const SuppressionPage = Page('SuppressionPage', Suppression)

const FILE_DESCRIPTION =
  'NDJSON. Line 1, the header: {"format":"samtykke-suppressions","version":1,"pepperFingerprint","exportId","exportedAt"}. ' +
  'Then one suppression in force a line: {"addressHash","scope","reason","list" (slug, scope list only),"purpose" (scope purpose only),"createdAt","expiresAt"}. ' +
  'No contact id, address, name or note.'

const fileContent = { [NDJSON]: { schema: { type: 'string', description: FILE_DESCRIPTION } } }

/** The transfer file as the import takes it: its text. */
export const SuppressionFile = Type.Unsafe<string>({ content: fileContent })

/** The transfer file as the export answers it: streamed. */
export const SuppressionFileStream = Type.Unsafe<NodeJS.ReadableStream>({ description: 'The transfer file', content: fileContent })

export const ImportSuppressionsQuery = Type.Object(
  {
    allOrNothing: Type.Optional(
      Type.Boolean({ default: false, description: 'Refuse the whole file (422 suppression_file_invalid, nothing written) if any line cannot be imported' }),
    ),
  },
  { additionalProperties: false },
)

export const SuppressionTransferProblem = Type.Object(
  {
    line: Type.Integer({ minimum: 1, description: 'Line number in the file (the header is line 1)' }),
    code: enumOf(TransferProblemCode, { description: 'line_malformed: not a record of this format; list_unknown: no list here has its slug' }),
    message: Type.String(),
  },
  { $id: 'SuppressionTransferProblem', additionalProperties: false },
)

export const SuppressionImportReport = Type.Object(
  {
    id: Uuid,
    exportId: Type.String({ description: 'The export the file came from (its audit entry on the exporting instance)' }),
    records: Type.Integer({ description: 'Suppression lines in the file' }),
    created: Type.Integer({ description: 'Written here now' }),
    alreadyInForce: Type.Integer({ description: 'The same suppression was in force here already (written by an earlier import, or said here too)' }),
    expired: Type.Integer({ description: 'Expired since the export; not written' }),
    problemCount: Type.Integer({ description: 'Lines not imported' }),
    problems: Type.Array(ref(SuppressionTransferProblem), { description: 'The first 1000 of them, by line' }),
  },
  { $id: 'SuppressionImportReport', additionalProperties: false },
)

/** The named schemas of this module (the spec's components). */
export const suppressionSchemas = [Suppression, CreateSuppressionBody, LiftSuppressionBody, SuppressionPage, SuppressionTransferProblem, SuppressionImportReport]
