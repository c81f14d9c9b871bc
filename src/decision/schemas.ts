import { Type } from 'typebox'
import { Enrollment } from '../courses/schemas.js'
import { LegalBasisSchema, ListKindSchema } from '../lists/schemas.js'
import { Suppression } from '../suppressions/schemas.js'
import { enumOf, NullableTimestamp, ref, Timestamp, Uuid } from '../lib/schemas.js'
import { ConsentEvent } from '../consent/schemas.js'
import { Subscription } from '../subscriptions/schemas.js'
import { BlockReason, DecisionRule, EvidenceType, MessageKind } from '../vocabulary.js'

export const MessageKindSchema = enumOf(MessageKind, {
  description: 'course: about one course (courseId); newsletter, marketing, transactional: to one list of that kind (listId)',
})
export const BlockReasonSchema = enumOf(BlockReason, { description: 'Why the message is blocked: a closed, stable set' })
export const EvidenceSchema = Type.Object(
  {
    type: enumOf(EvidenceType),
    id: Type.String({ description: 'The id of the row that is the evidence' }),
  },
  { $id: 'Evidence', description: 'The row the answer stands on: a consent event, an enrollment, the list, a suppression, a subscription' },
)
const NullableEvidence = Type.Union([ref(EvidenceSchema), Type.Null()])
const CourseId = Type.String({ minLength: 1, maxLength: 200, description: "The course system's own course id" })

export const DecideBody = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 320, description: 'The recipient by address (or contactId; not both)' })),
    contactId: Type.Optional(Uuid),
    kind: MessageKindSchema,
    listId: Type.Optional(Uuid),
    courseId: Type.Optional(CourseId),
  },
  {
    $id: 'DecisionRequest',
    additionalProperties: false,
    description: 'One recipient (by email or contactId) and one message: course mail names its course, other mail its list',
    examples: [{ email: 'kari@example.no', kind: 'course', courseId: 'YOGA-2026-1' }],
  },
)

/** The decision's answer; fields that do not apply are null. */
const decisionFields = {
  allowed: Type.Boolean(),
  basis: Type.Union([LegalBasisSchema, Type.Null()], { description: 'The legal basis when allowed' }),
  evidence: NullableEvidence,
  reason: Type.Union([BlockReasonSchema, Type.Null()], { description: 'Why not, when blocked' }),
  lockedUntil: Type.Unsafe<Date | null>({
    type: ['string', 'null'],
    format: 'date-time',
    description: 'Course mail: the person cannot opt out of it before this time',
  }),
  rule: enumOf(DecisionRule, { description: 'The rule of the decision table that decided' }),
}

export const DecisionSchema = Type.Object(
  {
    ...decisionFields,
    contactId: Type.Union([Uuid, Type.Null()], { description: 'null when the address belongs to no contact' }),
    decidedAt: Timestamp,
  },
  { $id: 'Decision', description: 'Allowed, with the basis and the evidence; or blocked, with the reason' },
)

const ExplainedDecision = Type.Object(
  { ...decisionFields, ruleText: Type.String({ description: 'The rule in words' }) },
  { $id: 'ExplainedDecision', description: 'The decision, and its rule in words' },
)

const ExplainedSuppression = Type.Object(
  { ...Suppression.properties, active: Type.Boolean({ description: 'In force now: not lifted and not expired' }) },
  { $id: 'ExplainedSuppression' },
)

export const Explanation = Type.Object({
  contactId: Uuid,
  explainedAt: Timestamp,
  lists: Type.Array(
    Type.Object({
      list: Type.Object({ id: Uuid, slug: Type.String(), name: Type.String(), kind: ListKindSchema, purpose: Type.String() }),
      decision: ref(ExplainedDecision),
      subscription: Type.Union([ref(Subscription), Type.Null()]),
      consentEvents: Type.Array(ref(ConsentEvent), { description: 'The consent events the decision read for this list, oldest first' }),
      suppressions: Type.Array(
        Type.Object({
          ...ExplainedSuppression.properties,
          overriddenBy: Type.Union([Uuid, Type.Null()], {
            description: "The person's own newer consent event that speaks over this suppression for this list, if one does",
          }),
        }),
        { description: 'The suppressions in force that the decision found covering this list' },
      ),
    }),
  ),
  courses: Type.Array(
    Type.Object({
      course: Type.Object({ id: Type.String(), name: Type.String(), category: Type.String(), startsAt: Timestamp, endsAt: Timestamp }),
      decision: ref(ExplainedDecision),
      enrollments: Type.Array(ref(Enrollment)),
      lockedUntil: NullableTimestamp,
      deferredUnsubscribe: Type.Union([
        Type.Object(
          { requestedAt: Timestamp, takesEffectAt: Timestamp, appliedAt: NullableTimestamp },
          { description: 'An opt-out from the course list asked for during the course, carried out when it ends' },
        ),
        Type.Null(),
      ]),
    }),
  ),
  suppressions: Type.Array(ref(ExplainedSuppression), { description: 'Every suppression of the contact or its address, lifted ones included' }),
}, { $id: 'Explanation', description: 'Why each list and course would or would not get mail to a contact now' })

/** The named schemas of this module (the spec's components). */
export const decisionSchemas = [EvidenceSchema, DecideBody, DecisionSchema, ExplainedDecision, ExplainedSuppression, Explanation]
