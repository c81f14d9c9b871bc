import { sql } from 'drizzle-orm'
import { check, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { messageKindEnum, roleEnum } from './enums.js'

/**
 * Message templates, one row per version: MJML bodies and subjects per
 * locale, and the variables a send must supply. A version never changes
 * (append-only trigger); a change is a new version.
 */
export const templates = pgTable(
  'templates',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    kind: messageKindEnum('kind').notNull(),
    description: text('description'),
    /** Subject per locale (Handlebars text). */
    subjects: jsonb('subjects').$type<Record<string, string>>().notNull(),
    /** MJML body sections per locale (Handlebars placeholders); the shared layout wraps them. */
    bodies: jsonb('bodies').$type<Record<string, string>>().notNull(),
    /** The data a send must supply (names used by the template that the service does not fill). */
    variables: text('variables').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdById: text('created_by_id').notNull(),
    createdByName: text('created_by_name'),
    createdByRole: roleEnum('created_by_role').notNull(),
  },
  (t) => [
    uniqueIndex('templates_name_version_key').on(t.name, t.version),
    check('templates_name_format', sql`${t.name} ~ '^[a-z0-9][a-z0-9-]{0,62}$'`),
    check('templates_version_positive', sql`${t.version} >= 1`),
  ],
)
