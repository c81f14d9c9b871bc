// The decision table's newsletter and marketing rows, restated in SQL for a
// campaign's fan-out: one statement decides a whole batch of a list's members,
// where decide() would need a round trip per person. decide.ts stays the
// statement of the rules; this restates them for speed and nothing else, and
// test/decision/sql.test.ts generates member histories and checks that both
// give the same answer, basis and evidence for every member. Change a rule in
// decide.ts and that test says what to change here.
//
// The one place outside their modules that reads subscriptions, consent
// events, suppressions and enrollments: a set-based decision must read them
// in one statement. It writes nothing.
import { sql, type SQL } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { subtractMonthsUtc } from './decide.js'
import type { DecisionPolicy } from './types.js'
import type { BlockReason, EvidenceType, LegalBasis } from '../vocabulary.js'

/** One member to decide: the contact and the keyed hash of its address (suppressions may be keyed by either). */
export interface Member {
  contactId: string
  addressHash: string
}

/** One row of the answer, as the ledger stores it. */
export interface MemberDecision {
  contact_id: string
  address_hash: string
  allowed: boolean
  basis: LegalBasis | null
  evidence_type: EvidenceType | null
  evidence_id: string | null
  reason: BlockReason | null
}

/** A Postgres array literal of values that need no quoting (uuids, hex hashes, integers). */
export const arrayLiteral = (values: (string | number)[]) => `{${values.join(',')}}`

/**
 * A query yielding one MemberDecision per member: the newsletter or marketing
 * decision for message kind = list kind, at `now`. Usable as a CTE.
 */
export function memberDecisionsSql(input: { listId: string; members: Member[]; now: Date; policy: DecisionPolicy }): SQL {
  const now = sql`${input.now.toISOString()}::timestamptz`
  const customerSince = sql`${subtractMonthsUtc(input.now, input.policy.marketingCustomerWindowMonths).toISOString()}::timestamptz`
  return sql`
    with member as (
      select m.contact_id, m.address_hash
      from unnest(${arrayLiteral(input.members.map((m) => m.contactId))}::uuid[],
                  ${arrayLiteral(input.members.map((m) => m.addressHash))}::text[]) as m(contact_id, address_hash)
    ),
    list as (
      select id, kind::text as kind, purpose, archived_at is not null as archived, categories
      from lists where id = ${input.listId}::uuid
    ),
    -- The consent events bearing on the list by now: for the list, or purpose-wide for its purpose or kind.
    ev as (
      select e.contact_id, e.id, e.seq, e.type::text as type, e.basis::text as basis, e.list_id, e.source::text as source, e.occurred_at
      from consent_events e cross join list l
      where e.contact_id in (select contact_id from member)
        and e.occurred_at <= ${now}
        and (e.list_id = l.id or (e.list_id is null and (e.purpose = l.purpose or e.purpose = l.kind)))
    ),
    latest as (select distinct on (contact_id) contact_id, id, type from ev order by contact_id, seq desc),
    last_end as (select contact_id, max(seq) as seq from ev where type in ('withdrawn', 'objected') group by contact_id),
    -- Only a grant with basis consent for this list, after the last withdrawal or objection, is consent.
    grant_in_force as (
      select distinct on (ev.contact_id) ev.contact_id, ev.id, ev.occurred_at, ev.source
      from ev cross join list l left join last_end le on le.contact_id = ev.contact_id
      where ev.type = 'granted' and ev.basis = 'consent' and ev.list_id = l.id and ev.seq > coalesce(le.seq, 0)
      order by ev.contact_id, ev.seq desc
    ),
    -- Suppressions in force that cover the list, matched by contact or by address hash.
    sup as (
      select m.contact_id, s.id, s.scope::text as scope, s.reason::text as reason, s.created_at
      from member m
      cross join list l
      join lateral (
        select x.* from suppressions x where x.contact_id = m.contact_id
        union
        select x.* from suppressions x where x.address_hash = m.address_hash
      ) s on true
      where s.lifted_at is null and s.created_at <= ${now} and (s.expires_at is null or s.expires_at > ${now})
        and (s.scope in ('all-mail', 'global')
             or (s.scope = 'list' and s.list_id = l.id)
             or (s.scope = 'purpose' and (s.purpose = l.purpose or s.purpose = l.kind)))
    ),
    -- The one that speaks: all-mail first, then by reason, the newest, the smallest id; none the
    -- person's own newer consent speaks over (what they said, outside all-mail, given after it).
    blocking as (
      select distinct on (sup.contact_id) sup.contact_id, sup.id, sup.reason
      from sup left join grant_in_force g on g.contact_id = sup.contact_id
      where not (g.id is not null and sup.scope <> 'all-mail' and g.occurred_at > sup.created_at
                 and sup.reason in ('unsubscribe', 'objection', 'complaint', 'erasure') and g.source in ('form', 'link'))
      order by sup.contact_id, (sup.scope <> 'all-mail'),
        case sup.reason when 'erasure' then 0 when 'restriction' then 1 when 'objection' then 2 when 'complaint' then 3
                        when 'unsubscribe' then 4 when 'manual' then 5 else 6 end,
        sup.created_at desc, sup.id
    ),
    -- Marketing: the latest purchase in the list's categories within the window, not opted out at collection.
    customer as (
      select distinct on (e.contact_id) e.contact_id, e.id
      from enrollments e join courses c on c.id = e.course_id cross join list l
      where e.contact_id in (select contact_id from member) and l.kind = 'marketing'
        and c.category = any (l.categories) and e.status <> 'cancelled' and not e.marketing_opt_out
        and e.enrolled_at >= ${customerSince} and e.enrolled_at <= ${now}
      order by e.contact_id, e.enrolled_at desc, e.id collate "C" desc
    ),
    verdict as (
      select m.contact_id, m.address_hash, sub.id as subscription_id, latest.id as latest_id, g.id as grant_id,
             b.id as suppression_id, b.reason as suppression_reason, cu.id as customer_id,
        case
          when l.archived then 'list_archived'
          when b.id is not null then 'suppressed'
          when l.kind = 'newsletter' and sub.id is null then 'not_subscribed'
          when sub.status = 'unsubscribed' then 'unsubscribed'
          when l.kind = 'newsletter' and sub.status = 'pending' then 'subscription_pending'
          when l.kind = 'newsletter' and latest.id is null then 'no_consent'
          when latest.type in ('withdrawn', 'objected') then 'consent_withdrawn'
          when l.kind = 'newsletter' and g.id is null then 'no_consent'
          when l.kind = 'newsletter' then 'consent'
          when sub.status = 'active' and g.id is not null then 'consent'
          when cu.id is not null then 'customer'
          else 'no_marketing_basis'
        end as verdict
      from member m cross join list l
      left join subscriptions sub on sub.contact_id = m.contact_id and sub.list_id = l.id
      left join latest on latest.contact_id = m.contact_id
      left join grant_in_force g on g.contact_id = m.contact_id
      left join blocking b on b.contact_id = m.contact_id
      left join customer cu on cu.contact_id = m.contact_id
    )
    select contact_id, address_hash,
      verdict in ('consent', 'customer') as allowed,
      case verdict when 'consent' then 'consent' when 'customer' then 'legitimate_interest' end as basis,
      case verdict
        when 'suppressed' then 'suppression'
        when 'unsubscribed' then 'subscription'
        when 'subscription_pending' then 'subscription'
        when 'consent_withdrawn' then 'consent_event'
        when 'consent' then 'consent_event'
        when 'customer' then 'enrollment'
      end as evidence_type,
      case verdict
        when 'suppressed' then suppression_id::text
        when 'unsubscribed' then subscription_id::text
        when 'subscription_pending' then subscription_id::text
        when 'consent_withdrawn' then latest_id::text
        when 'consent' then grant_id::text
        when 'customer' then customer_id
      end as evidence_id,
      case
        when verdict in ('consent', 'customer') then null
        when verdict = 'suppressed' then
          case suppression_reason when 'bounce' then 'hard_bounce' when 'erasure' then 'erased' when 'manual' then 'manual_block'
                                  when 'restriction' then 'restricted'
                                  when 'objection' then 'objection' when 'complaint' then 'complaint' else 'unsubscribed' end
        else verdict
      end as reason
    from verdict`
}

/** Decides a batch of members in one statement (the fan-out inserts from the same query instead). */
export function decideMembers(q: Queryable, input: { listId: string; members: Member[]; now: Date; policy: DecisionPolicy }): Promise<MemberDecision[]> {
  return selectRows<MemberDecision>(q, memberDecisionsSql(input))
}

/**
 * The next batch of a list's members after `after` (contact id order), with
 * their addresses: everyone subscribed in any state, so who is not sent to is
 * recorded with why; for a marketing list also everyone who bought in its
 * categories within the existing-customer window (whom decide() may allow
 * without a subscription).
 */
export async function listMembersAfter(
  q: Queryable,
  input: { listId: string; kind: 'newsletter' | 'marketing'; categories: string[]; after: string | null; limit: number; now: Date; policy: DecisionPolicy },
): Promise<{ id: string; email: string }[]> {
  const after = input.after ?? '00000000-0000-0000-0000-000000000000'
  const subscribed = sql`(select contact_id from subscriptions where list_id = ${input.listId}::uuid and contact_id > ${after}::uuid
                          order by contact_id limit ${input.limit})`
  const customerSince = subtractMonthsUtc(input.now, input.policy.marketingCustomerWindowMonths).toISOString()
  const customers = sql`(select e.contact_id from enrollments e join courses c on c.id = e.course_id
                         where c.category = any (${arrayLiteral(input.categories.map((c) => `"${c.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`))}::text[])
                           and e.enrolled_at >= ${customerSince}::timestamptz and e.contact_id > ${after}::uuid
                         order by e.contact_id limit ${input.limit})`
  const candidates = input.kind === 'marketing' && input.categories.length > 0 ? sql`${subscribed} union ${customers}` : subscribed
  return selectRows(q, sql`select id, email from contacts where id in (${candidates}) order by id limit ${input.limit}`)
}
