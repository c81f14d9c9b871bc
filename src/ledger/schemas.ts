import { Type } from 'typebox'
import { BlockReasonSchema, MessageKindSchema } from '../decision/schemas.js'
import { LegalBasisSchema } from '../lists/schemas.js'
import { enumOf, NullableString, Page, PageQuery, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { DecisionOutcome, DecisionStage, EvidenceType } from '../vocabulary.js'

const DecisionOutcomeSchema = enumOf(DecisionOutcome)
export const DecisionStageSchema = enumOf(DecisionStage, {
  description: 'enqueue: when the message was queued; delivery: again, just before it was handed to SMTP',
})

/** One row of the send ledger: a decision, immutable. */
export const LedgerEntry = Type.Object({
  id: Uuid,
  messageId: Uuid,
  stage: DecisionStageSchema,
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
}, {
  $id: 'LedgerEntry',
  description: 'One decision on the send path, immutable: when a message was queued, and again when it was delivered. What happened at delivery is in GET /v1/messages/{id}.',
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
    stage: Type.Optional(DecisionStageSchema),
  },
  { additionalProperties: false },
)

export const LedgerPage = Page('LedgerPage', LedgerEntry)

/** The named schemas of this module (the spec's components). */
export const ledgerSchemas = [LedgerEntry, LedgerPage]
