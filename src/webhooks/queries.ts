// SQL for webhooks: the only reader and writer of webhook_endpoints,
// webhook_events, webhook_deliveries and webhook_delivery_attempts.
import { and, arrayContains, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { webhookDeliveries, webhookEndpoints, webhookEvents } from '../../db/schema/index.js'

export type EndpointRow = typeof webhookEndpoints.$inferSelect
export type NewEndpointRow = typeof webhookEndpoints.$inferInsert
export type EventRow = typeof webhookEvents.$inferSelect
export type NewEventRow = typeof webhookEvents.$inferInsert
export type DeliveryRow = typeof webhookDeliveries.$inferSelect

/** Appends one event to the outbox. */
export async function insertEvent(db: Queryable, row: NewEventRow): Promise<EventRow> {
  const [event] = await db.insert(webhookEvents).values(row).returning()
  return event!
}

/**
 * One pending delivery of `event` for every active endpoint subscribed to its
 * type, in one statement (no round trip per endpoint). Returns how many.
 */
export async function insertDeliveriesForSubscribers(db: Queryable, event: EventRow, at: Date): Promise<number> {
  const e = webhookEndpoints
  const rows = await db
    .insert(webhookDeliveries)
    .select(
      db
        .select({
          id: sql<string>`gen_random_uuid()`.as('id'),
          endpointId: sql<string>`${e.id}`.as('endpoint_id'),
          eventId: sql<string>`${event.id}::uuid`.as('event_id'),
          eventSequence: sql<number>`${event.sequence}::bigint`.as('event_sequence'),
          contactId: sql<string | null>`${event.contactId}::uuid`.as('contact_id'),
          status: sql<string>`'pending'`.as('status'),
          attempts: sql<number>`0`.as('attempts'),
          nextAttemptAt: sql<Date>`${at.toISOString()}::timestamptz`.as('next_attempt_at'),
          lastStatusCode: sql<number | null>`null::integer`.as('last_status_code'),
          lastError: sql<string | null>`null::text`.as('last_error'),
          deliveredAt: sql<Date | null>`null::timestamptz`.as('delivered_at'),
          createdAt: sql<Date>`${at.toISOString()}::timestamptz`.as('created_at'),
          updatedAt: sql<Date>`${at.toISOString()}::timestamptz`.as('updated_at'),
        })
        .from(e)
        .where(and(eq(e.status, 'active'), arrayContains(e.eventTypes, [event.type]))),
    )
    .returning({ id: webhookDeliveries.id })
  return rows.length
}

/** Forgets the addresses kept beside a person's events (their erasure); the events themselves stay. */
export async function clearEventEmails(db: Queryable, contactId: string): Promise<void> {
  await db.update(webhookEvents).set({ email: null }).where(eq(webhookEvents.contactId, contactId))
}

/** The deliveries an event caused, by endpoint (for tests and the log). */
export async function findDeliveriesOfEvent(db: Queryable, eventId: string): Promise<DeliveryRow[]> {
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, eventId)).orderBy(asc(webhookDeliveries.endpointId))
}

/** Outbox events in recording order, of one contact and/or of some types (the access export, and tests). */
export async function listWebhookEvents(db: Queryable, filter: { contactId?: string; types?: string[] } = {}): Promise<EventRow[]> {
  const e = webhookEvents
  const where = and(filter.contactId ? eq(e.contactId, filter.contactId) : undefined, filter.types ? inArray(e.type, filter.types) : undefined)
  return db.select().from(e).where(where).orderBy(asc(e.sequence))
}

/** The deliveries of a contact's events to every endpoint, in event order (the access export). */
export async function listWebhookDeliveriesOfContact(db: Queryable, contactId: string): Promise<DeliveryRow[]> {
  const d = webhookDeliveries
  return db.select().from(d).where(eq(d.contactId, contactId)).orderBy(asc(d.eventSequence), asc(d.endpointId))
}
