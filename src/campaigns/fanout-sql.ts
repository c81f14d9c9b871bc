// One fan-out batch as one statement: the decisions for a batch of members
// (src/decision/sql.ts), written to the send ledger, with a message and a
// queue row for everyone allowed — no round trip per recipient: one statement
// is what makes a million members a matter of seconds. The ledger's rows and
// the queue's are each written by their own module's part of the statement
// (src/ledger/queries.ts, src/delivery/campaign-queries.ts). The messages are
// written here, the same rows src/sends writes for a single send, a column for
// a column, because each one takes the recipient's address, locale and name
// from their contact in the same statement. A message's data is only what is
// the person's own (the name): the campaign's data, the same for all and
// immutable once created, stays on the campaign, and delivery merges it in
// when it renders (src/delivery/compose.ts) — a 12 KB newsletter body is
// written once, not once per recipient.
import { sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { memberDecisionsSql, type Member } from '../decision/sql.js'
import { enqueueAllowedFrom } from '../delivery/campaign-queries.js'
import { insertDecisionsFrom } from '../ledger/queries.js'
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

/**
 * Decides, records and queues one batch; returns how many were decided (by
 * outcome) and how many queued. Members the campaign has decided already are
 * left out (a batch run again after a crash), so it may be run any number of times.
 */
export async function fanOutBatch(q: Queryable, batch: FanoutBatch): Promise<{ decided: number; queued: number; tallies: DecisionTally[] }> {
  const { campaign, kind, now, actor } = batch
  const at = sql`${now.toISOString()}::timestamptz`
  const decisions = memberDecisionsSql({ listId: campaign.listId, members: batch.members, now, policy: batch.policy })
  const ledger = insertDecisionsFrom('decided', {
    stage: 'enqueue',
    kind,
    listId: campaign.listId,
    campaignId: campaign.id,
    templateVersion: batch.templateVersion,
    at: now,
    skipDecided: true,
  })
  const queued = enqueueAllowedFrom('recorded', campaign.id, now)
  const [counts] = await selectRows<{ decided: number; queued: number; tallies: DecisionTally[] }>(
    q,
    sql`
    with decided as (
      select d.*, samtykke_uuidv7() as message_id from (${decisions}) d
    ),
    ledger as (${ledger}),
    -- Only the decisions written: a member decided by an earlier run of this batch has its message already.
    recorded as (select message_id, contact_id, address_hash, decision = 'allowed' as allowed from ledger),
    message as (
      insert into messages (id, kind, template_id, list_id, campaign_id, contact_id, to_address, address_hash, locale, data,
                            header_message_id, created_at, created_by_id, created_by_name, created_by_role)
      select r.message_id, ${kind}::message_kind, ${campaign.templateId}::uuid, ${campaign.listId}::uuid, ${campaign.id}::uuid,
             r.contact_id, c.email, r.address_hash, c.locale,
             jsonb_build_object(${RECIPIENT_NAME}::text, coalesce(c.name, '')),
             '<' || r.message_id || '@' || ${batch.messageIdHost} || '>', ${at}, ${actor.id}, ${actor.name}, ${actor.role}::actor_role
      from recorded r join contacts c on c.id = r.contact_id
      where r.allowed
      returning 1
    ),
    queued as (${queued})
    select (select count(*) from ledger)::int as decided, (select count(*) from queued)::int as queued,
           (select count(*) from message)::int as messages,
           (select coalesce(json_agg(json_build_object('allowed', decision = 'allowed', 'reason', reason, 'count', n)), '[]')
            from (select decision, reason::text, count(*)::int as n from ledger group by 1, 2) g) as tallies`,
  )
  // The decisions by outcome, for the metrics (json: postgres.js and PGlite both hand it back parsed).
  return { decided: counts!.decided, queued: counts!.queued, tallies: counts!.tallies }
}
