import { Type } from 'typebox'
import { ConsentBody, ConsentSourceSchema } from '../consent/schemas.js'
import { ListKindSchema } from '../lists/schemas.js'
import { enumOf, ListOf, NullableTimestamp, Page, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'
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

export const Member = Type.Object({ ...Subscription.properties, email: Type.String() }, { $id: 'Member', description: 'A subscription with the address of its contact' })
export const ContactSubscription = Type.Object(
  { ...Subscription.properties, listSlug: Type.String(), listKind: ListKindSchema },
  { $id: 'ContactSubscription', description: 'A subscription with the slug and kind of its list' },
)

const Evidence = Type.String({ maxLength: 500, description: 'A reference to the evidence: form id, ticket number…' })

export const SubscribeBody = Type.Object(
  {
    contactId: Uuid,
    source: ConsentSourceSchema,
    evidence: Type.Optional(Evidence),
    consent: Type.Optional(ConsentBody),
  },
  {
    $id: 'SubscribeRequest',
    additionalProperties: false,
    examples: [
      {
        contactId: '0b7d3f2a-5c1e-4a8b-9f6d-2e4c8a1b7d90',
        source: 'form',
        evidence: 'signup form on kurs.example.no',
        consent: {
          given: true,
          notice: { key: 'nyhetsbrev', version: 1, text: 'Ja, send meg nyhetsbrev.' },
          ip: '192.0.2.10',
          userAgent: 'Mozilla/5.0',
        },
      },
    ],
  },
)

export const ChangeBody = Type.Object(
  {
    source: ConsentSourceSchema,
    evidence: Type.Optional(Evidence),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  {
    $id: 'SubscriptionChange',
    additionalProperties: false,
    description: 'Who or what asked for the change, and the evidence',
    examples: [{ source: 'link', evidence: 'unsubscribe link in newsletter 2026-11', ip: '192.0.2.10' }],
  },
)

export const MemberParams = Type.Object({ id: Uuid, contactId: Uuid }, { additionalProperties: false })

export const MembersQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(SubscriptionStatusSchema) },
  { additionalProperties: false },
)

export const UnsubscribeAllResult = Type.Object(
  {
    effectiveNow: Type.Array(Type.Object({ listId: Uuid, slug: Type.String(), kind: ListKindSchema }), {
      description: 'Lists unsubscribed at once',
    }),
    deferred: Type.Array(
      Type.Object({ listId: Uuid, slug: Type.String(), courseId: Type.String(), takesEffectAt: Timestamp }),
      { description: 'Course lists held by an active enrollment: carried out when it ends' },
    ),
    suppressionId: Type.String({ format: 'uuid', description: 'The global suppression that keeps every other list away' }),
  },
  { $id: 'UnsubscribeAllResult', description: 'What took effect now, and what will, when' },
)

export const MemberPage = Page('MemberPage', Member)
export const ContactSubscriptionList = ListOf('ContactSubscriptionList', ContactSubscription)

/** The named schemas of this module (the spec's components). */
export const subscriptionSchemas = [
  Subscription,
  Member,
  ContactSubscription,
  SubscribeBody,
  ChangeBody,
  UnsubscribeAllResult,
  MemberPage,
  ContactSubscriptionList,
]
