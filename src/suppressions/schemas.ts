import { Type } from 'typebox'
import { enumOf, NullableString, NullableTimestamp, Page, PageQuery, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { SuppressionReason, SuppressionScope } from '../vocabulary.js'

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

/** The named schemas of this module (the spec's components). */
export const suppressionSchemas = [Suppression, CreateSuppressionBody, LiftSuppressionBody, SuppressionPage]
