// SQL for webhooks: the only reader and writer of webhook_endpoints,
// webhook_events, webhook_deliveries and webhook_delivery_attempts.
import { and, asc, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints, webhookEvents, webhookOrderKeys } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'

export type EndpointRow = typeof webhookEndpoints.$inferSelect
export type NewEndpointRow = typeof webhookEndpoints.$inferInsert
export type EventRow = typeof webhookEvents.$inferSelect
export type NewEventRow = typeof webhookEvents.$inferInsert
export type DeliveryRow = typeof webhookDeliveries.$inferSelect

/**
 * Holds, until the caller's transaction ends, the right to append these
 * people's next events (the row lock of their key in webhook_order_keys): two
 * transactions about one person then take their sequence numbers in the order
 * they commit, so the order check in claimDueDeliveries can never send a
 * later-numbered event that committed first while an earlier-numbered one is
 * still uncommitted and invisible to it. The keys are taken in one
 * statement, in key order, so two such transactions take them alike.
 */
export async function lockContactsEvents(db: Queryable, contactIds: string[]): Promise<void> {
  if (contactIds.length === 0) return
  await db.execute(sql`insert into ${webhookOrderKeys} (key)
    select distinct hashtextextended(c, 0) from unnest(${`{${contactIds.join(',')}}`}::text[]) as c order by 1
    on conflict (key) do update set key = excluded.key`)
}

/** Appends many events to the outbox in one statement, numbered in the order given. */
export async function insertEvents(db: Queryable, rows: NewEventRow[]): Promise<EventRow[]> {
  if (rows.length === 0) return []
  return db.insert(webhookEvents).values(rows).returning()
}

/**
 * One pending delivery of each event for every active endpoint subscribed to
 * its type, in one statement however many events and endpoints. Returns the
 * event id of each delivery written.
 */
export async function insertDeliveriesForEvents(db: Queryable, eventIds: string[], at: Date, giveUpAt: Date): Promise<string[]> {
  if (eventIds.length === 0) return []
  const e = webhookEndpoints
  const ev = webhookEvents
  const iso = (d: Date) => d.toISOString()
  const rows = await selectRows<{ event_id: string }>(
    db,
    sql`
    insert into ${webhookDeliveries} (id, endpoint_id, event_id, event_sequence, contact_id, status, attempts, next_attempt_at, give_up_at, created_at, updated_at)
    select gen_random_uuid(), ${e.id}, ${ev.id}, ${ev.sequence}, ${ev.contactId}, 'pending', 0, ${iso(at)}::timestamptz, ${iso(giveUpAt)}::timestamptz, ${iso(at)}::timestamptz, ${iso(at)}::timestamptz
    from ${ev} join ${e} on ${e.status} = 'active' and ${ev.type} = any(${e.eventTypes})
    where ${inArray(ev.id, eventIds)}
    returning event_id`,
  )
  return rows.map((row) => row.event_id)
}

/** Forgets the addresses kept beside a person's events (their erasure); the events themselves stay. */
export async function clearEventEmails(db: Queryable, contactId: string): Promise<void> {
  await db.update(webhookEvents).set({ email: null }).where(eq(webhookEvents.contactId, contactId))
}

export type NewAttemptRow = typeof webhookDeliveryAttempts.$inferInsert
export type DeliveryPatch = Partial<typeof webhookDeliveries.$inferInsert>

export async function insertEndpoint(db: Queryable, row: NewEndpointRow): Promise<EndpointRow> {
  const [endpoint] = await db.insert(webhookEndpoints).values(row).returning()
  return endpoint!
}

export async function findEndpoint(db: Queryable, id: string, lock = false): Promise<EndpointRow | undefined> {
  const query = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id))
  const [row] = lock ? await query.for('update') : await query
  return row
}

export async function updateEndpoint(db: Queryable, id: string, patch: Partial<NewEndpointRow>): Promise<EndpointRow> {
  const [row] = await db.update(webhookEndpoints).set(patch).where(eq(webhookEndpoints.id, id)).returning()
  return row!
}

/** A page of endpoints, oldest first. */
export async function listEndpointRows(db: Queryable, filter: { after?: Cursor; limit: number }): Promise<EndpointRow[]> {
  const t = webhookEndpoints
  return db.select().from(t).where(afterCursor(filter.after, t.createdAt, t.id)).orderBy(asc(t.createdAt), asc(t.id)).limit(filter.limit)
}

export async function findEvent(db: Queryable, id: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id))
  return row
}

/**
 * Claims up to `limit` due deliveries of active endpoints, moving their next
 * attempt to `leaseUntil`: another worker skips them meanwhile, and one whose
 * worker died is tried again when the lease runs out. A delivery is due only
 * when no earlier event's delivery for the same endpoint and contact is still
 * pending (claimed or not): that keeps each person's events in order at each
 * receiver, at the price of one stuck event holding back that person's later
 * ones (never anyone else's).
 */
export async function claimDueDeliveries(db: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<string[]> {
  const d = webhookDeliveries
  const e = webhookEndpoints
  const due = db
    .select({ id: d.id })
    .from(d)
    .innerJoin(e, eq(e.id, d.endpointId))
    .where(
      and(
        eq(d.status, 'pending'),
        lte(d.nextAttemptAt, now),
        eq(e.status, 'active'),
        // Inside the subquery the table's own name is the outer row: its alias `earlier` is the other one.
        sql`not exists (select 1 from ${webhookDeliveries} as earlier where earlier.endpoint_id = ${d.endpointId} and earlier.contact_id = ${d.contactId} and earlier.status = 'pending' and earlier.event_sequence < ${d.eventSequence})`,
      ),
    )
    .orderBy(asc(d.eventSequence))
    .limit(limit)
    // Only the delivery rows are locked: the endpoint's row stays free for an admin's change.
    .for('update', { of: d, skipLocked: true })
  const rows = await db.update(d).set({ nextAttemptAt: leaseUntil }).where(inArray(d.id, due)).returning({ id: d.id })
  return rows.map((r) => r.id)
}

export type ClaimedDelivery = { delivery: DeliveryRow; event: EventRow; endpoint: EndpointRow }

/** The claimed deliveries with their events and endpoints, in event order. */
export async function findClaimed(db: Queryable, ids: string[]): Promise<ClaimedDelivery[]> {
  if (ids.length === 0) return []
  return db
    .select({ delivery: webhookDeliveries, event: webhookEvents, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(inArray(webhookDeliveries.id, ids))
    .orderBy(asc(webhookDeliveries.eventSequence))
}

export async function updateDelivery(db: Queryable, id: string, patch: DeliveryPatch): Promise<DeliveryRow> {
  const [row] = await db.update(webhookDeliveries).set(patch).where(eq(webhookDeliveries.id, id)).returning()
  return row!
}

export async function insertAttempt(db: Queryable, row: NewAttemptRow): Promise<void> {
  await db.insert(webhookDeliveryAttempts).values(row)
}

export type AttemptLogRow = typeof webhookDeliveryAttempts.$inferSelect & { deliveryStatus: string; attempts: number }

/** A page of an endpoint's delivery log, newest first, with where each delivery stands now. */
export async function listAttemptRows(db: Queryable, endpointId: string, filter: { before?: Cursor; limit: number }): Promise<AttemptLogRow[]> {
  const a = webhookDeliveryAttempts
  const d = webhookDeliveries
  return db
    .select({
      id: a.id,
      endpointId: a.endpointId,
      deliveryId: a.deliveryId,
      eventId: a.eventId,
      eventType: a.eventType,
      at: a.at,
      statusCode: a.statusCode,
      durationMs: a.durationMs,
      error: a.error,
      deliveryStatus: d.status,
      attempts: d.attempts,
    })
    .from(a)
    .innerJoin(d, eq(d.id, a.deliveryId))
    .where(
      and(
        eq(a.endpointId, endpointId),
        // Newest first: rows strictly before the cursor, as one row comparison (see db/pagination.ts).
        filter.before ? sql`(${a.at}, ${a.id}) < (${filter.before.at.toISOString()}::timestamptz, ${filter.before.id}::uuid)` : undefined,
      ),
    )
    .orderBy(desc(a.at), desc(a.id))
    .limit(filter.limit)
}

/**
 * Queues the events again for one endpoint: a new pending delivery for each
 * of `eventIds`, or the existing one reset (pending, no attempts, retried for
 * another RETRY window). Returns how many.
 */
export async function requeueDeliveries(db: Queryable, endpointId: string, selection: { eventIds?: string[]; from?: Date; to?: Date; types: string[] }, at: Date, giveUpAt: Date): Promise<number> {
  const ev = webhookEvents
  const conditions = and(
    inArray(ev.type, selection.types),
    selection.eventIds ? inArray(ev.id, selection.eventIds) : undefined,
    selection.from ? gte(ev.occurredAt, selection.from) : undefined,
    selection.to ? lt(ev.occurredAt, selection.to) : undefined,
  )
  const iso = (d: Date) => d.toISOString()
  const rows = await selectRows(db, sql`
    insert into ${webhookDeliveries} (id, endpoint_id, event_id, event_sequence, contact_id, status, attempts, next_attempt_at, give_up_at, created_at, updated_at)
    select gen_random_uuid(), ${endpointId}::uuid, ${ev.id}, ${ev.sequence}, ${ev.contactId}, 'pending', 0, ${iso(at)}::timestamptz, ${iso(giveUpAt)}::timestamptz, ${iso(at)}::timestamptz, ${iso(at)}::timestamptz
    from ${ev} where ${conditions}
    on conflict (endpoint_id, event_id) do update set
      status = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, give_up_at = excluded.give_up_at,
      last_status_code = null, last_error = null, delivered_at = null, updated_at = excluded.updated_at
    returning 1`)
  return rows.length
}

/** An endpoint enabled again: what waited for it is due now (a lease taken before it was disabled is let go). */
export async function resumeDeliveries(db: Queryable, endpointId: string, now: Date): Promise<void> {
  const d = webhookDeliveries
  await db.update(d).set({ nextAttemptAt: now, updatedAt: now }).where(and(eq(d.endpointId, endpointId), eq(d.status, 'pending')))
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
