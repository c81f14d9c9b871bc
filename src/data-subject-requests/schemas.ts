import { Type } from 'typebox'
import { ProcessorNotice } from '../processors/schemas.js'
import { enumOf, NullableString, ref, NullableTimestamp, Page, PageQuery, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { ActorRole, RequestChannel, RequestStatus, RequestType } from '../vocabulary.js'

const TypeSchema = enumOf(RequestType, { description: 'access (art. 15), portability (20), rectification (16), erasure (17), restriction (18), objection (21)' })
const StatusSchema = enumOf(RequestStatus)

export const DataSubjectRequest = Type.Object(
  {
    id: Uuid,
    type: TypeSchema,
    status: StatusSchema,
    channel: enumOf(RequestChannel),
    contactId: Type.Union([Uuid, Type.Null()], { description: 'null when we hold no contact for the address, or once erased' }),
    details: Type.Union([Type.String(), Type.Null()], { description: 'What the person asked, in their words; cleared on erasure' }),
    receivedAt: Timestamp,
    dueOn: Type.String({ format: 'date', description: 'The last day to answer on, in Europe/Oslo' }),
    dueAt: Timestamp,
    dueLimit: Type.Unsafe<string>({
      type: 'string',
      enum: ['working_days', 'one_month'],
      description: 'Which limit set the due date: the 14th Norwegian working day after receipt, or one month (GDPR art. 12(3))',
    }),
    overdue: Type.Boolean({ description: 'Open and past its due date' }),
    dueSoon: Type.Boolean({ description: 'Open and due within REQUEST_DUE_SOON_DAYS' }),
    dueSoonAt: NullableTimestamp,
    restrictionId: Type.Union([Uuid, Type.Null()], { description: 'A restriction request: the all-mail suppression that holds it' }),
    outcome: NullableString,
    closedAt: NullableTimestamp,
    closedById: NullableString,
    closedByName: NullableString,
    createdAt: Timestamp,
    createdById: Type.String(),
    createdByName: NullableString,
    createdByRole: Type.Union([enumOf(ActorRole), Type.Null()]),
    updatedAt: Timestamp,
    processorNotices: Type.Optional(
      Type.Array(ref(ProcessorNotice), { description: 'GET of one request: the notices it caused to third parties (P9), with their delivery status' }),
    ),
  },
  { $id: 'DataSubjectRequest', description: 'A request about a person’s data: when it came, when it is due, where it is' },
)

export const NewDataSubjectRequest = Type.Object(
  {
    type: TypeSchema,
    channel: enumOf(RequestChannel, { description: 'How it reached us' }),
    contactId: Type.Optional(Uuid),
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 320, description: 'When we hold no contact, or staff know only the address' })),
    receivedAt: Type.Optional(TimestampInput),
    details: Type.Optional(Type.String({ maxLength: 10_000 })),
  },
  {
    $id: 'NewDataSubjectRequest',
    additionalProperties: false,
    description: 'Name the person by contactId or by email, not both. receivedAt defaults to now and may not be in the future.',
    examples: [{ type: 'access', channel: 'email', email: 'kari@example.no', receivedAt: '2026-11-25T09:12:00Z', details: 'Ber om kopi av alt dere har om meg' }],
  },
)

export const RequestOutcomeBody = Type.Object(
  { outcome: Type.String({ minLength: 3, maxLength: 10_000, description: 'What was done, or why not: what the person is told' }) },
  { $id: 'RequestOutcome', additionalProperties: false, examples: [{ outcome: 'Export sent by email on 27 November' }] },
)

export const RequestQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(StatusSchema),
    type: Type.Optional(TypeSchema),
    contactId: Type.Optional(Uuid),
    open: Type.Optional(Type.Boolean({ description: 'Only those not completed or refused, soonest due first' })),
    overdue: Type.Optional(Type.Boolean({ description: 'Only open ones past their due date, soonest due first' })),
  },
  { additionalProperties: false },
)

export const EraseBody = Type.Object(
  {
    requestId: Type.Optional(Uuid),
    scheduleAtCourseEnd: Type.Optional(
      Type.Boolean({ description: 'During a running course: schedule the erasure for its end instead of refusing it (needs requestId)' }),
    ),
  },
  { $id: 'EraseRequest', additionalProperties: false, examples: [{ requestId: '0193a5b0-4f6e-7c1a-9d2b-1e3f4a5b6c7d' }] },
)

export const ErasureAnswer = Type.Object(
  {
    status: Type.Unsafe<string>({ type: 'string', enum: ['erased', 'already_erased', 'scheduled'] }),
    contactId: Uuid,
    erasedAt: Type.Optional(Timestamp),
    eraseAfter: Type.Optional(Timestamp),
    requestId: Type.Optional(Uuid),
    suppressionId: Type.Optional(Uuid),
    notices: Type.Optional(
      Type.Array(Type.Object({ id: Uuid, processorId: Type.String(), method: Type.String(), status: Type.String() }), {
        description: 'The third parties told (P9): webhook notices are delivered by a job with retries, manual ones are tasks for staff',
      }),
    ),
    removed: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: 'Rows deleted, by kind' })),
    redacted: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: 'Rows kept as proof with their personal values set to null, by kind' })),
    kept: Type.Optional(
      Type.Array(
        Type.Object({ records: Type.String(), count: Type.Integer(), reason: Type.String(), until: NullableTimestamp }),
        { description: 'What stays, and why (the law, or the proof that the erasure holds)' },
      ),
    ),
  },
  { $id: 'ErasureAnswer', description: 'What an erasure removed, redacted and kept, and why' },
)

const Rows = (description: string) => Type.Array(Type.Record(Type.String(), Type.Unknown()), { description })

export const ContactExport = Type.Object(
  {
    generatedAt: Timestamp,
    locale: Type.String(),
    controller: Type.Object({ name: Type.String(), email: Type.String() }),
    contact: Type.Record(Type.String(), Type.Unknown(), { description: 'The contact as stored' }),
    subscriptions: Rows('Every subscription, with its list'),
    consentEvents: Rows('The consent ledger about the person, each with the notice they saw'),
    enrollments: Rows('Enrollments, each with its course'),
    deferredUnsubscribes: Rows('Opt-outs kept until a course lock ends'),
    suppressions: Rows('Suppressions by contact or by address hash, lifted and expired ones included'),
    messages: Rows('Every message to the person, with its status, its decisions (send ledger) and its delivery events'),
    requests: Rows('Data-subject requests about the person'),
    processorNotices: Rows('Notices to third parties about the person (P9)'),
    returnReports: Rows('Reports that came back about messages to the person: bounces, complaints, deliveries'),
    webhookEvents: Rows('Events about the person in the webhook outbox: what the endpoints (the course system) were or will be told, with the address where one was kept, and each one’s deliveries'),
    auditEntries: Rows('Audit log entries about the person'),
    processing: Type.Object(
      {
        registerVersion: Type.String(),
        purposes: Rows('The register purposes that apply, in the person’s language: basis, categories, recipients, retention (art. 15(1))'),
        recipients: Rows('Processors that receive the person’s data'),
        security: Type.String(),
      },
      { description: 'From the processing register' },
    ),
  },
  { $id: 'ContactExport', description: 'Everything held about a person, and what the processing register says applies to them (GDPR art. 15, 20)' },
)

export const ExportQuery = Type.Object(
  { format: Type.Optional(Type.Unsafe<'json' | 'html'>({ type: 'string', enum: ['json', 'html'], default: 'json', description: 'html: the same, as a page in the person’s language' })) },
  { additionalProperties: false },
)

export const DataSubjectRequestPage = Page('DataSubjectRequestPage', DataSubjectRequest)

export const dataSubjectRequestSchemas = [DataSubjectRequest, NewDataSubjectRequest, RequestOutcomeBody, DataSubjectRequestPage, ContactExport, EraseBody, ErasureAnswer]
