// The send ledger: one immutable row per decision taken on the send path,
// allowed or blocked, with the basis, the evidence and the reason — when a
// message is queued (stage `enqueue`) and again just before it is handed to
// SMTP (stage `delivery`). Delivery itself is not here. Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import type { DecisionOutcome, DecisionRequest, DecisionService } from '../decision/service.js'
import { ConflictError } from '../lib/errors.js'
import { newId } from '../lib/ids.js'
import { decodeCursor, timeRange, toPage, type Cursor } from '../lib/pagination.js'
import type { MetricsRecorder } from '../operations/recorder.js'
import type { DecisionStage } from '../vocabulary.js'
import {
  countCampaignDecisions,
  findLedgerRows,
  findLedgerRowsOfContact,
  insertLedgerRow,
  ledgerRowsOfMessages,
  redactLedgerBefore,
  redactLedgerOf,
  type LedgerRow,
} from './queries.js'

/** One message about to be sent: its id, the stage of the send path, its recipient and what it is. */
export interface SendDecisionInput extends DecisionRequest {
  messageId: string
  stage: DecisionStage
  campaignId?: string
  /** `name@version` of the template the message is made from. */
  templateVersion?: string
}

export interface LedgerQuery {
  contactId?: string
  campaignId?: string
  listId?: string
  /** decidedAt at or after this time. */
  from?: string
  /** decidedAt before this time. */
  to?: string
  decision?: 'allowed' | 'blocked'
  stage?: DecisionStage
  cursor?: string
  limit?: number
}

export function createLedgerService({
  db,
  decisions,
  metrics,
}: {
  db: Database
  decisions: Pick<DecisionService, 'decideOutcome'>
  metrics: Pick<MetricsRecorder, 'countDecisions'>
}) {
  /** Decides and records the decision, inside `tx` (the caller's transaction) or one of its own. */
  async function recordIn(tx: Queryable, input: SendDecisionInput): Promise<{ row: LedgerRow; outcome: DecisionOutcome }> {
    const outcome = await decisions.decideOutcome(input, tx)
    const { answer, recipient, listId } = outcome
    const row = await insertLedgerRow(tx, {
      id: newId(),
      messageId: input.messageId,
      stage: input.stage,
      contactId: recipient.contactId,
      addressHash: recipient.addressHash,
      kind: input.kind,
      listId: input.listId ?? listId,
      courseId: input.courseId ?? null,
      campaignId: input.campaignId ?? null,
      templateVersion: input.templateVersion ?? null,
      decision: answer.allowed ? 'allowed' : 'blocked',
      basis: answer.basis,
      evidenceType: answer.evidence?.type ?? null,
      evidenceId: answer.evidence?.id ?? null,
      reason: answer.reason,
      decidedAt: answer.decidedAt,
    })
    if (!row) throw new ConflictError('message_id_taken', `Message ${input.messageId} already has its decision when queued`)
    // Counted when written: a caller's transaction that rolls back after this (an error) counts it once too often.
    metrics.countDecisions(input.stage, [{ allowed: answer.allowed, reason: answer.reason, count: 1 }])
    return { row, outcome }
  }

  return {
    /**
     * Takes the decision for one message at one stage and records it as an
     * immutable ledger row, with the decision it recorded (its recipient and
     * lock). A message is decided once when queued (a second time is a 409
     * message_id_taken), and again before each delivery attempt.
     */
    recordSendDecision(input: SendDecisionInput, tx?: Queryable): Promise<{ row: LedgerRow; outcome: DecisionOutcome }> {
      return tx ? recordIn(tx, input) : db.transaction((t) => recordIn(t, input))
    },

    /** Every decision about these messages, in decision order. */
    decisionsOf: (q: Queryable, messageIds: string[]) => ledgerRowsOfMessages(q, messageIds),

    /** Retention: decisions older than `cutoff` keep only the keyed address hash. */
    redactBeforeIn: (tx: Queryable, cutoff: Date) => redactLedgerBefore(tx, cutoff),

    /** Erasure: the decisions keep the keyed address hash and lose the contact. */
    redactIn: (tx: Queryable, contactId: string) => redactLedgerOf(tx, contactId),

    /** Every decision about a contact (the access export). */
    decisionsAbout: (q: Queryable, contactId: string) => findLedgerRowsOfContact(q, contactId),

    /** A campaign's decisions, counted: when queued by outcome and reason; at delivery, the blocks. */
    campaignDecisionCounts: (q: Queryable, campaignId: string) => countCampaignDecisions(q, campaignId),

    /** A page of a campaign's recipients: its decisions when queued, one per member, in decision order. */
    campaignRecipients: (q: Queryable, campaignId: string, page: { after?: Cursor; limit: number }) =>
      findLedgerRows(q, { campaignId, stage: 'enqueue', after: page.after, limit: page.limit }),

    /** A page of ledger rows in decision order, filtered. */
    async listLedger(query: LedgerQuery) {
      const { from, to } = timeRange(query)
      const limit = query.limit ?? 50
      const rows = await findLedgerRows(db, {
        contactId: query.contactId,
        campaignId: query.campaignId,
        listId: query.listId,
        decision: query.decision,
        stage: query.stage,
        from,
        to,
        after: decodeCursor(query.cursor),
        limit: limit + 1,
      })
      return toPage(rows, limit, (r) => ({ at: r.decidedAt, id: r.id }))
    },
  }
}
export type LedgerService = ReturnType<typeof createLedgerService>
