import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'
import { localeEnum, messageKindEnum, roleEnum } from './enums.js'
import { templates } from './templates.js'

/**
 * A message to one person: which template version, to whom, with what data.
 * Written once when the message is queued (append-only trigger); erasure may
 * set the personal columns (contact_id, to_address, data) to null.
 */
export const messages = pgTable(
  'messages',
  {
    /** uuidv7: the message id the ledger, the queue and the delivery events name. */
    id: uuid('id').primaryKey(),
    kind: messageKindEnum('kind').notNull(),
    templateId: uuid('template_id')
      .notNull()
      .references(() => templates.id),
    listId: uuid('list_id'),
    courseId: text('course_id'),
    campaignId: uuid('campaign_id'),
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    toAddress: text('to_address'),
    addressHash: text('address_hash').notNull(),
    locale: localeEnum('locale').notNull(),
    /** The values the send supplied for the template. */
    data: jsonb('data').$type<Record<string, unknown>>(),
    /** The Message-ID header the message goes out with. */
    headerMessageId: text('header_message_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdById: text('created_by_id').notNull(),
    createdByName: text('created_by_name'),
    createdByRole: roleEnum('created_by_role').notNull(),
  },
  // No index on campaign_id: no query reads a campaign's messages by it (its progress is in the queue and
  // the events), and every recipient of a fan-out paid for its entry (migration 0015; docs/benchmarks.md, "Fan-out").
  (t) => [index('messages_contact_idx').on(t.contactId, t.createdAt)],
)

/**
 * What a client's idempotency key was answered with: the same key again
 * returns the first answer and sends nothing twice. Append-only (trigger).
 */
export const sendRequests = pgTable(
  'send_requests',
  {
    clientId: text('client_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** SHA-256 of the request: the same key with another request is a conflict, not a repeat. */
    requestHash: text('request_hash').notNull(),
    messageId: uuid('message_id').notNull(),
    answer: jsonb('answer').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.idempotencyKey] })],
)
