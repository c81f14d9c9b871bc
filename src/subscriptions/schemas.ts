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

const Slug = Type.String({ minLength: 1, maxLength: 100 })

export const SignupBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320, description: 'The address to sign up' }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    lists: Type.Union([Slug, Type.Array(Slug, { minItems: 1, maxItems: 20 })], { description: 'Slugs of public newsletter or marketing lists: one, or several' }),
    noticeKey: Type.String({ minLength: 1, maxLength: 100, description: 'The consent text the form showed: its key…' }),
    noticeVersion: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[1-9][0-9]{0,8}$' })], { description: '…and version (a number, or its digits from a form)' }),
    website: Type.Optional(Type.String({ maxLength: 1000, description: 'A honeypot: a form hides this field from people; a request that fills it is answered as usual and does nothing' })),
    lang: Type.Optional(Type.Union([Type.Literal('nb'), Type.Literal('en')], { description: 'The language of the answer page and the confirmation mail' })),
  },
  {
    $id: 'SignupRequest',
    additionalProperties: false,
    description: 'A signup from a web form: as JSON, or as the form itself (application/x-www-form-urlencoded), answered then with a page',
  },
)

export const SignupReceived = Type.Object(
  { status: Type.Literal('received') },
  { $id: 'SignupReceived', description: 'The same answer whether or not the address was known: a confirmation mail follows where a list asks for it' },
)

export const signupSchemas = [SignupBody, SignupReceived]
