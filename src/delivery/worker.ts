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
import type { TemplateService } from '../templates/service.js'
import { DeliveryEventType, type MessageKind } from '../vocabulary.js'
import type { Mailer, OutgoingMessage } from './mailer.js'
import { claimDue, deleteQueueRow, insertDeliveryEvent, postponeQueueRow } from './queries.js'
import type { DeliveryService } from './service.js'
import { readEnhancedStatus, type DeliveryOutcome } from './smtp-reply.js'

/** How long a claim holds a message: a worker that dies lets it go after this. */
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
    'publicBaseUrl' | 'mailFrom' | 'courseMailFrom' | 'unsubscribeMailto' | 'linkSigningKeys' | 'controllerName' | 'controllerEmail' | 'deliveryMaxAttempts' | 'smtpMaxConnections'
  >
  mailer: Mailer
  sends: Pick<SendService, 'messageById'>
  templates: Pick<TemplateService, 'requireTemplate' | 'render'>
  ledger: Pick<LedgerService, 'recordSendDecision'>
  lists: Pick<ListService, 'requireList'>
  suppressions: Pick<SuppressionService, 'suppressIn'>
  delivery: Pick<DeliveryService, 'onQueued'>
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

export function createDeliveryWorker(deps: WorkerDeps) {
  const { db, clock, config, mailer, sends, templates, ledger, lists, suppressions, log } = deps
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const host = new URL(config.publicBaseUrl).hostname

  /** Records the end of a message's delivery, or its postponement, with the event that says why. */
  async function settle(messageId: string, attempt: number, outcome: { type: DeliveryEventType; reply: string }, retryAt?: Date) {
    await db.transaction(async (tx) => {
      await insertDeliveryEvent(tx, { id: newId(), messageId, type: outcome.type, attempt, reply: outcome.reply, occurredAt: clock.now() })
      if (retryAt) await postponeQueueRow(tx, messageId, owner, retryAt)
      else await deleteQueueRow(tx, messageId, owner)
    })
    log.info({ messageId, attempt, outcome: outcome.type }, 'delivery')
  }

  /** Decides again, in one transaction with the blocked event when the answer is no. */
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
          type: DeliveryEventType.blocked,
          attempt,
          reply: `blocked at delivery: ${outcome.answer.reason}`,
          occurredAt: clock.now(),
        })
        await deleteQueueRow(tx, message.id, owner)
      }
      return outcome
    })
  }

  /** The message as it goes out: rendered for its recipient, with the service's own values and headers. */
  async function compose(message: MessageRow, lockedUntil: Date | null): Promise<OutgoingMessage> {
    const template = await templates.requireTemplate(db, message.templateId)
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
  async function suppressBounce(message: MessageRow, reply: string) {
    await db.transaction((tx) =>
      suppressions.suppressIn(tx, deliveryActor, clock.now(), { contactId: message.contactId, addressHash: message.addressHash }, {
        scope: 'all-mail',
        reason: 'bounce',
        note: `hard bounce (${readEnhancedStatus(reply) ?? 'no status code'}) of message ${message.id}`,
      }),
    )
  }

  async function deliverOne(messageId: string, attempt: number): Promise<void> {
    const message = await sends.messageById(db, messageId)
    if (!message?.toAddress) {
      // Erased since it was queued: nothing to send, and no one to send it to.
      await settle(messageId, attempt, { type: DeliveryEventType.blocked, reply: 'the recipient was erased' })
      return
    }
    const template = await templates.requireTemplate(db, message.templateId)
    let decision
    try {
      decision = await decideAtDelivery(message, { id: template.id, kind: template.kind, version: `${template.name}@${template.version}` }, attempt)
    } catch (error) {
      // The decision refused the question itself (its course or list is gone): the message cannot be sent.
      await settle(messageId, attempt, { type: DeliveryEventType.failed, reply: `not decided at delivery: ${(error as Error).message}` })
      return
    }
    if (!decision.answer.allowed) {
      log.info({ messageId, attempt, outcome: 'blocked', reason: decision.answer.reason }, 'delivery')
      return
    }

    let outgoing: OutgoingMessage
    try {
      outgoing = await compose(message, decision.answer.lockedUntil)
    } catch (error) {
      await settle(messageId, attempt, { type: DeliveryEventType.failed, reply: `could not render: ${(error as Error).message}` })
      return
    }
    const outcome: DeliveryOutcome = await mailer.send(outgoing)
    if (outcome.type === 'deferred') {
      if (attempt >= config.deliveryMaxAttempts) {
        await settle(messageId, attempt, { type: DeliveryEventType.failed, reply: `gave up after ${attempt} attempts: ${outcome.reply}` })
      } else {
        await settle(messageId, attempt, outcome, new Date(clock.now().getTime() + retryDelayMs(attempt)))
      }
      return
    }
    if (outcome.type === 'bounced') await suppressBounce(message, outcome.reply)
    await settle(messageId, attempt, outcome)
  }

  /** Claims one batch and delivers it, a few at a time (as many as the SMTP pool has connections). Returns how many it took. */
  async function runOnce(limit = BATCH_SIZE): Promise<number> {
    const now = clock.now()
    const claimed = await db.transaction((tx) => claimDue(tx, { owner, now, leaseUntil: new Date(now.getTime() + LEASE_MS), limit }))
    const pending = [...claimed]
    const lanes = Array.from({ length: Math.min(config.smtpMaxConnections, pending.length) }, async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        try {
          await deliverOne(next.messageId, next.attempts)
        } catch (error) {
          // Left leased: taken up again when the lease runs out.
          log.error({ messageId: next.messageId, err: { message: (error as Error).message } }, 'delivery failed unexpectedly')
        }
      }
    })
    await Promise.all(lanes)
    return claimed.length
  }

  return {
    owner,
    runOnce,

    /** Works until stopped: a batch after another while there is work, else a poll a second or a wake-up from a new send. */
    start() {
      let stopped = false
      let wake: (() => void) | undefined
      const unsubscribe = deps.delivery.onQueued(() => wake?.())
      const loop = (async () => {
        while (!stopped) {
          let taken = 0
          try {
            taken = await runOnce()
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
