// SQL for a campaign's messages in the queue, set-based: how a fan-out batch
// enters the queue, and the decision at delivery for a chunk of claimed
// messages, each as part of (or as) one statement instead of a round trip
// per message. Apart from ./queries.ts, whose statements are each about one
// message or read the queue, because these compose the decision's SQL twin
// (src/decision/sql.ts, checked against decide() by its property test) and
// the ledger's insert (src/ledger/queries.ts).
import { sql, type SQL } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { arrayLiteral, memberDecisionsSql } from '../decision/sql.js'
import type { DecisionPolicy } from '../decision/types.js'
import { insertDecisionsFrom } from '../ledger/queries.js'

/**
 * The queue's part of the fan-out's statement: a queue row, due at once, for
 * every allowed message in the CTE `source` (columns message_id, allowed).
 * A CTE body.
 */
export function enqueueAllowedFrom(source: string, campaignId: string, dueAt: Date): SQL {
  return sql`
    insert into delivery_queue (message_id, due_at, campaign_id)
    select message_id, ${dueAt.toISOString()}::timestamptz, ${campaignId}::uuid from ${sql.identifier(source)} where allowed
    returning 1`
}

export interface DeliveryBatch {
  campaign: { id: string; listId: string }
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
  const ledger = insertDecisionsFrom('decided', { stage: 'delivery', kind, listId: campaign.listId, campaignId: campaign.id, templateVersion: batch.templateVersion, at: now })
  return selectRows(
    q,
    sql`
    with input as (
      select * from unnest(${arrayLiteral(batch.messages.map((m) => m.messageId))}::uuid[], ${arrayLiteral(batch.messages.map((m) => m.contactId))}::uuid[],
                           ${arrayLiteral(batch.messages.map((m) => m.attempt))}::int[]) as i(message_id, contact_id, attempt)
    ),
    decided as (
      select i.message_id, i.attempt, d.* from (${decisions}) d join input i on i.contact_id = d.contact_id
    ),
    ledger as (${ledger}),
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
