import { Type } from 'typebox'
import { enumOf, NullableString, Page, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'
import { Locale as LocaleSet } from '../vocabulary.js'

const Locale = enumOf(LocaleSet, { description: 'Language for messages; nb by default' })
const Email = Type.String({ minLength: 3, maxLength: 320, description: 'Trimmed; domain lower-cased; unique ignoring case' })
const Text = (maxLength: number) => Type.Union([Type.String({ maxLength }), Type.Null()])
const Attributes = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: 100,
  description: 'Free-form JSON object, at most 16 KiB',
})

export const Contact = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    name: NullableString,
    phone: NullableString,
    address: NullableString,
    locale: Locale,
    attributes: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Contact' },
)

export const CreateContactBody = Type.Object(
  {
    email: Email,
    name: Type.Optional(Text(200)),
    phone: Type.Optional(Text(50)),
    address: Type.Optional(Text(500)),
    locale: Type.Optional(Locale),
    attributes: Type.Optional(Attributes),
  },
  {
    $id: 'NewContact',
    additionalProperties: false,
    examples: [{ email: 'kari@example.no', name: 'Kari Nordmann', phone: '+47 900 00 000', locale: 'nb', attributes: { source: 'web' } }],
  },
)

export const UpdateContactBody = Type.Object(
  {
    email: Type.Optional(Email),
    name: Type.Optional(Text(200)),
    phone: Type.Optional(Text(50)),
    address: Type.Optional(Text(500)),
    locale: Type.Optional(Locale),
    attributes: Type.Optional(Attributes),
  },
  {
    $id: 'ContactChanges',
    additionalProperties: false,
    minProperties: 1,
    description: 'The fields to rectify; an empty string or null clears one',
    examples: [{ phone: '+47 911 11 111', address: 'Storgata 1, 0155 Oslo' }],
  },
)

export const ListContactsQuery = Type.Object(
  {
    ...PageQuery,
    email: Type.Optional(Type.String({ maxLength: 320, description: 'Exact address, ignoring case' })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Part of an address or name' })),
  },
  { additionalProperties: false },
)

export const ContactPage = Page('ContactPage', Contact)

/** The named schemas of this module (the spec's components). */
export const contactSchemas = [Contact, CreateContactBody, UpdateContactBody, ContactPage]
