// The send ledger: one immutable row per decision taken on the send path,
// allowed or blocked, with the basis, the evidence and the reason. It is also
// the delivery queue (allowed rows start `queued`, blocked ones `skipped`),
// but delivery is not done here. Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import { DeliveryStatus } from '../vocabulary.js'
import type { DecisionRequest, DecisionService } from '../decision/service.js'
import { ConflictError } from '../lib/errors.js'
import { decodeCursor, timeRange, toPage } from '../lib/pagination.js'
import { findLedgerRows, insertLedgerRow, type LedgerRow } from './queries.js'

/** One message about to be sent: its own id (unique in the ledger), its recipient and what it is. */
export interface SendDecisionInput extends DecisionRequest {
  messageId: string
  campaignId?: string
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
  cursor?: string
  limit?: number
}

export function createLedgerService({ db, decisions }: { db: Database; decisions: DecisionService }) {
  /** Decides and records the decision, inside `tx` (the caller's transaction) or one of its own. */
  async function recordIn(tx: Queryable, input: SendDecisionInput): Promise<LedgerRow> {
    const { answer, recipient, listId } = await decisions.decideOutcome(input, tx)
    const row = await insertLedgerRow(tx, {
      messageId: input.messageId,
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
      deliveryStatus: answer.allowed ? DeliveryStatus.queued : DeliveryStatus.skipped,
    })
    if (!row) throw new ConflictError('message_id_taken', `A decision for message ${input.messageId} is already recorded`)
    return row
  }

  return {
    /**
     * Takes the decision for one message and records it as an immutable
     * ledger row: `queued` when allowed, `skipped` when blocked. A message id
     * already in the ledger is a conflict (409 message_id_taken).
     */
    recordSendDecision(input: SendDecisionInput, tx?: Queryable): Promise<LedgerRow> {
      return tx ? recordIn(tx, input) : db.transaction((t) => recordIn(t, input))
    },

    /** A page of ledger rows in decision order, filtered. */
    async listLedger(query: LedgerQuery) {
      const { from, to } = timeRange(query)
      const limit = query.limit ?? 50
      const rows = await findLedgerRows(db, {
        contactId: query.contactId,
        campaignId: query.campaignId,
        listId: query.listId,
        decision: query.decision,
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
