// Delivering webhook events: the periodic job claims due deliveries under a
// lease (one statement, no HTTP inside a transaction), posts each signed per
// Standard Webhooks through src/lib/outbound-post.ts, and settles it in a
// short transaction of its own: every attempt goes to the log, a failed one is
// retried with backoff until RETRY_FOR_MS has passed, and an endpoint that has
// failed without a success for FAILING_DISABLES_AFTER_MS is disabled.
// Order per person: see claimDueDeliveries. Knows nothing of HTTP routes.
import type { Database } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import { systemActor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { exponentialBackoff, postOnce, type PostOutcome } from '../lib/outbound-post.js'
import type { WebhookEventType } from './events.js'
import { claimDueDeliveries, findClaimed, findEndpoint, insertAttempt, updateDelivery, updateEndpoint, type ClaimedDelivery, type EndpointRow, type EventRow } from './queries.js'
import { signatureHeader } from './signature.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
/** A claimed delivery is left to its worker this long (two timeouts and then some) before another may try. */
export const DELIVERY_LEASE_MS = 5 * MINUTE
const CLAIM_BATCH = 20
/**
 * Rounds of claim-and-post per turn of the job: a person's next event becomes
 * due only once the one before it is delivered, so one turn takes several
 * rounds to bring a busy person's events out. Bounded so a turn ends.
 */
const MAX_ROUNDS = 50
/**
 * Wall-clock time after which a turn starts no new round (the job runs every
 * minute, and a slow receiver can take POST_TIMEOUT_MS an attempt): the next
 * turn carries on where this one stopped. Real time, not the service clock,
 * which tests move.
 */
const TURN_BUDGET_MS = 45_000
/** Issue 29: an endpoint that keeps failing for a day is disabled. */
export const FAILING_DISABLES_AFTER_MS = 24 * HOUR

/** The wait after `attempts` failed attempts: 1, 2, 4 … minutes, then hourly (a receiver back up hears within the hour). */
export const webhookBackoffMs = (attempts: number) => exponentialBackoff(attempts, MINUTE, HOUR)

/** The body a receiver gets (Standard Webhooks' type, timestamp and data), the same at every attempt and replay. */
export function payloadOf(event: EventRow, endpoint: Pick<EndpointRow, 'includeEmail'>): string {
  const data = { contactId: event.contactId, ...(event.data as Record<string, unknown>), ...(endpoint.includeEmail && event.email ? { email: event.email } : {}) }
  return JSON.stringify({ type: event.type as WebhookEventType, timestamp: event.occurredAt.toISOString(), data })
}

/** The secrets that sign now: the current one, and the one rotated out while its overlap lasts. */
export function signingSecrets(endpoint: EndpointRow, now: Date): string[] {
  const previous = endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now ? [endpoint.previousSecret] : []
  return [endpoint.secret, ...previous]
}

export interface DeliveryCounts {
  delivered: number
  retrying: number
  failed: number
  /** Endpoints disabled in this turn for failing a day. */
  disabled: number
}

export function createWebhookDelivery(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  /** Who is told when an endpoint is disabled (P12: the controller's address is configuration). */
  controller: { name: string; email: string }
  fetch?: typeof fetch
}) {
  const { db, clock, audit, controller } = deps

  async function post({ event, endpoint }: ClaimedDelivery): Promise<PostOutcome> {
    const body = payloadOf(event, endpoint)
    const timestamp = Math.floor(clock.now().getTime() / 1000)
    const headers = {
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signingSecrets(endpoint, clock.now()), event.id, timestamp, body),
      'user-agent': 'Samtykke-Webhooks/1',
    }
    return postOnce(endpoint.url, body, headers, { fetch: deps.fetch })
  }

  /** Records the attempt and what follows from it; true when the endpoint was disabled by it. */
  async function settle(claimed: ClaimedDelivery, outcome: PostOutcome, at: Date): Promise<{ status: string; disabled: boolean }> {
    const { delivery, event } = claimed
    return db.transaction(async (tx) => {
      await insertAttempt(tx, {
        endpointId: delivery.endpointId,
        deliveryId: delivery.id,
        eventId: event.id,
        eventType: event.type,
        at,
        statusCode: outcome.statusCode,
        durationMs: outcome.durationMs,
        error: outcome.error,
      })
      const attempts = delivery.attempts + 1
      const common = { attempts, lastStatusCode: outcome.statusCode, lastError: outcome.error, updatedAt: at }
      // Locked: two workers settling the same endpoint's deliveries agree on when it started failing.
      const endpoint = (await findEndpoint(tx, delivery.endpointId, true))!
      if (outcome.ok) {
        await updateDelivery(tx, delivery.id, { ...common, status: 'delivered', deliveredAt: at, nextAttemptAt: null })
        if (endpoint.failingSince) await updateEndpoint(tx, endpoint.id, { failingSince: null, updatedAt: at })
        return { status: 'delivered', disabled: false }
      }
      const giveUp = at >= delivery.giveUpAt
      await updateDelivery(tx, delivery.id, giveUp ? { ...common, status: 'failed', nextAttemptAt: null } : { ...common, nextAttemptAt: new Date(at.getTime() + webhookBackoffMs(attempts)) })
      const failingSince = endpoint.failingSince ?? at
      const disable = endpoint.status === 'active' && at.getTime() - failingSince.getTime() >= FAILING_DISABLES_AFTER_MS
      if (disable) {
        await updateEndpoint(tx, endpoint.id, { status: 'disabled', disabledReason: 'failing', failingSince, updatedAt: at })
        // The service sends no operator mail (every message it sends is a
        // decided, ledgered message to a contact), so the notice to the
        // controller is this audit entry, addressed to them, which
        // GET /v1/audit?action=webhook_endpoint.disabled lists.
        await audit.record(tx, systemActor, at, {
          action: 'webhook_endpoint.disabled',
          entityType: 'webhook_endpoint',
          entityId: endpoint.id,
          changes: {
            status: { from: 'active', to: 'disabled' },
            disabledReason: { from: endpoint.disabledReason, to: 'failing' },
            failingSince: failingSince.toISOString(),
            lastError: outcome.error,
            noticeTo: controller.email,
          },
        })
      } else if (!endpoint.failingSince) {
        await updateEndpoint(tx, endpoint.id, { failingSince, updatedAt: at })
      }
      return { status: giveUp ? 'failed' : 'pending', disabled: disable }
    })
  }

  return {
    /** The periodic job: attempts every delivery that is due, round after round until none is. */
    async deliverDue(): Promise<DeliveryCounts> {
      const counts: DeliveryCounts = { delivered: 0, retrying: 0, failed: 0, disabled: 0 }
      const started = performance.now()
      for (let round = 0; round < MAX_ROUNDS && performance.now() - started < TURN_BUDGET_MS; round++) {
        const now = clock.now()
        const claimed = await findClaimed(db, await claimDueDeliveries(db, now, new Date(now.getTime() + DELIVERY_LEASE_MS), CLAIM_BATCH))
        if (claimed.length === 0) break
        const disabledNow = new Set<string>()
        for (const item of claimed) {
          // Its lease lets it go again; the endpoint's enabling makes it due at once.
          if (disabledNow.has(item.endpoint.id)) continue
          const outcome = await post(item)
          const settled = await settle(item, outcome, clock.now())
          if (settled.disabled) {
            disabledNow.add(item.endpoint.id)
            counts.disabled++
          }
          if (settled.status === 'delivered') counts.delivered++
          else if (settled.status === 'failed') counts.failed++
          else counts.retrying++
        }
      }
      return counts
    },
  }
}
export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>
