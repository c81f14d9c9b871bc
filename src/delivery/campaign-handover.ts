// A campaign's claimed messages at delivery: decided again together, one
// statement per chunk (./campaign-queries.ts, the decision's SQL twin), then
// handed to the mailer a pool's width at a time, each group in a transaction
// that holds the campaign row shared and the recipients, and asks the
// decision once more. Delivery reads the campaign's state here and never
// changes it; the campaign's own steps are src/campaigns. Part of the
// delivery worker (./worker.ts).
import type { SQL } from 'drizzle-orm'
import { pipelined, type Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import type { ContactService } from '../contacts/service.js'
import { decideMembers } from '../decision/sql.js'
import type { DecisionPolicy } from '../decision/types.js'
import { newId } from '../lib/ids.js'
import { tallyDecisions } from '../operations/recorder.js'
import type { MessageRow } from '../sends/service.js'
import type { ReturnService } from '../returns/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import { DeliveryEventType, type CampaignStatus } from '../vocabulary.js'
import { byCampaign, versionOf, type BatchContext, type Handover, type WorkerContext } from './batch.js'
import { decideDeliveryBatch } from './campaign-queries.js'
import type { DecidedTogether } from './message-steps.js'
import { deleteQueueRows, insertDeliveryEvents, lockHeldQueueRows, releaseQueueRow, type ClaimedMessage } from './queries.js'
import type { DeliveryService } from './service.js'

/** What delivery reads of a campaign; src/campaigns provides it (src/worker.ts hands it over). */
export interface CampaignReader {
  /** The campaign, its row held shared until `tx` ends: a cancel (which takes it for update) waits for the handover in progress. */
  holdShared(tx: Queryable, campaignId: string): Promise<{ id: string; listId: string; status: CampaignStatus; notAfter: Date | null }>
  /** The ids of the campaigns now sending, as a subquery: only their messages are claimed. */
  sendingCampaignIds(): SQL
  /** The values every message of the campaign is filled with (immutable: set when it is created), beside each message's own. */
  sharedData(q: Queryable, campaignId: string): Promise<Record<string, unknown>>
}

export interface CampaignHandoverDeps {
  config: Pick<Config, 'smtpMaxConnections'>
  policy: DecisionPolicy
  campaigns: CampaignReader
  contacts: Pick<ContactService, 'holdForHandover'>
  suppressions: Pick<SuppressionService, 'holdForHandover'>
  delivery: Pick<DeliveryService, 'closeCampaign'>
  returns: Pick<ReturnService, 'checkCampaign'>
}

/** What became of each message of a group handed over, in the order given. */
type GroupOutcome = DeliveryEventType | 'released' | 'cancelled' | 'not held'

export function createCampaignHandover(ctx: WorkerContext, deps: CampaignHandoverDeps) {
  const { db, clock, owner, mailer, log, metrics, outcomes, report } = ctx
  const { campaigns, policy } = deps

  /**
   * Hands a group of one campaign's messages to the mailer at once. The check
   * and the handovers share one transaction holding the campaign row shared,
   * so a cancel waits for the handovers in progress, and none begins after
   * the cancel commits. Paused: put back untried. Past its send-by deadline:
   * they and the rest of the waiting ones expire. Only messages this worker
   * still holds go (their queue rows locked for the transaction). What the
   * server accepted is recorded in two statements for the whole group;
   * anything else one message at a time.
   */
  async function handOverGroup(campaignId: string, handovers: Handover[]): Promise<GroupOutcome[]> {
    return db.transaction(async (tx) => {
      const campaign = await campaigns.holdShared(tx, campaignId)
      const held = await lockHeldQueueRows(tx, handovers.map((h) => h.message.id), owner)
      let group = handovers.filter((h) => held.has(h.message.id))
      const each = (outcome: 'released' | 'cancelled' | DeliveryEventType) => handovers.map((h) => (held.has(h.message.id) ? outcome : 'not held'))
      if (campaign.status === 'cancelled') return each('cancelled')
      if (campaign.status !== 'sending') {
        for (const { message } of group) await releaseQueueRow(tx, message.id, owner, clock.now())
        return each('released')
      }
      if (campaign.notAfter && campaign.notAfter.getTime() <= clock.now().getTime()) {
        for (const { message, attempt } of group) await outcomes.settleIn(tx, message, attempt, { type: DeliveryEventType.expired, reply: 'the campaign passed its send-by deadline' })
        await deps.delivery.closeCampaign(tx, campaign.id, 'expired', false)
        return each(DeliveryEventType.expired)
      }
      // Hold the recipients, then ask again: an opt-out or suppression that committed since the chunk was
      // decided stops its message (it goes back, to be decided and recorded as blocked), and one that
      // comes now waits until the server has answered — none commits and is then overtaken.
      await deps.contacts.holdForHandover(tx, group.flatMap((h) => (h.message.contactId ? [h.message.contactId] : [])))
      await deps.suppressions.holdForHandover(tx, group.map((h) => h.message.addressHash))
      const stopped = await noLongerAllowed(tx, campaign.listId, group.map((h) => h.message))
      for (const h of group.filter((h) => stopped.has(h.message.contactId!))) await releaseQueueRow(tx, h.message.id, owner, clock.now())
      group = group.filter((h) => !stopped.has(h.message.contactId!))
      const sent = await Promise.all(group.map(async (h) => ({ ...h, outcome: await mailer.send(h.outgoing) })))
      const accepted = sent.filter((h) => h.outcome.type === 'accepted')
      const occurredAt = clock.now()
      // Two tables, neither statement reading the other's rows: sent together, one round trip.
      await pipelined([
        insertDeliveryEvents(
          tx,
          accepted.map(({ message, attempt, outcome }) => ({ id: newId(), messageId: message.id, campaignId, type: DeliveryEventType.accepted, attempt, reply: outcome.reply, occurredAt })),
        ),
        deleteQueueRows(tx, accepted.map(({ message }) => message.id), owner),
      ])
      const types = new Map<string, DeliveryEventType>()
      for (const { message, attempt, outcome } of sent) {
        types.set(message.id, outcome.type === 'accepted' ? DeliveryEventType.accepted : await outcomes.recordOutcome(tx, message, attempt, outcome))
      }
      return handovers.map((h) => types.get(h.message.id) ?? (stopped.has(h.message.contactId!) ? 'released' : 'not held'))
    })
  }

  /**
   * The decision again, read-only, inside a handover that holds its
   * recipients (contacts and suppression locks): the members it no longer
   * allows. Whatever they said after the chunk was decided stops their message.
   */
  async function noLongerAllowed(tx: Queryable, listId: string, messages: MessageRow[]): Promise<Set<string>> {
    if (messages.length === 0) return new Set()
    const members = messages.map((m) => ({ contactId: m.contactId!, addressHash: m.addressHash }))
    const rows = await decideMembers(tx, { listId, members, now: clock.now(), policy })
    return new Set(rows.filter((r) => !r.allowed).map((r) => r.contact_id))
  }

  /** Decided and marked, but not handed over: back in the queue untried, the mark cleared, for the next worker to decide again. */
  async function putBack(handovers: Handover[]): Promise<void> {
    await db.transaction(async (tx) => {
      for (const { message } of handovers) await releaseQueueRow(tx, message.id, owner, clock.now())
    })
    for (const { message, attempt } of handovers) report(message.id, attempt, 'released')
  }

  return {
    /**
     * Campaign messages decided together, one statement per campaign (the
     * set-based decision, checked against decide() by its property test):
     * recorded, allowed ones marked as handed over, blocked ones ended.
     * Returns each decided message's answer; those it could not decide are
     * left to the decision one at a time.
     */
    async decideTogether(batch: { claimed: ClaimedMessage; message: MessageRow }[], context: BatchContext): Promise<Map<string, DecidedTogether>> {
      const answers = new Map<string, DecidedTogether>()
      const decidable = batch.filter(({ message: m }) => m.contactId && m.listId && (m.kind === 'newsletter' || m.kind === 'marketing'))
      for (const [campaignId, items] of byCampaign(decidable)) {
        const { message: first } = items[0]!
        try {
          const template = await context.template(first.templateId)
          const decided = await db.transaction((tx) =>
            decideDeliveryBatch(tx, {
              campaign: { id: campaignId, listId: first.listId! },
              kind: first.kind as 'newsletter' | 'marketing',
              templateVersion: versionOf(template),
              messages: items.map(({ claimed, message }) => ({ messageId: message.id, contactId: message.contactId!, addressHash: message.addressHash, attempt: claimed.attempts })),
              owner,
              now: clock.now(),
              policy,
            }),
          )
          for (const row of decided) answers.set(row.messageId, { allowed: row.allowed, reason: row.reason })
          metrics.countDecisions('delivery', tallyDecisions(decided))
        } catch (error) {
          log.warn({ campaignId, err: { message: (error as Error).message } }, 'campaign messages decided one at a time')
        }
      }
      return answers
    },

    /**
     * Hands one campaign's messages of a chunk over, a pool's width at a time,
     * each group in its own transaction: what a kill can leave accepted but
     * unrecorded (a possible duplicate) is one group, not the chunk. Once the
     * worker is stopping, the groups not begun go back untried, so the stop
     * waits on one group at the server, not the chunk.
     */
    async handOver(campaignId: string, handovers: Handover[], stopping: () => boolean, failed: (messageId: string) => (error: unknown) => void): Promise<void> {
      for (let start = 0; start < handovers.length; start += deps.config.smtpMaxConnections) {
        const group = handovers.slice(start, start + deps.config.smtpMaxConnections)
        if (stopping()) {
          await putBack(group).catch((error) => group.forEach((h) => failed(h.message.id)(error)))
          continue
        }
        try {
          const groupOutcomes = await handOverGroup(campaignId, group)
          for (const [i, { message, attempt }] of group.entries()) report(message.id, attempt, groupOutcomes[i]!)
          // Hard bounces at handover count toward the campaign's bounce rate, checked once the group's transaction is over.
          if (groupOutcomes.includes(DeliveryEventType.bounced)) await deps.returns.checkCampaign(campaignId)
        } catch (error) {
          for (const h of group) failed(h.message.id)(error)
        }
      }
    },
  }
}
