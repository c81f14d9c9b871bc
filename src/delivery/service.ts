// Delivery as the rest of the service sees it: put a message in the queue
// (inside the transaction that records its decision), and read what happened
// to it. The worker that empties the queue is ./worker.ts and its parts.
// No routes or schemas of its own: what happened at delivery is shown with
// the message (src/sends) and the campaign (src/campaigns) it belongs to.
// SQL: ./queries.ts, one message at a time and the queue's reads;
// ./campaign-queries.ts, set-based for a campaign's messages. Knows nothing of HTTP.
import type { SQL } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import type { Clock } from '../lib/clock.js'
import type { DeliveryEventType } from '../vocabulary.js'
import { newId } from '../lib/ids.js'
import {
  campaignDeliveryCounts,
  campaignHasQueued,
  campaignReturnCounts,
  closeCampaignQueue,
  deliveredPerDay,
  findDeliveryEvents,
  findQueueRow,
  insertDeliveryEvent,
  insertQueueRow,
  readCampaignProgress,
  readQueueState,
  redactRepliesOf,
  releaseLeasesOf,
  requeueFailed,
} from './queries.js'

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

    /** Erasure: the SMTP servers' replies about these messages go (they may quote the address). */
    redactRepliesIn: (tx: Queryable, messageIds: string[]) => redactRepliesOf(tx, messageIds),

    /** A campaign's waiting messages end as cancelled or expired, each with its event. */
    closeCampaign: (tx: Queryable, campaignId: string, type: 'cancelled' | 'expired', includeLeased: boolean) =>
      closeCampaignQueue(tx, {
        campaignId,
        type,
        reply: type === 'cancelled' ? 'the campaign was cancelled' : 'the campaign passed its send-by deadline',
        now: clock.now(),
        includeLeased,
      }),

    /** A campaign's failed messages, each queued once more (once only). */
    requeueFailed: (tx: Queryable, campaignId: string) => requeueFailed(tx, campaignId, clock.now()),

    campaignHasQueued: (q: Queryable, campaignId: string) => campaignHasQueued(q, campaignId),
    campaignCounts: (q: Queryable, campaignId: string) => campaignDeliveryCounts(q, campaignId),

    /**
     * What a report that came back says happened to a message after it left
     * (a later bounce, a complaint, a delivery), appended in the caller's
     * transaction. Its attempt is 0: it is no attempt of ours.
     */
    recordReturnIn: (tx: Queryable, message: { id: string; campaignId: string | null }, type: DeliveryEventType, reply: string | null, occurredAt: Date) =>
      insertDeliveryEvent(tx, { id: newId(), messageId: message.id, campaignId: message.campaignId, type, attempt: 0, reply, occurredAt }),

    /** A campaign's delivered, complained and hard-bounced messages, for its return rates. */
    campaignReturnCounts: (q: Queryable, campaignId: string) => campaignReturnCounts(q, campaignId),
    deliveredPerDay: (q: Queryable, from: Date, to: Date) => deliveredPerDay(q, from, to),

    /** A stopping worker's claims, let go: due at once for any other. */
    releaseLeasesOf: (q: Queryable, owner: string) => releaseLeasesOf(q, owner),

    /** The queue by where its messages are, and how long the longest-waiting due one has waited (metrics). */
    queueState: (q: Queryable, sendingCampaigns: SQL) => readQueueState(q, { now: clock.now(), sendingCampaigns }),

    /** Each sending campaign's messages: queued, and ended by event type (metrics). */
    campaignProgress: (q: Queryable, sendingCampaigns: SQL) => readCampaignProgress(q, sendingCampaigns),

    /** The message's place in the queue: when it is next due and how often it was tried; undefined once done. */
    queueEntryOf: (q: Queryable, messageId: string) => findQueueRow(q, messageId),
  }
}
export type DeliveryService = ReturnType<typeof createDeliveryService>
