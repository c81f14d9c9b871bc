import { Type } from 'typebox'
import { LegalBasisSchema } from '../lists/schemas.js'
import { enumOf, ListOf, NullableString, Timestamp, Uuid } from '../lib/schemas.js'
import { ConsentEventType, ConsentSource, Locale } from '../vocabulary.js'

export const LocaleSchema = enumOf(Locale)
const NoticeKey = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,99}$' })
const NoticeVersion = Type.Integer({ minimum: 1, maximum: 1_000_000 })
const NoticeText = Type.String({ minLength: 1, maxLength: 100_000 })

export const ConsentSourceSchema = enumOf(ConsentSource)

export const Notice = Type.Object(
  { id: Uuid, key: Type.String(), version: Type.Integer(), locale: LocaleSchema, text: Type.String(), sha256: Type.String(), createdAt: Timestamp },
  { $id: 'Notice' },
)

export const PublishNoticeBody = Type.Object(
  { key: NoticeKey, version: NoticeVersion, locale: Type.Optional(LocaleSchema), text: NoticeText },
  {
    $id: 'NewNotice',
    additionalProperties: false,
    description: 'A version of the text people see when they consent; a version, once stored, never changes',
    examples: [{ key: 'nyhetsbrev', version: 1, locale: 'nb', text: 'Ja, send meg nyhetsbrev om kurs og tilbud.' }],
  },
)

export const NoticeVersionsQuery = Type.Object({ key: NoticeKey }, { additionalProperties: false })

/** The explicit affirmative act: `given` must be literally true, never a default. */
export const ConsentBody = Type.Object(
  {
    given: Type.Literal(true, { description: 'The person actively agreed (ticked the box, clicked the button)' }),
    notice: Type.Union([
      Type.Object({ id: Uuid }, { additionalProperties: false }),
      Type.Object(
        { key: NoticeKey, version: NoticeVersion, text: Type.Optional(NoticeText), locale: Type.Optional(LocaleSchema) },
        { additionalProperties: false },
      ),
    ], { description: 'The notice the person saw: by id, or key and version with its text (stored on first use)' }),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
)

export const ConsentEvent = Type.Object(
  {
    id: Uuid,
    contactId: Type.Union([Uuid, Type.Null()], { description: 'null once the contact is erased' }),
    addressHash: Type.Union([Type.String(), Type.Null()], {
      description: 'HMAC-SHA256 of the address under the suppression pepper: the link to the person that outlives erasure',
    }),
    listId: Type.Union([Uuid, Type.Null()]),
    purpose: Type.String(),
    type: enumOf(ConsentEventType),
    basis: LegalBasisSchema,
    source: ConsentSourceSchema,
    notice: Type.Union([
      Type.Object({ id: Uuid, key: Type.String(), version: Type.Integer(), sha256: Type.String() }),
      Type.Null(),
    ]),
    ip: NullableString,
    userAgent: NullableString,
    evidence: NullableString,
    actorId: Type.String(),
    actorName: NullableString,
    actorRole: NullableString,
    occurredAt: Timestamp,
  },
  { $id: 'ConsentEvent' },
)

export const NoticeList = ListOf('NoticeList', Notice)
export const ConsentHistory = ListOf('ConsentHistory', ConsentEvent)

/** The named schemas of this module (the spec's components). */
export const consentSchemas = [Notice, ConsentEvent, PublishNoticeBody, NoticeList, ConsentHistory]
