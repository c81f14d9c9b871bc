import { sql } from 'drizzle-orm'
import { check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'

/**
 * Notices to third parties that hold a person's data (P9): one per processor
 * in the register when a person is erased or rectified. A webhook processor's
 * notice is delivered as an HMAC-signed POST, retried with backoff until it is
 * taken; a manual one is a task for staff. The notice names the person only by
 * the processor's own payment references and the keyed address hash; a
 * rectification's current values are read when it is delivered, never stored
 * here. Payment references are cleared once the notice is delivered or done.
 */
export const processorNotices = pgTable(
  'processor_notices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    processorId: text('processor_id').notNull(),
    type: text('type').notNull(),
    method: text('method').notNull(),
    status: text('status').notNull(),
    requestId: uuid('request_id'),
    /** A rectification's person, whose current values the delivery reads; null for an erasure. */
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    addressHash: text('address_hash').notNull(),
    paymentReferences: text('payment_references').array().notNull().default(sql`'{}'::text[]`),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    doneById: text('done_by_id'),
    doneByName: text('done_by_name'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('processor_notices_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('processor_notices_request_idx').on(t.requestId),
    index('processor_notices_open_idx').on(t.createdAt, t.id).where(sql`${t.status} in ('pending', 'manual', 'failed')`),
    check('processor_notices_type', sql`${t.type} in ('erasure', 'rectification')`),
    check('processor_notices_method', sql`${t.method} in ('webhook', 'manual')`),
    check('processor_notices_status', sql`${t.status} in ('pending', 'delivered', 'failed', 'manual', 'done')`),
  ],
)
