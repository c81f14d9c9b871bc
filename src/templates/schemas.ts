import { Type } from 'typebox'
import { ExternalId } from '../courses/schemas.js'
import { MessageKindSchema } from '../decision/schemas.js'
import { enumOf, NullableString, Page, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'
import { ActorRole, Locale } from '../vocabulary.js'

export const TemplateName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Lower-case letters, digits and dashes' })
export const LocaleSchema = enumOf(Locale, { description: 'nb (Norwegian bokmål, the default) or en' })

/** Up to 200 KB of MJML per locale: a message is not a website. */
const PerLocale = (what: string, maxLength: number) =>
  Type.Object(
    { nb: Type.Optional(Type.String({ minLength: 1, maxLength })), en: Type.Optional(Type.String({ minLength: 1, maxLength })) },
    { additionalProperties: false, minProperties: 1, description: `${what} per locale` },
  )

export const Template = Type.Object(
  {
    id: Uuid,
    name: TemplateName,
    version: Type.Integer({ minimum: 1 }),
    kind: MessageKindSchema,
    description: NullableString,
    subjects: PerLocale('The subject (Handlebars text)', 500),
    bodies: PerLocale('The MJML body: mj-section elements the shared layout wraps, with {{placeholders}}', 200_000),
    variables: Type.Array(Type.String(), { description: 'The values a send must supply in `data`' }),
    createdAt: Timestamp,
    createdById: Type.String(),
    createdByName: NullableString,
    createdByRole: enumOf(ActorRole),
  },
  { $id: 'Template', description: 'One version of a template; a version never changes' },
)

export const NewTemplateVersion = Type.Object(
  {
    name: TemplateName,
    kind: MessageKindSchema,
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    subjects: PerLocale('The subject (Handlebars text)', 500),
    bodies: PerLocale('The MJML body: mj-section elements the shared layout wraps, with {{placeholders}}', 200_000),
  },
  {
    $id: 'NewTemplateVersion',
    additionalProperties: false,
    description:
      'The next version of the template `name` (version 1 if the name is new). Values are filled escaped ({{name}}); ' +
      'unescaped output ({{{…}}}), partials and mj-include are refused. transactional: admins only.',
    examples: [
      {
        name: 'course-reminder',
        kind: 'course',
        subjects: { nb: 'Påminnelse: {{courseName}}', en: 'Reminder: {{courseName}}' },
        bodies: {
          nb: '<mj-section><mj-column><mj-text>Hei {{name}}, kurset starter {{startsAt}}.</mj-text></mj-column></mj-section>',
          en: '<mj-section><mj-column><mj-text>Hi {{name}}, the course starts {{startsAt}}.</mj-text></mj-column></mj-section>',
        },
      },
    ],
  },
)

export const TemplateQuery = Type.Object(
  { ...PageQuery, name: Type.Optional(TemplateName) },
  { additionalProperties: false },
)

/** Sample values: an object of at most 200 names. */
export const TemplateData = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
  maxProperties: 200,
  additionalProperties: false,
  description: 'The values the template fills in, by name (letters, digits and _)',
})

export const PreviewBody = Type.Object(
  {
    locale: Type.Optional(LocaleSchema),
    data: TemplateData,
    // Course mail: the course it goes to, so the footer gives the real day course mail ends.
    courseId: Type.Optional(ExternalId),
    // Newsletter and marketing: the list it goes to, so the footer names it.
    listId: Type.Optional(Uuid),
  },
  { $id: 'TemplatePreviewRequest', additionalProperties: false },
)

export const RenderedMessage = Type.Object(
  {
    locale: LocaleSchema,
    subject: Type.String(),
    html: Type.String(),
    text: Type.String({ description: 'The plain-text part, derived from the HTML' }),
  },
  { $id: 'RenderedMessage', description: 'A message as its recipient gets it' },
)

export const TemplatePage = Page('TemplatePage', Template)

export const templateSchemas = [Template, NewTemplateVersion, PreviewBody, RenderedMessage, TemplatePage]
