import { Type } from 'typebox'
import { enumOf, NullableString, NullableTimestamp, Page, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'
import { LegalBasis, ListKind } from '../vocabulary.js'

export const ListKindSchema = enumOf(ListKind, { description: 'newsletter: consent; marketing: legitimate interest (email needs consent or the existing-customer rule); course: contract, bound to one course; transactional: contract or legal obligation' })
export const LegalBasisSchema = enumOf(LegalBasis)
const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Lower-case letters, digits and dashes' })
const Purpose = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'A purpose in the processing register (GET /v1/processing-register) that serves this kind of list on its basis; by default the first that does' })

export const List = Type.Object(
  {
    id: Uuid,
    slug: Type.String(),
    name: Type.String(),
    description: NullableString,
    purpose: Type.String(),
    kind: ListKindSchema,
    basis: LegalBasisSchema,
    doubleOptIn: Type.Boolean(),
    public: Type.Boolean({ description: 'Offered on the preference page' }),
    categories: Type.Array(Type.String(), { description: 'Marketing lists: the course categories they are about' }),
    courseId: Type.Union([Type.String(), Type.Null()], { description: 'Course lists: their course' }),
    archivedAt: NullableTimestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'List' },
)

export const CreateListBody = Type.Object(
  {
    slug: Slug,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    purpose: Type.Optional(Purpose),
    kind: ListKindSchema,
    basis: Type.Optional(LegalBasisSchema),
    doubleOptIn: Type.Optional(Type.Boolean()),
    public: Type.Optional(Type.Boolean()),
    categories: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), {
        maxItems: 50,
        uniqueItems: true,
        description: 'Marketing lists only: course categories the list is about (existing-customer rule)',
      }),
    ),
  },
  {
    $id: 'NewList',
    additionalProperties: false,
    examples: [{ slug: 'nyhetsbrev', name: 'Nyhetsbrev', kind: 'newsletter', public: true, doubleOptIn: true }],
  },
)

export const UpdateListBody = Type.Object(
  {
    slug: Type.Optional(Slug),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    doubleOptIn: Type.Optional(Type.Boolean()),
    public: Type.Optional(Type.Boolean()),
    categories: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), {
        maxItems: 50,
        uniqueItems: true,
        description: 'Marketing lists only: course categories the list is about (existing-customer rule)',
      }),
    ),
  },
  {
    $id: 'ListChanges',
    additionalProperties: false,
    minProperties: 1,
    examples: [{ name: 'Nyhetsbrev om yoga', public: false }],
  },
)

export const ListListsQuery = Type.Object(
  { ...PageQuery, archived: Type.Optional(Type.Boolean({ description: 'Include archived lists' })) },
  { additionalProperties: false },
)

export const ListPage = Page('ListPage', List)

/** The named schemas of this module (the spec's components). */
export const listSchemas = [List, CreateListBody, UpdateListBody, ListPage]
