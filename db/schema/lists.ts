import { sql } from 'drizzle-orm'
import { boolean, check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { courses } from './courses.js'
import { legalBasisEnum, listKindEnum } from './enums.js'

export const lists = pgTable(
  'lists',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    /** The processing purpose (e.g. "newsletter", "marketing"): what purpose-wide consent and suppression are keyed by. */
    purpose: text('purpose').notNull(),
    kind: listKindEnum('kind').notNull(),
    /** Follows from the kind; stored so evidence never depends on code of the day. */
    basis: legalBasisEnum('basis').notNull(),
    doubleOptIn: boolean('double_opt_in').notNull().default(false),
    public: boolean('public').notNull().default(false),
    /** Marketing lists: the course categories they are about (existing-customer rule). */
    categories: text('categories').array().notNull().default(sql`'{}'::text[]`),
    /** Course lists: the one course they belong to. */
    courseId: text('course_id').references(() => courses.id),
    archivedAt: timestamp('archived_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('lists_slug_key').on(t.slug),
    uniqueIndex('lists_course_key').on(t.courseId),
    check('lists_course_kind', sql`(${t.kind} = 'course') = (${t.courseId} is not null)`),
    index('lists_created_at_id_idx').on(t.createdAt, t.id),
    check('lists_slug_format', sql`${t.slug} ~ '^[a-z0-9][a-z0-9-]{0,62}$'`),
  ],
)
