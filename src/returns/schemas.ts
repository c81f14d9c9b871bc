import { Type } from 'typebox'
import { enumOf, Page, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'
import { ReturnEffect, ReturnOutcome } from '../vocabulary.js'

const ReportRejection = Type.Union(
  ['report_unparsable', 'report_not_a_report', 'report_signature_invalid', 'report_too_large', 'report_unmatched', 'report_recipient_mismatch'].map((code) => Type.Literal(code)),
  { description: 'Why it was rejected' },
)

export const ReportResult = Type.Object(
  {
    outcome: Type.Union([Type.Literal('applied'), Type.Literal('duplicate'), Type.Literal('rejected')], {
      description: 'applied: matched and acted on; duplicate: the same report came before and nothing changed; rejected: it changed nothing',
    }),
    reportId: Type.Union([Uuid, Type.Null()], { description: 'The kept record (GET /v1/returns); null for a duplicate' }),
    messageId: Type.Union([Uuid, Type.Null()], { description: 'The message it is about' }),
    effect: Type.Union([enumOf(ReturnEffect), Type.Null()], { description: 'What it did, by the return rules' }),
    rejection: Type.Union([ReportRejection, Type.Null()]),
  },
  { $id: 'ReportResult', additionalProperties: false, description: 'What became of one report' },
)

export const ReportResults = Type.Object(
  { results: Type.Array(Type.Unsafe({ $ref: 'ReportResult#' })) },
  { $id: 'ReportResults', additionalProperties: false, description: 'One result per report the body held' },
)

/** The raw body as the route reads it: its bytes, one character each (latin1), whatever the content type says. */
export const RawBody = (types: string[], description: string) =>
  Type.Unsafe<string>({ content: Object.fromEntries(types.map((type) => [type, { schema: { type: 'string', description } }])) })

export const ProviderQuery = Type.Object(
  { provider: Type.Union([Type.Literal('ses'), Type.Literal('postmark'), Type.Literal('sendgrid')], { description: 'Whose events these are' }) },
  { additionalProperties: false },
)

export const ReturnReport = Type.Object(
  {
    id: Uuid,
    channel: Type.String({ description: 'How it came: dsn, arf, ses, postmark, sendgrid, smtp (the inbound listener), relay (our relay at handover)' }),
    outcome: enumOf(ReturnOutcome),
    rejection: Type.Union([Type.String(), Type.Null()]),
    effect: Type.Union([enumOf(ReturnEffect), Type.Null()]),
    reportType: Type.Union([Type.String(), Type.Null()], { description: 'bounce, complaint or delivered' }),
    status: Type.Union([Type.String(), Type.Null()], { description: 'The enhanced status code (RFC 3463)' }),
    providerType: Type.Union([Type.String(), Type.Null()], { description: 'The provider’s own classification' }),
    messageId: Type.Union([Uuid, Type.Null()]),
    campaignId: Type.Union([Uuid, Type.Null()]),
    occurredAt: Timestamp,
    receivedAt: Timestamp,
  },
  { $id: 'ReturnReport', description: 'A report that came back, as kept: ids, codes and the keyed address hash only, never its text' },
)

export const ReturnReportPage = Page('ReturnReportPage', ReturnReport)

export const ReturnReportQuery = Type.Object(
  {
    ...PageQuery,
    outcome: Type.Optional(enumOf(ReturnOutcome)),
    messageId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
)

export const DailyQuery = Type.Object(
  {
    from: Type.String({ format: 'date', description: 'First day (UTC), inclusive' }),
    to: Type.String({ format: 'date', description: 'Last day (UTC), inclusive; at most 92 days after from' }),
  },
  { additionalProperties: false },
)

export const DailyRates = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          day: Type.String({ format: 'date' }),
          delivered: Type.Integer({ description: 'Messages delivered to the relay' }),
          hardBounces: Type.Integer(),
          softBounces: Type.Integer(),
          policyBlocks: Type.Integer(),
          complaints: Type.Integer(),
          complaintRate: Type.Number({ description: 'Complaints per delivered message (the providers warn at 0.001, stop a sender at 0.003)' }),
          hardBounceRate: Type.Number({ description: 'Hard bounces per delivered message' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { $id: 'DailyReturnRates', additionalProperties: false, description: 'Per day: what was delivered and what came back' },
)

export const returnSchemas = [ReportResult, ReportResults, ReturnReport, ReturnReportPage, DailyRates]
