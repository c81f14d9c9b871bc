// The delivery worker: claims due messages from the queue with a lease,
// decides each again (the decision at delivery is recorded in the send ledger
// beside the one taken when it was queued), renders it, hands it to the
// mailer, and appends what happened as a delivery event. Temporary failures
// come back later with backoff, up to a limit; a hard bounce also suppresses
// the address for all mail. Runs in the service process by default and alone
// with `npm run worker`. Logs message ids and outcomes, never addresses.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Database, Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import type { LedgerService } from '../ledger/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { newId } from '../lib/ids.js'
import { signLink } from '../lib/link-tokens.js'
import { localDate } from '../lib/local-date.js'
import type { ListRow } from '../lists/queries.js'
import type { ListService } from '../lists/service.js'
import type { MessageRow, SendService } from '../sends/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import type { TemplateRow, TemplateService } from '../templates/service.js'
import { DeliveryEventType, type MessageKind } from '../vocabulary.js'
import type { Mailer, OutgoingMessage } from './mailer.js'
import type { CampaignService } from '../campaigns/service.js'
import { claimDue, deleteQueueRow, insertDeliveryEvent, markHandedOver, postponeQueueRow, releaseQueueRow, type ClaimedMessage } from './queries.js'
import type { DeliveryService } from './service.js'
import { readEnhancedStatus, type DeliveryOutcome } from './smtp-reply.js'

/** How long a claim holds a message by default (DELIVERY_LEASE_SECONDS): a worker that dies lets it go after this. */
export const LEASE_MS = 5 * 60_000
/** Messages claimed at a time. */
const BATCH_SIZE = 50
/** How often an idle worker looks for work when nothing wakes it. */
const POLL_MS = 1000

/** Who records what the worker does (a hard-bounce suppression). */
const deliveryActor: Actor = { id: 'system:delivery', name: 'Samtykke delivery', role: 'admin' }

/** Waits before attempt n+1 after n temporary failures: 1, 4, 16, 64 minutes… at most 6 hours, spread ±10%. */
export function retryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(6 * 60 * 60_000, 60_000 * 4 ** Math.max(0, attempts - 1))
  return Math.round(base * (0.9 + 0.2 * random()))
}

/** The message's list headers: one-click for what can be left (RFC 8058); none for course and transactional mail. */
export function listHeaders(kind: MessageKind, link: { unsubscribeUrl: string; mailto: string | undefined; listId: string }): Record<string, string> {
  if (kind !== 'newsletter' && kind !== 'marketing') return {}
  const targets = [`<${link.unsubscribeUrl}>`]
  if (link.mailto) targets.push(`<mailto:${link.mailto}?subject=unsubscribe>`)
  return {
    'List-Unsubscribe': targets.join(', '),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': link.listId,
  }
}

export interface WorkerDeps {
  db: Database
  clock: Clock
  config: Pick<
    Config,
    | 'publicBaseUrl'
    | 'mailFrom'
    | 'courseMailFrom'
    | 'unsubscribeMailto'
    | 'linkSigningKeys'
    | 'controllerName'
    | 'controllerEmail'
    | 'deliveryMaxAttempts'
    | 'deliveryLeaseSeconds'
    | 'smtpMaxConnections'
  >
  mailer: Mailer
  sends: Pick<SendService, 'messageById'>
  templates: Pick<TemplateService, 'requireTemplate' | 'render'>
  ledger: Pick<LedgerService, 'recordSendDecision'>
  lists: Pick<ListService, 'requireList'>
  suppressions: Pick<SuppressionService, 'suppressIn'>
  delivery: Pick<DeliveryService, 'onQueued' | 'closeCampaign'>
  campaigns: Pick<CampaignService, 'requireCampaign' | 'finishIfDone' | 'sendingCampaignIds' | 'fanOut'>
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

export function createDeliveryWorker(deps: WorkerDeps) {
  const { db, clock, config, mailer, sends, templates, ledger, lists, suppressions, campaigns, log } = deps
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const host = new URL(config.publicBaseUrl).hostname
  const leaseMs = config.deliveryLeaseSeconds * 1000

  /** Records the end of a message's delivery, or its postponement, with the event that says why (in `q`'s transaction). */
  async function settleIn(q: Queryable, message: Pick<MessageRow, 'id' | 'campaignId'>, attempt: number, outcome: { type: DeliveryEventType; reply: string }, retryAt?: Date) {
    await insertDeliveryEvent(q, { id: newId(), messageId: message.id, campaignId: message.campaignId, type: outcome.type, attempt, reply: outcome.reply, occurredAt: clock.now() })
    if (retryAt) await postponeQueueRow(q, message.id, owner, retryAt)
    else await deleteQueueRow(q, message.id, owner)
  }

  async function settle(message: Pick<MessageRow, 'id' | 'campaignId'>, attempt: number, outcome: { type: DeliveryEventType; reply: string }, retryAt?: Date) {
    await db.transaction((tx) => settleIn(tx, message, attempt, outcome, retryAt))
    log.info({ messageId: message.id, attempt, outcome: outcome.type }, 'delivery')
  }

  /**
   * Decides again, in one transaction with the blocked event when the answer
   * is no — or, when it is yes, with the mark that the handover to SMTP begins.
   */
  async function decideAtDelivery(message: MessageRow, templateRef: { id: string; kind: MessageKind; version: string }, attempt: number) {
    return db.transaction(async (tx: Queryable) => {
      const { outcome } = await ledger.recordSendDecision(
        {
          messageId: message.id,
          stage: 'delivery',
          ...(message.contactId ? { contactId: message.contactId } : { email: message.toAddress! }),
          kind: message.kind,
          listId: message.kind === 'course' ? undefined : (message.listId ?? undefined),
          courseId: message.courseId ?? undefined,
          campaignId: message.campaignId ?? undefined,
          template: { id: templateRef.id, kind: templateRef.kind },
          templateVersion: templateRef.version,
        },
        tx,
      )
      if (!outcome.answer.allowed) {
        await insertDeliveryEvent(tx, {
          id: newId(),
          messageId: message.id,
          campaignId: message.campaignId,
          type: DeliveryEventType.blocked,
          attempt,
          reply: `blocked at delivery: ${outcome.answer.reason}`,
          occurredAt: clock.now(),
        })
        await deleteQueueRow(tx, message.id, owner)
      } else {
        await markHandedOver(tx, message.id, owner, clock.now())
      }
      return outcome
    })
  }

  /** The message as it goes out: rendered for its recipient, with the service's own values and headers. */
  async function compose(message: MessageRow, template: TemplateRow, lockedUntil: Date | null): Promise<OutgoingMessage> {
    const list: ListRow | null = message.listId ? await lists.requireList(db, message.listId) : null
    const token = message.contactId && list ? signLink(config.linkSigningKeys, 'unsubscribe', { contactId: message.contactId, listId: list.id }) : null
    const unsubscribeUrl = token ? `${config.publicBaseUrl}/unsubscribe/${token}` : ''
    const rendered = await templates.render(template, message.locale, {
      ...message.data,
      // The service's values last: send data cannot forge a link or a sender.
      unsubscribeUrl,
      courseMailUntil: lockedUntil ? localDate(lockedUntil, message.locale) : '',
      listName: list?.name ?? '',
      controllerName: config.controllerName,
      controllerEmail: config.controllerEmail,
    })
    return {
      messageId: message.headerMessageId,
      from: message.kind === 'course' ? config.courseMailFrom : config.mailFrom,
      to: message.toAddress!,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers: list && token ? listHeaders(message.kind, { unsubscribeUrl, mailto: config.unsubscribeMailto, listId: `<${list.slug}.${host}>` }) : {},
    }
  }

  /**
   * A hard bounce: no mail of any kind to this address again (until staff
   * lift it). The note names the message and the status code, never the
   * server's words: those often quote the address, and a note outlives erasure.
   */
  async function suppressBounce(q: Queryable, message: MessageRow, reply: string) {
    await suppressions.suppressIn(q, deliveryActor, clock.now(), { contactId: message.contactId, addressHash: message.addressHash }, {
      scope: 'all-mail',
      reason: 'bounce',
      note: `hard bounce (${readEnhancedStatus(reply) ?? 'no status code'}) of message ${message.id}`,
    })
  }

  /** Hands the message to the mailer and records the outcome, in `q`'s transaction. */
  async function handOver(q: Queryable, message: MessageRow, outgoing: OutgoingMessage, attempt: number): Promise<DeliveryEventType> {
    const outcome: DeliveryOutcome = await mailer.send(outgoing)
    if (outcome.type === 'deferred') {
      if (attempt >= config.deliveryMaxAttempts) {
        await settleIn(q, message, attempt, { type: DeliveryEventType.failed, reply: `gave up after ${attempt} attempts: ${outcome.reply}` })
        return DeliveryEventType.failed
      }
      await settleIn(q, message, attempt, outcome, new Date(clock.now().getTime() + retryDelayMs(attempt)))
      return outcome.type
    }
    if (outcome.type === 'bounced') await suppressBounce(q, message, outcome.reply)
    await settleIn(q, message, attempt, outcome)
    return outcome.type
  }

  /**
   * A campaign's message goes out only while the campaign sends: the check
   * and the handover share one transaction holding the campaign row shared,
   * so a cancel (which takes it for update) waits for handovers in progress,
   * and none begins after the cancel commits. Paused: put back untried.
   * Past its send-by deadline: it and the rest of the waiting ones expire.
   */
  async function handOverForCampaign(message: MessageRow, outgoing: OutgoingMessage, attempt: number): Promise<DeliveryEventType | 'released' | 'cancelled'> {
    return db.transaction(async (tx) => {
      const campaign = await campaigns.requireCampaign(tx, message.campaignId!, 'share')
      if (campaign.status === 'cancelled') return 'cancelled'
      if (campaign.status !== 'sending') {
        await releaseQueueRow(tx, message.id, owner, clock.now())
        return 'released'
      }
      if (campaign.notAfter && campaign.notAfter.getTime() <= clock.now().getTime()) {
        await settleIn(tx, message, attempt, { type: DeliveryEventType.expired, reply: 'the campaign passed its send-by deadline' })
        await deps.delivery.closeCampaign(tx, campaign.id, 'expired', false)
        return DeliveryEventType.expired
      }
      return handOver(tx, message, outgoing, attempt)
    })
  }

  async function deliverOne(claimed: ClaimedMessage): Promise<void> {
    const { messageId, attempts: attempt } = claimed
    const message = await sends.messageById(db, messageId)
    if (!message?.toAddress) {
      // Erased since it was queued: nothing to send, and no one to send it to.
      await settle({ id: messageId, campaignId: claimed.campaignId }, attempt, { type: DeliveryEventType.blocked, reply: 'the recipient was erased' })
      return
    }
    if (claimed.handedOverAt) {
      // The last worker died handing it over: the server may have it. Marked, counted, and sent again.
      await db.transaction((tx) =>
        insertDeliveryEvent(tx, {
          id: newId(),
          messageId,
          campaignId: message.campaignId,
          type: DeliveryEventType.interrupted,
          attempt: Math.max(1, attempt - 1),
          reply: `a worker stopped while handing it to SMTP at ${claimed.handedOverAt!.toISOString()}; it may arrive twice`,
          occurredAt: clock.now(),
        }),
      )
    }
    const template = await templates.requireTemplate(db, message.templateId)
    let decision
    try {
      decision = await decideAtDelivery(message, { id: template.id, kind: template.kind, version: `${template.name}@${template.version}` }, attempt)
    } catch (error) {
      // The decision refused the question itself (its course or list is gone): the message cannot be sent.
      await settle(message, attempt, { type: DeliveryEventType.failed, reply: `not decided at delivery: ${(error as Error).message}` })
      return
    }
    if (!decision.answer.allowed) {
      log.info({ messageId, attempt, outcome: 'blocked', reason: decision.answer.reason }, 'delivery')
      return
    }

    let outgoing: OutgoingMessage
    try {
      outgoing = await compose(message, template, decision.answer.lockedUntil)
    } catch (error) {
      await settle(message, attempt, { type: DeliveryEventType.failed, reply: `could not render: ${(error as Error).message}` })
      return
    }
    const outcome = message.campaignId
      ? await handOverForCampaign(message, outgoing, attempt)
      : await db.transaction((tx) => handOver(tx, message, outgoing, attempt))
    log.info({ messageId, attempt, outcome }, 'delivery')
  }

  /** Claims one batch and delivers it, a few at a time (as many as the SMTP pool has connections). Returns how many it took. */
  async function runOnce(limit = BATCH_SIZE): Promise<number> {
    const now = clock.now()
    const claimed = await db.transaction((tx) =>
      claimDue(tx, { owner, now, leaseUntil: new Date(now.getTime() + leaseMs), limit, sendingCampaigns: campaigns.sendingCampaignIds() }),
    )
    const pending = [...claimed]
    const lanes = Array.from({ length: Math.min(config.smtpMaxConnections, pending.length) }, async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        try {
          await deliverOne(next)
        } catch (error) {
          // Left leased: taken up again when the lease runs out.
          log.error({ messageId: next.messageId, err: { message: (error as Error).message } }, 'delivery failed unexpectedly')
        }
      }
    })
    await Promise.all(lanes)
    for (const campaignId of new Set(claimed.map((c) => c.campaignId).filter((id) => id !== null))) await campaigns.finishIfDone(campaignId)
    return claimed.length
  }

  /** One turn of the loop: fan out campaigns for a while, then deliver a batch. Returns how much work it found. */
  async function work(): Promise<number> {
    const decided = await campaigns.fanOut(owner, leaseMs)
    return decided + (await runOnce())
  }

  return {
    owner,
    runOnce,
    work,

    /** Works until stopped: a batch after another while there is work, else a poll a second or a wake-up from a new send. */
    start() {
      let stopped = false
      let wake: (() => void) | undefined
      const unsubscribe = deps.delivery.onQueued(() => wake?.())
      const loop = (async () => {
        while (!stopped) {
          let taken = 0
          try {
            taken = await work()
          } catch (error) {
            log.error({ err: { message: (error as Error).message } }, 'delivery batch failed')
          }
          if (taken === 0 && !stopped) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, POLL_MS)
              wake = () => {
                clearTimeout(timer)
                resolve()
              }
            })
            wake = undefined
          }
        }
      })()
      return {
        /** Stops taking work and waits for the batch in hand. */
        async stop() {
          stopped = true
          unsubscribe()
          wake?.()
          await loop
        },
      }
    },
  }
}
export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>
