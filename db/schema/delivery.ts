import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { deliveryEventTypeEnum } from './enums.js'

/**
 * The work still to do: one narrow row per message waiting for delivery,
 * deleted once delivered, failed or blocked. Workers claim rows with
 * FOR UPDATE SKIP LOCKED and hold them with a lease; a worker that dies
 * leaves its rows to be taken over when the lease runs out.
 */
export const deliveryQueue = pgTable(
  'delivery_queue',
  {
    messageId: uuid('message_id').primaryKey(),
    dueAt: timestamp('due_at', { withTimezone: true, mode: 'date' }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('delivery_queue_due_idx').on(t.dueAt)],
)

/**
 * What happened at delivery, appended as it happened (accepted with the SMTP
 * reply, deferred, failed, bounced, blocked at delivery). Append-only
 * (trigger); erasure may set the reply, which can name the address, to null.
 */
export const deliveryEvents = pgTable(
  'delivery_events',
  {
    id: uuid('id').primaryKey(),
    messageId: uuid('message_id').notNull(),
    type: deliveryEventTypeEnum('type').notNull(),
    attempt: integer('attempt').notNull(),
    /** The SMTP server's reply, or the error, as it was. */
    reply: text('reply'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('delivery_events_message_idx').on(t.messageId, t.occurredAt, t.id)],
)
