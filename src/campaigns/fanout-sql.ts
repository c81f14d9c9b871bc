// One fan-out batch as one statement: the decisions for a batch of members
// (src/decision/sql.ts), written to the send ledger, with a message and a
// queue row for everyone allowed — no round trip per recipient. It writes the
// ledger's, the messages' and the delivery queue's tables, which their own
// modules otherwise write alone: one statement is what makes a million
// members a matter of seconds. The rows are the same ones those modules write
// for a single send (src/sends/service.ts), a column for a column.
import { sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { memberDecisionsSql, type Member } from '../decision/sql.js'
import type { DecisionPolicy } from '../decision/types.js'
import type { Actor } from '../lib/actor.js'
import type { DecisionTally } from '../operations/recorder.js'
import type { CampaignRow } from './queries.js'

/** The one value each recipient's message has of its own: the person's name, from their contact. */
export const RECIPIENT_NAME = 'name'

export interface FanoutBatch {
  campaign: CampaignRow
  kind: 'newsletter' | 'marketing'
  templateVersion: string
  members: Member[]
  now: Date
  policy: DecisionPolicy
  /** The host of our Message-IDs. */
  messageIdHost: string
  /** Who the messages are created by: the campaign's creator. */
  actor: Actor
}

/** Decides, records and queues one batch; returns how many were decided (by outcome) and how many queued. */
export async function fanOutBatch(q: Queryable, batch: FanoutBatch): Promise<{ decided: number; queued: number; tallies: DecisionTally[] }> {
  const { campaign, kind, now, actor } = batch
  const at = sql`${now.toISOString()}::timestamptz`
  const decisions = memberDecisionsSql({ listId: campaign.listId, members: batch.members, now, policy: batch.policy })
  const [counts] = await selectRows<{ decided: number; queued: number; tallies: DecisionTally[] }>(
    q,
    sql`
    with decided as (
      select d.*, samtykke_uuidv7() as message_id from (${decisions}) d
    ),
    ledger as (
      insert into send_ledger (id, message_id, stage, contact_id, address_hash, kind, list_id, campaign_id, template_version,
                               decision, basis, evidence_type, evidence_id, reason, decided_at)
      select samtykke_uuidv7(), message_id, 'enqueue', contact_id, address_hash, ${kind}::message_kind, ${campaign.listId}::uuid,
             ${campaign.id}::uuid, ${batch.templateVersion},
             (case when allowed then 'allowed' else 'blocked' end)::decision_outcome, basis::legal_basis,
             evidence_type::evidence_type, evidence_id, reason::block_reason, ${at}
      from decided
      returning decision, reason
    ),
    message as (
      insert into messages (id, kind, template_id, list_id, campaign_id, contact_id, to_address, address_hash, locale, data,
                            header_message_id, created_at, created_by_id, created_by_name, created_by_role)
      select d.message_id, ${kind}::message_kind, ${campaign.templateId}::uuid, ${campaign.listId}::uuid, ${campaign.id}::uuid,
             d.contact_id, c.email, d.address_hash, c.locale,
             ${JSON.stringify(campaign.data)}::jsonb || jsonb_build_object(${RECIPIENT_NAME}::text, coalesce(c.name, '')),
             '<' || d.message_id || '@' || ${batch.messageIdHost} || '>', ${at}, ${actor.id}, ${actor.name}, ${actor.role}::actor_role
      from decided d join contacts c on c.id = d.contact_id
      where d.allowed
      returning 1
    ),
    queued as (
      insert into delivery_queue (message_id, due_at, campaign_id)
      select message_id, ${at}, ${campaign.id}::uuid from decided where allowed
      returning 1
    )
    select (select count(*) from ledger)::int as decided, (select count(*) from queued)::int as queued,
           (select count(*) from message)::int as messages,
           (select coalesce(json_agg(json_build_object('allowed', decision = 'allowed', 'reason', reason, 'count', n)), '[]')
            from (select decision, reason::text, count(*)::int as n from ledger group by 1, 2) g) as tallies`,
  )
  // The decisions by outcome, for the metrics (json: postgres.js and PGlite both hand it back parsed).
  return { decided: counts!.decided, queued: counts!.queued, tallies: counts!.tallies }
}

export interface DeliveryBatch {
  campaign: Pick<CampaignRow, 'id' | 'listId'>
  kind: 'newsletter' | 'marketing'
  templateVersion: string
  /** The campaign's claimed messages, one per member (a campaign queues each address once). */
  messages: { messageId: string; contactId: string; addressHash: string; attempt: number }[]
  /** The worker holding them: only its claims are marked or taken out of the queue. */
  owner: string
  now: Date
  policy: DecisionPolicy
}

/**
 * The decision at delivery for a chunk of a campaign's claimed messages, as
 * one statement: a delivery-stage ledger row each (the same row
 * recordSendDecision writes), and for each blocked one its event and the end
 * of its queue row; each allowed one is marked as handed over, all in the
 * caller's transaction. Returns which were allowed.
 */
export async function decideDeliveryBatch(q: Queryable, batch: DeliveryBatch): Promise<{ messageId: string; allowed: boolean; reason: string | null }[]> {
  const { campaign, kind, now, owner } = batch
  const at = sql`${now.toISOString()}::timestamptz`
  const members = batch.messages.map((m) => ({ contactId: m.contactId, addressHash: m.addressHash }))
  const decisions = memberDecisionsSql({ listId: campaign.listId, members, now, policy: batch.policy })
  const literal = (values: (string | number)[]) => `{${values.join(',')}}`
  return selectRows(
    q,
    sql`
    with input as (
      select * from unnest(${literal(batch.messages.map((m) => m.messageId))}::uuid[], ${literal(batch.messages.map((m) => m.contactId))}::uuid[],
                           ${literal(batch.messages.map((m) => m.attempt))}::int[]) as i(message_id, contact_id, attempt)
    ),
    decided as (
      select i.message_id, i.attempt, d.* from (${decisions}) d join input i on i.contact_id = d.contact_id
    ),
    ledger as (
      insert into send_ledger (id, message_id, stage, contact_id, address_hash, kind, list_id, campaign_id, template_version,
                               decision, basis, evidence_type, evidence_id, reason, decided_at)
      select samtykke_uuidv7(), message_id, 'delivery', contact_id, address_hash, ${kind}::message_kind, ${campaign.listId}::uuid,
             ${campaign.id}::uuid, ${batch.templateVersion},
             (case when allowed then 'allowed' else 'blocked' end)::decision_outcome, basis::legal_basis,
             evidence_type::evidence_type, evidence_id, reason::block_reason, ${at}
      from decided
      returning 1
    ),
    blocked_event as (
      insert into delivery_events (id, message_id, type, attempt, reply, occurred_at, campaign_id)
      select samtykke_uuidv7(), message_id, 'blocked', attempt, 'blocked at delivery: ' || reason, ${at}, ${campaign.id}::uuid
      from decided where not allowed
      returning 1
    ),
    dequeued as (
      delete from delivery_queue q using decided d
      where q.message_id = d.message_id and not d.allowed and q.lease_owner = ${owner}
      returning 1
    ),
    marked as (
      update delivery_queue q set handed_over_at = ${at} from decided d
      where q.message_id = d.message_id and d.allowed and q.lease_owner = ${owner}
      returning 1
    )
    -- The writes above run to completion whether or not this reads them.
    select message_id as "messageId", allowed, reason from decided`,
  )
}
