// Reading the webhook outbox in tests: the events recorded since a mark, and
// a check that each one's delivered data matches its published schema.
import type { Test } from 'tap'
import { Value } from 'typebox/value'
import { payloadDataSchema, type WebhookEventType } from '../../src/webhooks/events.js'
import { listWebhookEvents, type EventRow } from '../../src/webhooks/queries.js'
import type { TestApp } from '../helper.js'

/** The last sequence in the outbox now; `since` then answers what came after it, in order. */
export async function markOutbox(app: TestApp) {
  const at = (await listWebhookEvents(app.app.db)).at(-1)?.sequence ?? 0
  return async () => (await listWebhookEvents(app.app.db)).filter((e) => e.sequence > at)
}

/** Each event's body `data` (contact id, its data, the email where kept) is what its schema allows: no more, no less. */
export function checkPayloads(t: Test, events: EventRow[]) {
  for (const e of events) {
    const body = { contactId: e.contactId, ...(e.data as Record<string, unknown>), ...(e.email ? { email: e.email } : {}) }
    const schema = payloadDataSchema(e.type as WebhookEventType)
    const errors = [...Value.Errors(schema, body)].map((x) => `${x.instancePath} ${x.message}`)
    t.same(errors, [], `${e.type}: its data matches the payload schema`)
  }
}

/** The events' types, in order. */
export const typesOf = (events: EventRow[]) => events.map((e) => e.type)

/** The one event of a type among these; fails the test if there is not exactly one. */
export function only(t: Test, events: EventRow[], type: WebhookEventType): EventRow {
  const found = events.filter((e) => e.type === type)
  t.equal(found.length, 1, `one ${type}`)
  return found[0]!
}
