// What happened to a message at the SMTP server, recorded: a delivery event,
// and the queue row removed (done, given up, bounced) or postponed with
// backoff (a temporary failure, up to DELIVERY_MAX_ATTEMPTS). A hard bounce
// goes to the return rules (src/returns), which suppress the address for all
// mail. Part of the delivery worker.
import type { Database, Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import type { Clock } from '../lib/clock.js'
import { newId } from '../lib/ids.js'
import type { MessageRow } from '../sends/service.js'
import type { ReturnService } from '../returns/service.js'
import { DeliveryEventType } from '../vocabulary.js'
import { deleteQueueRow, insertDeliveryEvent, postponeQueueRow } from './queries.js'
import type { DeliveryOutcome } from './smtp-reply.js'

/** Waits before attempt n+1 after n temporary failures: 1, 4, 16, 64 minutes… at most 6 hours, spread ±10%. */
export function retryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(6 * 60 * 60_000, 60_000 * 4 ** Math.max(0, attempts - 1))
  return Math.round(base * (0.9 + 0.2 * random()))
}

export function createOutcomeRecorder(deps: {
  db: Database
  clock: Clock
  config: Pick<Config, 'deliveryMaxAttempts'>
  returns: Pick<ReturnService, 'applyRelayBounceIn'>
  /** The worker that holds the messages' queue rows. */
  owner: string
  /** Logs and counts what became of a message once its transaction committed (the worker's, see ./batch.ts). */
  report(messageId: string, attempt: number, outcome: DeliveryEventType): void
}) {
  const { db, clock, config, returns, owner, report } = deps

  /** Records the end of a message's delivery, or its postponement, with the event that says why (in `q`'s transaction). */
  async function settleIn(q: Queryable, message: Pick<MessageRow, 'id' | 'campaignId'>, attempt: number, outcome: { type: DeliveryEventType; reply: string }, retryAt?: Date) {
    await insertDeliveryEvent(q, { id: newId(), messageId: message.id, campaignId: message.campaignId, type: outcome.type, attempt, reply: outcome.reply, occurredAt: clock.now() })
    if (retryAt) await postponeQueueRow(q, message.id, owner, retryAt)
    else await deleteQueueRow(q, message.id, owner)
  }

  async function settle(message: Pick<MessageRow, 'id' | 'campaignId'>, attempt: number, outcome: { type: DeliveryEventType; reply: string }, retryAt?: Date) {
    await db.transaction((tx) => settleIn(tx, message, attempt, outcome, retryAt))
    report(message.id, attempt, outcome.type)
  }

  /** Records what the mailer said about one message, in `q`'s transaction: retried later, given up, bounced (and suppressed), or done. */
  async function recordOutcome(q: Queryable, message: MessageRow, attempt: number, outcome: DeliveryOutcome): Promise<DeliveryEventType> {
    if (outcome.type === 'deferred') {
      if (attempt >= config.deliveryMaxAttempts) {
        await settleIn(q, message, attempt, { type: DeliveryEventType.failed, reply: `gave up after ${attempt} attempts: ${outcome.reply}` })
        return DeliveryEventType.failed
      }
      await settleIn(q, message, attempt, outcome, new Date(clock.now().getTime() + retryDelayMs(attempt)))
      return outcome.type
    }
    // A hard bounce at handover is a report like any that comes back later: the return rules apply it.
    if (outcome.type === 'bounced') await returns.applyRelayBounceIn(q, message, outcome.reply)
    await settleIn(q, message, attempt, outcome)
    return outcome.type
  }

  return { settleIn, settle, recordOutcome }
}
