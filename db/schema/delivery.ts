import { sql } from 'drizzle-orm'
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
    /** The campaign the message belongs to: its rows wait while it is paused, and go when it is cancelled. */
    campaignId: uuid('campaign_id'),
    /**
     * Set (and committed) just before the message is handed to SMTP, cleared
     * when it is put back: a claim that finds it set knows a worker died
     * mid-handover, and the server may already have the message.
     */
    handedOverAt: timestamp('handed_over_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('delivery_queue_due_idx').on(t.dueAt), index('delivery_queue_campaign_idx').on(t.campaignId)],
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
    /** The message's campaign, if any: a campaign's counts read its events without a join per message. */
    campaignId: uuid('campaign_id'),
  },
  (t) => [
    index('delivery_events_message_idx').on(t.messageId, t.occurredAt, t.id),
    index('delivery_events_campaign_idx').on(t.campaignId, t.type).where(sql`${t.campaignId} is not null`),
  ],
)
