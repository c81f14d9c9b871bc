// SQL for the send ledger. Inserts and reads only: the database refuses
// deletes and every change but erasure's (trigger). Delivery is not here: it
// is work, kept in src/delivery's own tables.
import { and, asc, eq, gte, inArray, isNotNull, lt, sql, type SQL } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { sendLedger } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'
import type { DecisionOutcome, DecisionStage } from '../vocabulary.js'

export type LedgerRow = typeof sendLedger.$inferSelect
export type NewLedgerRow = typeof sendLedger.$inferInsert

/**
 * Inserts one decision; returns undefined when the message already has its
 * decision when queued (send_ledger_message_enqueue_key: the only unique key
 * a fresh uuidv7 row can meet).
 */
// ON CONFLICT rather than catching the unique violation: inside the caller's
// transaction a failed statement would abort everything after it.
export async function insertLedgerRow(db: Queryable, row: NewLedgerRow): Promise<LedgerRow | undefined> {
  const [inserted] = await db.insert(sendLedger).values(row).onConflictDoNothing().returning()
  return inserted
}

export interface LedgerFilter {
  contactId?: string
  campaignId?: string
  listId?: string
  from?: Date
  to?: Date
  decision?: DecisionOutcome
  stage?: DecisionStage
  after?: Cursor
  limit: number
}

/** A page of ledger rows in decision order (decided_at, id), each filter optional; served by the *_idx on (x, decided_at, id). */
export async function findLedgerRows(db: Queryable, filter: LedgerFilter): Promise<LedgerRow[]> {
  return db
    .select()
    .from(sendLedger)
    .where(
      and(
        filter.contactId ? eq(sendLedger.contactId, filter.contactId) : undefined,
        filter.campaignId ? eq(sendLedger.campaignId, filter.campaignId) : undefined,
        filter.listId ? eq(sendLedger.listId, filter.listId) : undefined,
        filter.decision ? eq(sendLedger.decision, filter.decision) : undefined,
        filter.stage ? eq(sendLedger.stage, filter.stage) : undefined,
        filter.from ? gte(sendLedger.decidedAt, filter.from) : undefined,
        filter.to ? lt(sendLedger.decidedAt, filter.to) : undefined,
        afterCursor(filter.after, sendLedger.decidedAt, sendLedger.id),
      ),
    )
    .orderBy(asc(sendLedger.decidedAt), asc(sendLedger.id))
    .limit(filter.limit)
}

/** Every decision about a contact, in decision order (the access export). */
export async function findLedgerRowsOfContact(db: Queryable, contactId: string): Promise<LedgerRow[]> {
  return db.select().from(sendLedger).where(eq(sendLedger.contactId, contactId)).orderBy(asc(sendLedger.decidedAt), asc(sendLedger.id))
}

/** The decisions about these messages (at most one per stage each), in decision order. */
export async function ledgerRowsOfMessages(db: Queryable, messageIds: string[]): Promise<LedgerRow[]> {
  if (messageIds.length === 0) return []
  return db
    .select()
    .from(sendLedger)
    .where(inArray(sendLedger.messageId, messageIds))
    .orderBy(asc(sendLedger.decidedAt), asc(sendLedger.id))
}

/** A campaign's decisions counted by stage, outcome and reason (at delivery, one per message: its latest). */
export async function countCampaignDecisions(
  db: Queryable,
  campaignId: string,
): Promise<{ stage: DecisionStage; decision: DecisionOutcome; reason: string | null; count: number }[]> {
  return selectRows(
    db,
    sql`select 'enqueue' as stage, decision, reason, count(*)::int as count
        from send_ledger where campaign_id = ${campaignId}::uuid and stage = 'enqueue'
        group by decision, reason
        union all
        select 'delivery', decision, reason, count(*)::int from (
          select distinct on (message_id) decision, reason from send_ledger
          where campaign_id = ${campaignId}::uuid and stage = 'delivery'
          order by message_id, decided_at desc, id desc
        ) latest
        where decision = 'blocked'
        group by decision, reason`,
  )
}

/** Erasure: the decisions keep the keyed address hash and lose the contact. Returns how many. */
export async function redactLedgerOf(db: Queryable, contactId: string): Promise<number> {
  return (await db.update(sendLedger).set({ contactId: null }).where(eq(sendLedger.contactId, contactId)).returning({ id: sendLedger.id })).length
}

/** Retention: decisions taken before `cutoff` lose the contact; the keyed address hash stays. Returns how many. */
export async function redactLedgerBefore(db: Queryable, cutoff: Date): Promise<number> {
  const rows = await db
    .update(sendLedger)
    .set({ contactId: null })
    .where(and(isNotNull(sendLedger.contactId), lt(sendLedger.decidedAt, cutoff)))
    .returning({ id: sendLedger.id })
  return rows.length
}

/** The parts of a set of decisions every row shares: one campaign, one stage, one template version, one moment. */
export interface DecisionSetContext {
  stage: DecisionStage
  kind: 'newsletter' | 'marketing'
  listId: string
  campaignId: string
  templateVersion: string
  at: Date
  /**
   * A campaign's decision when queued for a recipient it has decided already
   * (send_ledger_campaign_recipient_key) is skipped, not an error: a fan-out
   * batch that committed before its campaign's place did is run again after
   * a crash, and decides only whom it had not.
   */
  skipDecided?: boolean
}

/**
 * The ledger's part of a set-based statement: one row per decision in the
 * CTE `source` (columns message_id and those of a MemberDecision, see
 * src/decision/sql.ts), the same row insertLedgerRow writes for a single
 * decision. A CTE body, returning each row written (message_id, contact_id,
 * address_hash, decision, reason); the fan-out and the decision at delivery
 * compose it into their one statement.
 */
export function insertDecisionsFrom(source: string, context: DecisionSetContext): SQL {
  return sql`
    insert into send_ledger (id, message_id, stage, contact_id, address_hash, kind, list_id, campaign_id, template_version,
                             decision, basis, evidence_type, evidence_id, reason, decided_at)
    select samtykke_uuidv7(), message_id, ${context.stage}::decision_stage, contact_id, address_hash, ${context.kind}::message_kind,
           ${context.listId}::uuid, ${context.campaignId}::uuid, ${context.templateVersion},
           (case when allowed then 'allowed' else 'blocked' end)::decision_outcome, basis::legal_basis,
           evidence_type::evidence_type, evidence_id, reason::block_reason, ${context.at.toISOString()}::timestamptz
    from ${sql.identifier(source)}
    ${context.skipDecided ? sql`on conflict (campaign_id, address_hash) where campaign_id is not null and stage = 'enqueue' do nothing` : sql``}
    returning message_id, contact_id, address_hash, decision, reason`
}
