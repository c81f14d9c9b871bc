import { sql } from 'drizzle-orm'
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { localeEnum } from './enums.js'

export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** As given, trimmed, domain lower-cased (Unicode form for internationalised domains). */
    email: text('email').notNull(),
    name: text('name'),
    phone: text('phone'),
    address: text('address'),
    locale: localeEnum('locale').notNull().default('nb'),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // Unique ignoring case: two addresses differing only in case are one person.
    uniqueIndex('contacts_email_lower_key').on(sql`lower(${t.email})`),
    index('contacts_created_at_id_idx').on(t.createdAt, t.id),
    // Search for part of an address or a name (ilike '%q%') uses these trigram indexes, not a scan.
    index('contacts_email_trgm_idx').using('gin', t.email.op('gin_trgm_ops')),
    index('contacts_name_trgm_idx').using('gin', t.name.op('gin_trgm_ops')),
  ],
)
