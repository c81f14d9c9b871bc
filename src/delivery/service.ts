// Delivery as the rest of the service sees it: put a message in the queue
// (inside the transaction that records its decision), and read what happened
// to it. The worker that empties the queue is ./worker.ts. Knows nothing of HTTP.
import type { Queryable } from '../../db/client.js'
import type { Clock } from '../lib/clock.js'
import { findDeliveryEvents, findQueueRow, insertQueueRow } from './queries.js'

export type { DeliveryEventRow } from './queries.js'

export function createDeliveryService({ clock }: { clock: Clock }) {
  /** Callbacks run after a message is queued: an in-process worker wakes instead of waiting for its next poll. */
  const wakeups = new Set<() => void>()

  return {
    /** Queues a message for delivery now, in the caller's transaction: it commits with the decision, or not at all. */
    enqueue: (tx: Queryable, messageId: string) => insertQueueRow(tx, { messageId, dueAt: clock.now() }),

    /** Tells a waiting worker in this process that there is work (after the queueing transaction committed). */
    notify(): void {
      for (const wake of wakeups) wake()
    },
    onQueued(wake: () => void): () => void {
      wakeups.add(wake)
      return () => wakeups.delete(wake)
    },

    /** What happened at delivery to these messages, in order. */
    eventsOf: (q: Queryable, messageIds: string[]) => findDeliveryEvents(q, messageIds),

    /** The message's place in the queue: when it is next due and how often it was tried; undefined once done. */
    queueEntryOf: (q: Queryable, messageId: string) => findQueueRow(q, messageId),
  }
}
export type DeliveryService = ReturnType<typeof createDeliveryService>
