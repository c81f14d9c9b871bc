// The one way an event enters the webhook outbox. Domain services call
// `recordWebhookEvent` in the transaction of the change it reports: the event
// and its deliveries commit with the change or not at all, so a rolled-back
// change sends nothing and a committed one is never lost. Sends nothing itself
// (delivery is the job in delivery.ts) and knows nothing of HTTP.
import type { Queryable } from '../../db/client.js'
import { mayCarryEmail, type WebhookEventInput } from './events.js'
import { clearEventEmails, insertDeliveriesForEvents, insertEvents, lockContactsEvents } from './queries.js'

/** How long a delivery is retried before it fails (issue 29: three days, as Standard Webhooks senders commonly do). */
export const RETRY_FOR_MS = 3 * 24 * 60 * 60 * 1000

export type RecordedWebhookEvent = { id: string; sequence: number; deliveries: number }

/**
 * Writes `event`, as of `at`, to the outbox in `tx`, and one pending delivery
 * for every active endpoint subscribed to its type. An email is kept only for
 * events that may carry one, and delivered only to endpoints allowed it.
 */
export async function recordWebhookEvent(tx: Queryable, at: Date, event: WebhookEventInput): Promise<RecordedWebhookEvent> {
  const [recorded] = await recordWebhookEvents(tx, at, [{ at, event }])
  return recorded!
}

/**
 * recordWebhookEvent for many events at once (an import's), in three
 * statements however many there are: the people's order keys, the events
 * (numbered in the order given), and their deliveries. Each event is as of its
 * own `at`; deliveries are due at `now`.
 */
export async function recordWebhookEvents(tx: Queryable, now: Date, events: { at: Date; event: WebhookEventInput }[]): Promise<RecordedWebhookEvent[]> {
  if (events.length === 0) return []
  await lockContactsEvents(tx, [...new Set(events.flatMap(({ event }) => (event.contactId ? [event.contactId] : [])))].sort())
  const rows = await insertEvents(
    tx,
    events.map(({ at, event }) => ({ type: event.type, contactId: event.contactId, data: event.data, email: mayCarryEmail(event.type) ? (event.email ?? null) : null, occurredAt: at })),
  )
  const deliveredEvents = await insertDeliveriesForEvents(tx, rows.map((r) => r.id), now, new Date(now.getTime() + RETRY_FOR_MS))
  return rows.map((row) => ({ id: row.id, sequence: row.sequence, deliveries: deliveredEvents.filter((id) => id === row.id).length }))
}

/**
 * Erasure: forgets the addresses kept beside a person's past events, in the
 * erasure's transaction. Their events stay (by contact id only), so an
 * undelivered one still arrives, without the address.
 */
export function forgetWebhookEmails(tx: Queryable, contactId: string): Promise<void> {
  return clearEventEmails(tx, contactId)
}
