import { Type } from 'typebox'
import { ConsentBody, ConsentSourceSchema } from '../consent/schemas.js'
import { ListKindSchema } from '../lists/schemas.js'
import { enumOf, NullableTimestamp, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'
import { SubscriptionStatus } from '../vocabulary.js'

export const SubscriptionStatusSchema = enumOf(SubscriptionStatus)

export const Subscription = Type.Object(
  {
    id: Uuid,
    contactId: Uuid,
    listId: Uuid,
    status: SubscriptionStatusSchema,
    source: ConsentSourceSchema,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    confirmedAt: NullableTimestamp,
    unsubscribedAt: NullableTimestamp,
  },
  { $id: 'Subscription' },
)

export const Member = Type.Object({ ...Subscription.properties, email: Type.String() })
export const ContactSubscription = Type.Object({ ...Subscription.properties, listSlug: Type.String(), listKind: ListKindSchema })

const Evidence = Type.String({ maxLength: 500, description: 'A reference to the evidence: form id, ticket number…' })

export const SubscribeBody = Type.Object(
  {
    contactId: Uuid,
    source: ConsentSourceSchema,
    evidence: Type.Optional(Evidence),
    consent: Type.Optional(ConsentBody),
  },
  { additionalProperties: false },
)

export const ChangeBody = Type.Object(
  {
    source: ConsentSourceSchema,
    evidence: Type.Optional(Evidence),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
)

export const MemberParams = Type.Object({ id: Uuid, contactId: Uuid }, { additionalProperties: false })

export const MembersQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(SubscriptionStatusSchema) },
  { additionalProperties: false },
)

export const UnsubscribeAllResult = Type.Object({
  effectiveNow: Type.Array(Type.Object({ listId: Uuid, slug: Type.String(), kind: ListKindSchema }), {
    description: 'Lists unsubscribed at once',
  }),
  deferred: Type.Array(
    Type.Object({ listId: Uuid, slug: Type.String(), courseId: Type.String(), takesEffectAt: Timestamp }),
    { description: 'Course lists held by an active enrollment: carried out when it ends' },
  ),
  suppressionId: Uuid,
})
