// The steps every claimed message goes through, one message at a time:
// prepared (an erased recipient ends here; a handover a dead worker left
// gets its `interrupted` event), decided again at delivery (unless its
// campaign chunk was decided together, ./campaign-handover.ts), rendered,
// and — for a single send — handed to the mailer in a transaction of its
// own. Part of the delivery worker (./worker.ts).
import type { Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import type { LedgerService } from '../ledger/service.js'
import { newId } from '../lib/ids.js'
import type { MessageRow } from '../sends/service.js'
import type { TemplateRow, TemplateService } from '../templates/service.js'
import { DeliveryEventType } from '../vocabulary.js'
import { versionOf, type BatchContext, type Handover, type WorkerContext } from './batch.js'
import { composeMessage } from './compose.js'
import { deleteQueueRow, insertDeliveryEvent, markHandedOver, type ClaimedMessage } from './queries.js'

export interface MessageStepDeps {
  config: Parameters<typeof composeMessage>[0]['config'] & Pick<Config, 'publicBaseUrl'>
  templates: Pick<TemplateService, 'render'>
  ledger: Pick<LedgerService, 'recordSendDecision'>
}

/** What the campaign's decision together said of a message. */
export type DecidedTogether = { allowed: boolean; reason: string | null }

export function createMessageSteps(ctx: WorkerContext, deps: MessageStepDeps) {
  const { db, clock, owner, mailer, outcomes, report } = ctx
  const host = new URL(deps.config.publicBaseUrl).hostname

  /**
   * Decides again, in one transaction with the blocked event when the answer
   * is no — or, when it is yes, with the mark that the handover to SMTP begins.
   */
  async function decideAtDelivery(message: MessageRow, template: TemplateRow, attempt: number) {
    return db.transaction(async (tx: Queryable) => {
      const { outcome } = await deps.ledger.recordSendDecision(
        {
          messageId: message.id,
          stage: 'delivery',
          ...(message.contactId ? { contactId: message.contactId } : { email: message.toAddress! }),
          kind: message.kind,
          listId: message.kind === 'course' ? undefined : (message.listId ?? undefined),
          courseId: message.courseId ?? undefined,
          campaignId: message.campaignId ?? undefined,
          template: { id: template.id, kind: template.kind },
          templateVersion: versionOf(template),
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

  return {
    /**
     * Before the decision: a message whose recipient was erased ends here; one
     * a dead worker was handing over gets its `interrupted` event. Returns the
     * message when it goes on to be decided.
     */
    async prepare(claimed: ClaimedMessage, batch: BatchContext): Promise<MessageRow | null> {
      const { messageId, attempts: attempt } = claimed
      const message = batch.message(messageId)
      if (!message?.toAddress) {
        // Erased since it was queued: nothing to send, and no one to send it to.
        await outcomes.settle({ id: messageId, campaignId: claimed.campaignId }, attempt, { type: DeliveryEventType.blocked, reply: 'the recipient was erased' })
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
    },

    /** Decides one message (unless its chunk decided it already) and renders it: what is left to do is its handover, or nothing. */
    async decideAndCompose(claimed: ClaimedMessage, message: MessageRow, batch: BatchContext, decidedTogether?: DecidedTogether): Promise<Handover | null> {
      const { messageId, attempts: attempt } = claimed
      const template = await batch.template(message.templateId)
      let lockedUntil: Date | null = null
      if (decidedTogether) {
        if (!decidedTogether.allowed) {
          report(messageId, attempt, DeliveryEventType.blocked, decidedTogether.reason)
          return null
        }
      } else {
        let decision
        try {
          decision = await decideAtDelivery(message, template, attempt)
        } catch (error) {
          // The decision refused the question itself (its course or list is gone): the message cannot be sent.
          await outcomes.settle(message, attempt, { type: DeliveryEventType.failed, reply: `not decided at delivery: ${(error as Error).message}` })
          return null
        }
        if (!decision.answer.allowed) {
          report(messageId, attempt, DeliveryEventType.blocked, decision.answer.reason)
          return null
        }
        lockedUntil = decision.answer.lockedUntil
      }

      try {
        const list = message.listId ? await batch.list(message.listId) : null
        const shared = message.campaignId ? await batch.campaignData(message.campaignId) : {}
        const outgoing = await composeMessage({ config: deps.config, templates: deps.templates, host }, message, template, list, lockedUntil, shared)
        return { message, attempt, outgoing }
      } catch (error) {
        await outcomes.settle(message, attempt, { type: DeliveryEventType.failed, reply: `could not render: ${(error as Error).message}` })
        return null
      }
    },

    /** A single send's message: its own transaction, with the decision's mark already committed. */
    async handOverOne({ message, outgoing, attempt }: Handover): Promise<void> {
      const outcome = await db.transaction(async (tx) => outcomes.recordOutcome(tx, message, attempt, await mailer.send(outgoing)))
      report(message.id, attempt, outcome)
    },
  }
}
