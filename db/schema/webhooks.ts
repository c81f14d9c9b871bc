import { sql } from 'drizzle-orm'
import { bigint, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'

/**
 * Signed outbound webhooks (issue 29): the endpoints a receiver registered,
 * the outbox of events written in the transaction of the change they report,
 * one delivery per endpoint and event, and the log of every attempt.
 * Events name a person by contact id and the course system's own ids; an
 * email, where an endpoint is allowed it, is kept beside the payload (never in
 * it) and only copied into the body at delivery.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    url: text('url').notNull(),
    description: text('description'),
    eventTypes: text('event_types').array().notNull(),
    includeEmail: boolean('include_email').notNull().default(false),
    /** Standard Webhooks form: `whsec_<base64>`. */
    secret: text('secret').notNull(),
    /** The secret before the last rotation, still signing until `previous_secret_expires_at`. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, mode: 'date' }),
    status: text('status').notNull().default('active'),
    /** Why it was disabled: `manual` or `failing`. */
    disabledReason: text('disabled_reason'),
    /** When its deliveries started failing without a success since; null while healthy. */
    failingSince: timestamp('failing_since', { withTimezone: true, mode: 'date' }),
    createdById: text('created_by_id'),
    createdByName: text('created_by_name'),
    createdByRole: text('created_by_role'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('webhook_endpoints_list_idx').on(t.createdAt, t.id),
    check('webhook_endpoints_status', sql`${t.status} in ('active', 'disabled')`),
  ],
)

/**
 * The outbox. `sequence` orders events as they were recorded (one person's
 * events are numbered under a lock held to their transaction's end, so in the
 * order they commit: webhook_order_keys below); `contact_id` has no foreign key so the event outlives
 * the contact's erasure.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sequence: bigint('sequence', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    type: text('type').notNull(),
    contactId: uuid('contact_id'),
    data: jsonb('data').notNull(),
    /** Given only for endpoints with include_email; cleared when the contact is erased. */
    email: text('email'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    uniqueIndex('webhook_events_sequence_idx').on(t.sequence),
    index('webhook_events_occurred_idx').on(t.occurredAt, t.sequence),
    index('webhook_events_contact_idx').on(t.contactId).where(sql`${t.contactId} is not null`),
  ],
)

/** One per endpoint and event: what is still to be sent, and how it went. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id')
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    /** The event's sequence and contact, copied so the order check reads one table. */
    eventSequence: bigint('event_sequence', { mode: 'number' }).notNull(),
    contactId: uuid('contact_id'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    /** When retrying stops and the delivery fails: three days after it was queued (or replayed). */
    giveUpAt: timestamp('give_up_at', { withTimezone: true, mode: 'date' }).notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_endpoint_event_idx').on(t.endpointId, t.eventId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    // The order check: an earlier pending delivery for the same endpoint and contact.
    index('webhook_deliveries_order_idx').on(t.endpointId, t.contactId, t.eventSequence).where(sql`${t.status} = 'pending'`),
    check('webhook_deliveries_status', sql`${t.status} in ('pending', 'delivered', 'failed')`),
  ],
)

/** The delivery log: every attempt, with what the receiver answered and how long it took. */
export const webhookDeliveryAttempts = pgTable(
  'webhook_delivery_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    /** A classification without personal data: `HTTP 503`, `timed out`, `connection failed: ECONNREFUSED`. */
    error: text('error'),
  },
  (t) => [index('webhook_delivery_attempts_endpoint_idx').on(t.endpointId, t.at, t.id)],
)

/**
 * What serialises the numbering of one person's events: recording an event
 * upserts the row of its contact's key, and the row lock is held to the end of
 * the transaction, so a person's events take their sequence numbers in commit
 * order. A row lock rather than an advisory lock: an import records thousands
 * of events in one transaction, and PostgreSQL's lock table holds only a few
 * thousand advisory locks for the whole server. The key is a 64-bit hash of
 * the contact id, not the id: the table names no one (a collision only makes
 * two people's events wait for each other).
 */
export const webhookOrderKeys = pgTable('webhook_order_keys', {
  key: bigint('key', { mode: 'bigint' }).primaryKey(),
})
