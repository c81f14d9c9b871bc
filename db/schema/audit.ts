import { bigserial, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'
import { roleEnum } from './enums.js'

/**
 * Who read, exported, changed or erased what. Append-only (trigger). It names
 * the fields that changed, never their values: those are personal data and
 * live in audit_personal_values, where erasure can redact them.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    actorId: text('actor_id').notNull(),
    actorName: text('actor_name'),
    actorRole: roleEnum('actor_role').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    changedFields: text('changed_fields').array().notNull().default([]),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_events_entity_idx').on(t.entityType, t.entityId, t.seq),
    // The log in the order it was written, all of it or one actor's: keyset pages over seq.
    uniqueIndex('audit_events_seq_key').on(t.seq),
    index('audit_events_actor_idx').on(t.actorId, t.seq),
  ],
)

/**
 * The values of an audit entry's changes, and whose personal data they are.
 * The only change the database allows is redaction: `changes` and
 * `contact_id` set to null (trigger), so an erasure leaves the entry's
 * who-did-what-when standing and nothing personal in clear text.
 */
export const auditPersonalValues = pgTable(
  'audit_personal_values',
  {
    auditEventId: uuid('audit_event_id')
      .primaryKey()
      .references(() => auditEvents.id),
    /** The person the values are about, when they are about one. */
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    changes: jsonb('changes').$type<Record<string, { from: unknown; to: unknown }>>(),
  },
  (t) => [index('audit_personal_values_contact_idx').on(t.contactId)],
)
