import { Type } from 'typebox'
import { MessageKindSchema } from '../decision/schemas.js'
import { LegalBasisSchema } from '../lists/schemas.js'
import { NullableString, NullableTimestamp, PageQuery, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'

const DecisionOutcomeSchema = Type.Union([Type.Literal('allowed'), Type.Literal('blocked')])
const DeliveryStatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('sending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
  Type.Literal('skipped'),
])

/** One row of the send ledger: a decision (immutable) and the delivery state of the message. */
export const LedgerEntry = Type.Object({
  id: Uuid,
  messageId: Type.String(),
  contactId: Type.Union([Uuid, Type.Null()], { description: 'null when the address belonged to no contact' }),
  addressHash: Type.String({ description: 'HMAC-SHA256 of the canonical address with the suppression pepper' }),
  kind: MessageKindSchema,
  listId: Type.Union([Uuid, Type.Null()]),
  courseId: NullableString,
  campaignId: Type.Union([Uuid, Type.Null()]),
  templateVersion: NullableString,
  decision: DecisionOutcomeSchema,
  basis: Type.Union([LegalBasisSchema, Type.Null()]),
  evidenceType: Type.Union([Type.String(), Type.Null()], { description: 'consent_event, enrollment, list, suppression or subscription' }),
  evidenceId: NullableString,
  reason: Type.Union([Type.String(), Type.Null()], { description: 'A BlockReason when blocked (see POST /v1/decisions)' }),
  decidedAt: Timestamp,
  deliveryStatus: DeliveryStatusSchema,
  attempts: Type.Integer(),
  sentAt: NullableTimestamp,
  failedAt: NullableTimestamp,
  lastError: NullableString,
})

export const LedgerQuery = Type.Object(
  {
    ...PageQuery,
    contactId: Type.Optional(Uuid),
    campaignId: Type.Optional(Uuid),
    listId: Type.Optional(Uuid),
    from: Type.Optional(TimestampInput),
    to: Type.Optional(TimestampInput),
    decision: Type.Optional(DecisionOutcomeSchema),
  },
  { additionalProperties: false },
)
