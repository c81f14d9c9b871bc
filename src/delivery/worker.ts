// The delivery worker: claims due messages from the queue with a lease,
// decides each again (the decision at delivery is recorded in the send ledger
// beside the one taken when it was queued), renders it, hands it to the
// mailer, and appends what happened as a delivery event. Temporary failures
// come back later with backoff, up to a limit; a hard bounce also suppresses
// the address for all mail. Runs in the service process by default and alone
// with `npm run worker`. Logs message ids and outcomes, never addresses.
// Composing a message is compose.ts; recording what the server said, outcomes.ts.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Database, Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import type { LedgerService } from '../ledger/service.js'
import type { Clock } from '../lib/clock.js'
import { newId } from '../lib/ids.js'
import type { ListRow } from '../lists/queries.js'
import type { ListService } from '../lists/service.js'
import type { MessageRow, SendService } from '../sends/service.js'
import type { ReturnService } from '../returns/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import type { TemplateRow, TemplateService } from '../templates/service.js'
import { DeliveryEventType, type MessageKind } from '../vocabulary.js'
import type { Mailer, OutgoingMessage } from './mailer.js'
import type { CampaignService } from '../campaigns/service.js'
import type { ContactService } from '../contacts/service.js'
import { claimDue, deleteQueueRow, deleteQueueRows, insertDeliveryEvent, insertDeliveryEvents, lockHeldQueueRows, markHandedOver, releaseQueueRow, type ClaimedMessage } from './queries.js'
import type { DeliveryService } from './service.js'
import { composeMessage } from './compose.js'
import { createOutcomeRecorder } from './outcomes.js'
import { startDeliveryLoop } from './loop.js'
import { tallyDecisions, type DeliveryReport, type MetricsRecorder } from '../operations/recorder.js'

/** How long a claim holds a message by default (DELIVERY_LEASE_SECONDS): a worker that dies lets it go after this. */
export const LEASE_MS = 5 * 60_000
/** Messages claimed at a time. */
const BATCH_SIZE = 50
/**
 * Messages decided together at delivery (one statement per campaign), then
 * handed over a pool's width at a time: fewer and cheaper statements per
 * message. The handover asks the decision again while it holds the
 * recipients, so a decision's age never lets a message past an opt-out.
 */
const DECIDED_TOGETHER = 25
/** Chunks of a batch in progress at once: one at the server while the next is decided and rendered. */
const CHUNKS_IN_PROGRESS = 2

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
    | 'returns'
    | 'deliveryMaxAttempts'
    | 'deliveryLeaseSeconds'
    | 'smtpMaxConnections'
  >
  mailer: Mailer
  sends: Pick<SendService, 'messagesByIds'>
  templates: Pick<TemplateService, 'requireTemplate' | 'render'>
  ledger: Pick<LedgerService, 'recordSendDecision'>
  lists: Pick<ListService, 'requireList'>
  suppressions: Pick<SuppressionService, 'holdForHandover'>
  returns: Pick<ReturnService, 'applyRelayBounceIn' | 'checkCampaign'>
  contacts: Pick<ContactService, 'holdForHandover'>
  delivery: Pick<DeliveryService, 'onQueued' | 'closeCampaign' | 'releaseLeasesOf'>
  campaigns: Pick<CampaignService, 'requireCampaign' | 'finishIfDone' | 'sendingCampaignIds' | 'fanOut' | 'decideDeliveries' | 'noLongerAllowed' | 'releaseFanout'>
  metrics: Pick<MetricsRecorder, 'countDecisions' | 'countDelivery'>
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

export function createDeliveryWorker(deps: WorkerDeps) {
  const { db, clock, config, mailer, sends, templates, ledger, lists, suppressions, campaigns, log, metrics } = deps
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const host = new URL(config.publicBaseUrl).hostname
  const leaseMs = config.deliveryLeaseSeconds * 1000
  const { settleIn, settle, recordOutcome } = createOutcomeRecorder({ db, clock, config, returns: deps.returns, log, metrics, owner })
  /** Set when the loop is asked to stop: no chunk of the batch in hand begins, and of a chunk begun only the group at the server goes on. */
  let stopping = false

  /** What became of a message, once its transaction committed: logged and counted. */
  function reportDelivery(messageId: string, attempt: number, outcome: DeliveryReport, reason?: string | null) {
    log.info({ messageId, attempt, outcome, ...(reason ? { reason } : {}) }, 'delivery')
    metrics.countDelivery(outcome)
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

  /** The message as it goes out, with its list from the batch's cache. */
  async function compose(message: MessageRow, template: TemplateRow, lockedUntil: Date | null, context: BatchContext): Promise<OutgoingMessage> {
    return composeMessage({ config, templates, host }, message, template, message.listId ? await listOf(context, message.listId) : null, lockedUntil)
  }

  /**
   * Hands a chunk of one campaign's messages to the mailer at once. The check
   * and the handovers share one transaction holding the campaign row shared,
   * so a cancel (which takes it for update) waits for the handovers in
   * progress, and none begins after the cancel commits. Paused: put back
   * untried. Past its send-by deadline: they and the rest of the waiting ones
   * expire. Only messages this worker still holds go (their queue rows locked
   * for the transaction). What the server accepted is recorded in two
   * statements for the whole chunk; anything else one message at a time.
   */
  async function handOverForCampaign(campaignId: string, handovers: Handover[]): Promise<(DeliveryEventType | 'released' | 'cancelled' | 'not held')[]> {
    return db.transaction(async (tx) => {
      const campaign = await campaigns.requireCampaign(tx, campaignId, 'share')
      const held = await lockHeldQueueRows(tx, handovers.map((h) => h.message.id), owner)
      let chunk = handovers.filter((h) => held.has(h.message.id))
      const each = (outcome: 'released' | 'cancelled' | DeliveryEventType) => handovers.map((h) => (held.has(h.message.id) ? outcome : 'not held'))
      if (campaign.status === 'cancelled') return each('cancelled')
      if (campaign.status !== 'sending') {
        for (const { message } of chunk) await releaseQueueRow(tx, message.id, owner, clock.now())
        return each('released')
      }
      if (campaign.notAfter && campaign.notAfter.getTime() <= clock.now().getTime()) {
        for (const { message, attempt } of chunk) await settleIn(tx, message, attempt, { type: DeliveryEventType.expired, reply: 'the campaign passed its send-by deadline' })
        await deps.delivery.closeCampaign(tx, campaign.id, 'expired', false)
        return each(DeliveryEventType.expired)
      }
      // Hold the recipients, then ask again: an opt-out or suppression that committed since the chunk was
      // decided stops its message (it goes back, to be decided and recorded as blocked), and one that
      // comes now waits until the server has answered — none commits and is then overtaken.
      await deps.contacts.holdForHandover(tx, chunk.flatMap((h) => (h.message.contactId ? [h.message.contactId] : [])))
      await suppressions.holdForHandover(tx, chunk.map((h) => h.message.addressHash))
      const stopped = await campaigns.noLongerAllowed(tx, {
        listId: campaign.listId,
        members: chunk.map((h) => ({ contactId: h.message.contactId!, addressHash: h.message.addressHash })),
      })
      for (const h of chunk.filter((h) => stopped.has(h.message.contactId!))) await releaseQueueRow(tx, h.message.id, owner, clock.now())
      chunk = chunk.filter((h) => !stopped.has(h.message.contactId!))
      const sent = await Promise.all(chunk.map(async (h) => ({ ...h, outcome: await mailer.send(h.outgoing) })))
      const accepted = sent.filter((h) => h.outcome.type === 'accepted')
      const occurredAt = clock.now()
      await insertDeliveryEvents(
        tx,
        accepted.map(({ message, attempt, outcome }) => ({ id: newId(), messageId: message.id, campaignId, type: DeliveryEventType.accepted, attempt, reply: outcome.reply, occurredAt })),
      )
      await deleteQueueRows(tx, accepted.map(({ message }) => message.id), owner)
      const types = new Map<string, DeliveryEventType>()
      for (const { message, attempt, outcome } of sent) {
        types.set(message.id, outcome.type === 'accepted' ? DeliveryEventType.accepted : await recordOutcome(tx, message, attempt, outcome))
      }
      return handovers.map((h) => types.get(h.message.id) ?? (stopped.has(h.message.contactId!) ? 'released' : 'not held'))
    })
  }

  /** A message decided, marked and rendered: ready to go to the mailer. */
  interface Handover {
    message: MessageRow
    attempt: number
    outgoing: OutgoingMessage
  }

  /** What a batch reads once, not once per message: its messages, and the (immutable) template versions and lists they use. */
  interface BatchContext {
    messages: Map<string, MessageRow>
    templates: Map<string, Promise<TemplateRow>>
    lists: Map<string, Promise<ListRow>>
  }

  function templateOf(context: BatchContext, id: string): Promise<TemplateRow> {
    let template = context.templates.get(id)
    if (!template) context.templates.set(id, (template = templates.requireTemplate(db, id)))
    return template
  }

  function listOf(context: BatchContext, id: string): Promise<ListRow> {
    let list = context.lists.get(id)
    if (!list) context.lists.set(id, (list = lists.requireList(db, id)))
    return list
  }

  const versionOf = (template: TemplateRow) => `${template.name}@${template.version}`

  /** Campaign messages by their campaign, in the order given; messages of no campaign are left out. */
  function byCampaign<T extends { message: MessageRow }>(items: T[]): Map<string, T[]> {
    const groups = new Map<string, T[]>()
    for (const item of items) {
      const id = item.message.campaignId
      if (id) groups.set(id, [...(groups.get(id) ?? []), item])
    }
    return groups
  }

  /**
   * Before the decision: a message whose recipient was erased ends here; one
   * a dead worker was handing over gets its `interrupted` event. Returns the
   * message when it goes on to be decided.
   */
  async function prepare(claimed: ClaimedMessage, context: BatchContext): Promise<MessageRow | null> {
    const { messageId, attempts: attempt } = claimed
    const message = context.messages.get(messageId)
    if (!message?.toAddress) {
      // Erased since it was queued: nothing to send, and no one to send it to.
      await settle({ id: messageId, campaignId: claimed.campaignId }, attempt, { type: DeliveryEventType.blocked, reply: 'the recipient was erased' })
      return null
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
    return message
  }

  /**
   * Campaign messages decided together, one statement per campaign (the
   * set-based decision, checked against decide() by its property test):
   * allowed ones come back marked as handed over, blocked ones are ended.
   * Returns each decided message's answer; those it could not decide are left
   * to the decision one at a time.
   */
  async function decideCampaignMessages(batch: { claimed: ClaimedMessage; message: MessageRow }[], context: BatchContext) {
    const answers = new Map<string, { allowed: boolean; reason: string | null }>()
    const decidable = batch.filter(({ message: m }) => m.contactId && m.listId && (m.kind === 'newsletter' || m.kind === 'marketing'))
    for (const [campaignId, items] of byCampaign(decidable)) {
      const { message: first } = items[0]!
      try {
        const template = await templateOf(context, first.templateId)
        const decided = await db.transaction((tx) =>
          campaigns.decideDeliveries(tx, {
            campaign: { id: campaignId, listId: first.listId! },
            kind: first.kind as 'newsletter' | 'marketing',
            templateVersion: versionOf(template),
            messages: items.map(({ claimed, message }) => ({ messageId: message.id, contactId: message.contactId!, addressHash: message.addressHash, attempt: claimed.attempts })),
            owner,
          }),
        )
        for (const row of decided) answers.set(row.messageId, { allowed: row.allowed, reason: row.reason })
        metrics.countDecisions('delivery', tallyDecisions(decided))
      } catch (error) {
        log.warn({ campaignId, err: { message: (error as Error).message } }, 'campaign messages decided one at a time')
      }
    }
    return answers
  }

  /** Decides one message (unless its chunk decided it already) and renders it: what is left to do is its handover, or nothing. */
  async function decideAndCompose(claimed: ClaimedMessage, message: MessageRow, context: BatchContext, decidedTogether?: { allowed: boolean; reason: string | null }): Promise<Handover | null> {
    const { messageId, attempts: attempt } = claimed
    const template = await templateOf(context, message.templateId)
    let lockedUntil: Date | null = null
    if (decidedTogether) {
      if (!decidedTogether.allowed) {
        reportDelivery(messageId, attempt, DeliveryEventType.blocked, decidedTogether.reason)
        return null
      }
    } else {
      let decision
      try {
        decision = await decideAtDelivery(message, { id: template.id, kind: template.kind, version: versionOf(template) }, attempt)
      } catch (error) {
        // The decision refused the question itself (its course or list is gone): the message cannot be sent.
        await settle(message, attempt, { type: DeliveryEventType.failed, reply: `not decided at delivery: ${(error as Error).message}` })
        return null
      }
      if (!decision.answer.allowed) {
        reportDelivery(messageId, attempt, DeliveryEventType.blocked, decision.answer.reason)
        return null
      }
      lockedUntil = decision.answer.lockedUntil
    }

    try {
      return { message, attempt, outgoing: await compose(message, template, lockedUntil, context) }
    } catch (error) {
      await settle(message, attempt, { type: DeliveryEventType.failed, reply: `could not render: ${(error as Error).message}` })
      return null
    }
  }

  /** Decided and marked, but not handed over: back in the queue untried, the mark cleared, for the next worker to decide again. */
  async function putBack(handovers: Handover[]): Promise<void> {
    await db.transaction(async (tx) => {
      for (const { message } of handovers) await releaseQueueRow(tx, message.id, owner, clock.now())
    })
    for (const { message, attempt } of handovers) reportDelivery(message.id, attempt, 'released')
  }

  /** A single send's message: its own transaction, with the decision's mark already committed. */
  async function handOverOne({ message, outgoing, attempt }: Handover): Promise<void> {
    const outcome = await db.transaction(async (tx) => recordOutcome(tx, message, attempt, await mailer.send(outgoing)))
    reportDelivery(message.id, attempt, outcome)
  }

  /**
   * Claims one batch and delivers it a chunk at a time, each chunk decided
   * together just before its handover. Returns how many it took.
   */
  async function runOnce(limit = BATCH_SIZE): Promise<number> {
    const now = clock.now()
    const claimed = await db.transaction((tx) =>
      claimDue(tx, { owner, now, leaseUntil: new Date(now.getTime() + leaseMs), limit, sendingCampaigns: campaigns.sendingCampaignIds() }),
    )
    if (claimed.length === 0) return 0
    const context: BatchContext = {
      messages: new Map((await sends.messagesByIds(db, claimed.map((c) => c.messageId))).map((m) => [m.id, m])),
      templates: new Map(),
      lists: new Map(),
    }
    const failed = (messageId: string) => (error: unknown) => {
      // Left leased: taken up again when the lease runs out.
      log.error({ messageId, err: { message: (error as Error).message } }, 'delivery failed unexpectedly')
    }
    const deliverChunk = async (chunk: ClaimedMessage[]) => {
      const prepared: { claimed: ClaimedMessage; message: MessageRow }[] = []
      for (const c of chunk) {
        const message = await prepare(c, context).catch(failed(c.messageId))
        if (message) prepared.push({ claimed: c, message })
      }
      const answers = await decideCampaignMessages(prepared, context)
      const handovers = (
        await Promise.all(prepared.map(({ claimed: c, message }) => decideAndCompose(c, message, context, answers.get(message.id)).catch(failed(c.messageId))))
      ).filter((h): h is Handover => !!h)
      await Promise.all([
        ...handovers.filter((h) => !h.message.campaignId).map((h) => handOverOne(h).catch(failed(h.message.id))),
        ...[...byCampaign(handovers)].map(async ([campaignId, handoversOfCampaign]) => {
          // Handed over a pool's width at a time, each group in its own transaction: what a kill
          // can leave accepted but unrecorded (a possible duplicate) is one group, not the chunk.
          for (let start = 0; start < handoversOfCampaign.length; start += config.smtpMaxConnections) {
            const group = handoversOfCampaign.slice(start, start + config.smtpMaxConnections)
            // Stopping: the groups not begun go back untried, so the stop waits on one group at the server, not the chunk.
            if (stopping) {
              await putBack(group).catch((error) => group.forEach((h) => failed(h.message.id)(error)))
              continue
            }
            try {
              const outcomes = await handOverForCampaign(campaignId, group)
              for (const [i, { message, attempt }] of group.entries()) reportDelivery(message.id, attempt, outcomes[i]!)
              // Hard bounces at handover count toward the campaign's bounce rate, checked once the group's transaction is over.
              if (outcomes.includes(DeliveryEventType.bounced)) await deps.returns.checkCampaign(campaignId)
            } catch (error) {
              for (const h of group) failed(h.message.id)(error)
            }
          }
        }),
      ])
    }
    // Two chunks in progress at once: while one is at the server, the next is decided and rendered.
    // Once the loop is stopping no chunk begins: what is left of the batch is let go (see stop()).
    const chunks: ClaimedMessage[][] = []
    for (let start = 0; start < claimed.length; start += DECIDED_TOGETHER) chunks.push(claimed.slice(start, start + DECIDED_TOGETHER))
    await Promise.all(
      Array.from({ length: CHUNKS_IN_PROGRESS }, async () => {
        for (let chunk = stopping ? undefined : chunks.shift(); chunk; chunk = stopping ? undefined : chunks.shift()) await deliverChunk(chunk)
      }),
    )
    for (const campaignId of new Set(claimed.map((c) => c.campaignId).filter((id) => id !== null))) await campaigns.finishIfDone(campaignId)
    return claimed.length
  }

  /** One turn of the loop: fan out campaigns for a while, then deliver a batch. Returns how much work it found. */
  async function work(): Promise<number> {
    const decided = await campaigns.fanOut(owner, leaseMs)
    return decided + (await runOnce())
  }

  /** A stopping worker lets go of what it still holds: its messages and its fan-out, for any other worker at once. */
  async function releaseHeld(): Promise<void> {
    const messages = await deps.delivery.releaseLeasesOf(db, owner)
    const fanouts = await campaigns.releaseFanout(owner)
    if (messages + fanouts > 0) log.info({ worker: owner, messages, fanouts }, 'claims released')
  }

  return {
    owner,
    runOnce,
    work,

    /**
     * Works until stopped (see ./loop.ts). stop() waits for the groups at the
     * SMTP server, puts back what was decided but not handed over, then lets
     * go of the rest of the batch and of the fan-out it held.
     */
    start() {
      stopping = false
      return startDeliveryLoop({
        work,
        onQueued: deps.delivery.onQueued,
        log,
        beforeStop: () => void (stopping = true),
        afterStop: releaseHeld,
      })
    },
  }
}
export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>
