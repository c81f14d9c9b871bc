import { Type } from 'typebox'
import { BlockReasonSchema, MessageKindSchema } from '../decision/schemas.js'
import { LegalBasisSchema } from '../lists/schemas.js'
import { enumOf, NullableString, NullableTimestamp, Page, PageQuery, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { DecisionOutcome, DeliveryStatus, EvidenceType } from '../vocabulary.js'

const DecisionOutcomeSchema = enumOf(DecisionOutcome)
const DeliveryStatusSchema = enumOf(DeliveryStatus)

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
  evidenceType: Type.Union([enumOf(EvidenceType), Type.Null()], { description: 'What kind of row the evidence is' }),
  evidenceId: NullableString,
  reason: Type.Union([BlockReasonSchema, Type.Null()], { description: 'Why it was blocked (see POST /v1/decisions)' }),
  decidedAt: Timestamp,
  deliveryStatus: DeliveryStatusSchema,
  attempts: Type.Integer(),
  sentAt: NullableTimestamp,
  failedAt: NullableTimestamp,
  lastError: NullableString,
}, { $id: 'LedgerEntry', description: 'One decision on the send path (immutable) and the delivery state of its message' })

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

export const LedgerPage = Page('LedgerPage', LedgerEntry)

/** The named schemas of this module (the spec's components). */
export const ledgerSchemas = [LedgerEntry, LedgerPage]
