// SQL for delivery: the queue (work still to do, narrow and short-lived) and
// the delivery events (what happened, appended). The proof of why a message
// went out is the send ledger's, not here.
import { and, asc, eq, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { deliveryEvents, deliveryQueue } from '../../db/schema/index.js'

export type QueueRow = typeof deliveryQueue.$inferSelect
export type DeliveryEventRow = typeof deliveryEvents.$inferSelect
export type NewDeliveryEvent = typeof deliveryEvents.$inferInsert

export interface ClaimedMessage {
  messageId: string
  attempts: number
  campaignId: string | null
  /** Set when an earlier worker died while handing this message to SMTP. */
  handedOverAt: Date | null
}

export async function insertQueueRow(db: Queryable, row: { messageId: string; dueAt: Date }): Promise<void> {
  await db.insert(deliveryQueue).values(row)
}

/**
 * Takes up to `limit` due messages for `owner` until `leaseUntil`: those no
 * one holds, or whose holder's lease ran out (a worker that died). SKIP
 * LOCKED lets workers claim side by side without waiting on each other's rows.
 * Each claim counts as an attempt, so a message that kills its worker every
 * time still reaches the limit.
 */
export async function claimDue(
  db: Queryable,
  claim: { owner: string; now: Date; leaseUntil: Date; limit: number; sendingCampaigns: SQL },
): Promise<ClaimedMessage[]> {
  const due = db
    .select({ messageId: deliveryQueue.messageId })
    .from(deliveryQueue)
    .where(
      // Typed comparisons, not raw SQL: the column maps the Date for each driver.
      and(
        lte(deliveryQueue.dueAt, claim.now),
        or(isNull(deliveryQueue.leaseUntil), lt(deliveryQueue.leaseUntil, claim.now)),
        // A paused or cancelled campaign's messages wait (or are gone).
        or(isNull(deliveryQueue.campaignId), inArray(deliveryQueue.campaignId, claim.sendingCampaigns)),
      ),
    )
    .orderBy(asc(deliveryQueue.dueAt))
    .limit(claim.limit)
    .for('update', { skipLocked: true })
  return db
    .update(deliveryQueue)
    .set({ leaseOwner: claim.owner, leaseUntil: claim.leaseUntil, attempts: sql`${deliveryQueue.attempts} + 1` })
    .where(inArray(deliveryQueue.messageId, due))
    .returning({
      messageId: deliveryQueue.messageId,
      attempts: deliveryQueue.attempts,
      campaignId: deliveryQueue.campaignId,
      handedOverAt: deliveryQueue.handedOverAt,
    })
}

/** Just before the handover to SMTP, in the transaction that records the decision at delivery. */
export async function markHandedOver(db: Queryable, messageId: string, owner: string, at: Date | null): Promise<void> {
  await db
    .update(deliveryQueue)
    .set({ handedOverAt: at })
    .where(and(eq(deliveryQueue.messageId, messageId), eq(deliveryQueue.leaseOwner, owner)))
}

/**
 * Of these messages, those `owner` still holds, locked until the caller's
 * transaction ends: a handover sends only what it holds, never a message
 * whose lease ran out and another worker took, or that was ended meanwhile.
 */
export async function lockHeldQueueRows(db: Queryable, messageIds: string[], owner: string): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set()
  const rows = await db
    .select({ messageId: deliveryQueue.messageId })
    .from(deliveryQueue)
    .where(and(inArray(deliveryQueue.messageId, messageIds), eq(deliveryQueue.leaseOwner, owner)))
    .for('update')
  return new Set(rows.map((r) => r.messageId))
}

/** Put back untried (its campaign was paused before the handover): due now, held by no one, the attempt not counted. */
export async function releaseQueueRow(db: Queryable, messageId: string, owner: string, now: Date): Promise<void> {
  await db
    .update(deliveryQueue)
    .set({ dueAt: now, leaseOwner: null, leaseUntil: null, handedOverAt: null, attempts: sql`greatest(${deliveryQueue.attempts} - 1, 0)` })
    .where(and(eq(deliveryQueue.messageId, messageId), eq(deliveryQueue.leaseOwner, owner)))
}

/**
 * Lets go of every message `owner` still holds (it is stopping): due at once
 * for any worker, not when the lease runs out. One never handed over gets its
 * attempt back (the claim counted one it never made); one marked as handed
 * over keeps the mark, so the next claim records it as interrupted. Reads the
 * whole queue (no index on the owner): once per stop, on the narrow work table.
 */
export async function releaseLeasesOf(db: Queryable, owner: string): Promise<number> {
  const rows = await db
    .update(deliveryQueue)
    .set({
      leaseOwner: null,
      leaseUntil: null,
      attempts: sql`case when ${deliveryQueue.handedOverAt} is null then greatest(${deliveryQueue.attempts} - 1, 0) else ${deliveryQueue.attempts} end`,
    })
    .where(eq(deliveryQueue.leaseOwner, owner))
    .returning({ messageId: deliveryQueue.messageId })
  return rows.length
}

export interface QueueState {
  /** Due and held by no worker. */
  due: number
  /** Held by a worker (claimed, its lease running). */
  inProgress: number
  /** Put off after a temporary failure, due later. */
  later: number
  /** Waiting for a campaign that is not sending (paused, scheduled). */
  held: number
  /** How long the longest-waiting due message has waited, in seconds; 0 when none waits. */
  oldestDueSeconds: number
}

/**
 * The queue at a glance, for the metrics: one pass over the queue table (the
 * narrow work table of what is still to do, not a ledger; its rows go once
 * delivered), counted by where each message is.
 */
export async function readQueueState(db: Queryable, at: { now: Date; sendingCampaigns: SQL }): Promise<QueueState> {
  const now = sql`${at.now.toISOString()}::timestamptz`
  const free = sql`(lease_until is null or lease_until < ${now})`
  const going = sql`(campaign_id is null or campaign_id in ${at.sendingCampaigns})`
  const [row] = await selectRows<QueueState>(
    db,
    sql`select count(*) filter (where ${free} and due_at <= ${now} and ${going})::int as "due",
               count(*) filter (where not ${free})::int as "inProgress",
               count(*) filter (where ${free} and due_at > ${now} and ${going})::int as "later",
               count(*) filter (where ${free} and not ${going})::int as "held",
               coalesce(extract(epoch from ${now} - min(due_at) filter (where ${free} and due_at <= ${now} and ${going})), 0)::float8 as "oldestDueSeconds"
        from delivery_queue`,
  )
  return row!
}

/**
 * Each sending campaign's messages by where they are: still in the queue, and
 * the delivery events that ended them, counted by type. Events, not distinct
 * messages (a message failed, queued again and failed counts twice): the
 * count reads the (campaign, type) index alone, where distinct messages would
 * read every event of every message on every scrape.
 */
export async function readCampaignProgress(db: Queryable, sendingCampaigns: SQL): Promise<{ campaignId: string; state: string; count: number }[]> {
  return selectRows(
    db,
    sql`select campaign_id::text as "campaignId", 'queued' as state, count(*)::int as count
        from delivery_queue where campaign_id in ${sendingCampaigns} group by campaign_id
        union all
        select campaign_id::text, type::text, count(*)::int
        from delivery_events where campaign_id in ${sendingCampaigns} and type in ('accepted', 'deferred', 'failed', 'bounced', 'blocked', 'expired', 'cancelled')
        group by campaign_id, type`,
  )
}

/**
 * Ends a campaign's waiting messages with one event each (cancelled, or
 * expired past its deadline) and takes them out of the queue. `includeLeased`:
 * also those a worker holds (a cancel, which waited for every handover in
 * progress); an expiry leaves held ones to their workers.
 */
export async function closeCampaignQueue(
  db: Queryable,
  close: { campaignId: string; type: 'cancelled' | 'expired'; reply: string; now: Date; includeLeased: boolean },
): Promise<number> {
  const at = sql`${close.now.toISOString()}::timestamptz`
  const leaseFree = close.includeLeased ? sql`true` : sql`(lease_until is null or lease_until < ${at})`
  const [result] = await selectRows<{ closed: number }>(
    db,
    sql`
    with closed as (
      delete from delivery_queue where campaign_id = ${close.campaignId}::uuid and ${leaseFree}
      returning message_id, attempts
    ),
    events as (
      insert into delivery_events (id, message_id, type, attempt, reply, occurred_at, campaign_id)
      select samtykke_uuidv7(), message_id, ${close.type}::delivery_event_type, greatest(attempts, 1), ${close.reply}, ${at}, ${close.campaignId}::uuid
      from closed
      returning 1
    )
    select count(*)::int as closed from events`,
  )
  return result!.closed
}

/** Event types that end a delivery, and the one that reopens it. */
const FINAL_TYPES = sql`('accepted', 'failed', 'bounced', 'blocked', 'expired', 'cancelled', 'requeued')`

/**
 * Queues once more every message of the campaign whose delivery failed and
 * that was not queued again before: each failed message gets one more try.
 */
export async function requeueFailed(db: Queryable, campaignId: string, now: Date): Promise<number> {
  const at = sql`${now.toISOString()}::timestamptz`
  const [result] = await selectRows<{ requeued: number }>(
    db,
    sql`
    with last as (
      select distinct on (message_id) message_id, type, attempt from delivery_events
      where campaign_id = ${campaignId}::uuid and type in ${FINAL_TYPES}
      order by message_id, occurred_at desc, id desc
    ),
    todo as (
      select l.message_id, l.attempt from last l
      where l.type = 'failed'
        and not exists (select 1 from delivery_events e where e.message_id = l.message_id and e.type = 'requeued')
        and not exists (select 1 from delivery_queue q where q.message_id = l.message_id)
    ),
    events as (
      insert into delivery_events (id, message_id, type, attempt, reply, occurred_at, campaign_id)
      select samtykke_uuidv7(), message_id, 'requeued', attempt, 'retry-failed', ${at}, ${campaignId}::uuid from todo
      returning 1
    ),
    queued as (
      insert into delivery_queue (message_id, due_at, campaign_id) select message_id, ${at}, ${campaignId}::uuid from todo
      returning 1
    )
    select count(*)::int as requeued from queued`,
  )
  return result!.requeued
}

/** Whether any of the campaign's messages still waits in the queue. */
export async function campaignHasQueued(db: Queryable, campaignId: string): Promise<boolean> {
  const [row] = await db.select({ id: deliveryQueue.messageId }).from(deliveryQueue).where(eq(deliveryQueue.campaignId, campaignId)).limit(1)
  return row !== undefined
}

export interface CampaignDeliveryCounts {
  /** Still in the queue, not yet tried (or put back untried). */
  queued: number
  /** In the queue after a temporary failure. */
  deferred: number
  /** By the event that ended each message's delivery. */
  ended: Record<string, number>
  /** Messages a worker died handing over: they may have arrived twice. */
  interrupted: number
}

/** Where the campaign's messages are: in the queue, or ended by their latest final event. */
export async function campaignDeliveryCounts(db: Queryable, campaignId: string): Promise<CampaignDeliveryCounts> {
  const [waiting] = await selectRows<{ queued: number; deferred: number }>(
    db,
    sql`select count(*) filter (where attempts = 0 or lease_owner is not null)::int as queued,
               count(*) filter (where attempts > 0 and lease_owner is null)::int as deferred
        from delivery_queue where campaign_id = ${campaignId}::uuid`,
  )
  const ended = await selectRows<{ type: string; count: number }>(
    db,
    sql`select type, count(*)::int as count from (
          select distinct on (message_id) message_id, type from delivery_events
          where campaign_id = ${campaignId}::uuid and type in ${FINAL_TYPES}
          order by message_id, occurred_at desc, id desc
        ) last
        where type <> 'requeued' and not exists (select 1 from delivery_queue q where q.message_id = last.message_id)
        group by type`,
  )
  const [interrupted] = await selectRows<{ count: number }>(
    db,
    sql`select count(distinct message_id)::int as count from delivery_events where campaign_id = ${campaignId}::uuid and type = 'interrupted'`,
  )
  return {
    queued: waiting!.queued,
    deferred: waiting!.deferred,
    ended: Object.fromEntries(ended.map((r) => [r.type, r.count])),
    interrupted: interrupted!.count,
  }
}

/** Done with a message (delivered, failed, blocked): its row goes, if this owner still holds it. */
export async function deleteQueueRow(db: Queryable, messageId: string, owner: string): Promise<boolean> {
  const deleted = await db
    .delete(deliveryQueue)
    .where(and(eq(deliveryQueue.messageId, messageId), eq(deliveryQueue.leaseOwner, owner)))
    .returning({ messageId: deliveryQueue.messageId })
  return deleted.length > 0
}

/** Done with these messages: their rows go, those this owner still holds. */
export async function deleteQueueRows(db: Queryable, messageIds: string[], owner: string): Promise<void> {
  if (messageIds.length === 0) return
  await db.delete(deliveryQueue).where(and(inArray(deliveryQueue.messageId, messageIds), eq(deliveryQueue.leaseOwner, owner)))
}

/** Tried again later: due at `dueAt`, held by no one. */
export async function postponeQueueRow(db: Queryable, messageId: string, owner: string, dueAt: Date): Promise<void> {
  await db
    .update(deliveryQueue)
    .set({ dueAt, leaseOwner: null, leaseUntil: null, handedOverAt: null })
    .where(and(eq(deliveryQueue.messageId, messageId), eq(deliveryQueue.leaseOwner, owner)))
}

export async function findQueueRow(db: Queryable, messageId: string): Promise<QueueRow | undefined> {
  const [row] = await db.select().from(deliveryQueue).where(eq(deliveryQueue.messageId, messageId))
  return row
}

export async function insertDeliveryEvent(db: Queryable, event: NewDeliveryEvent): Promise<DeliveryEventRow> {
  const [row] = await db.insert(deliveryEvents).values(event).returning()
  return row!
}

export async function insertDeliveryEvents(db: Queryable, events: NewDeliveryEvent[]): Promise<void> {
  if (events.length > 0) await db.insert(deliveryEvents).values(events)
}

/** The events of these messages, in the order they happened. */
export async function findDeliveryEvents(db: Queryable, messageIds: string[]): Promise<DeliveryEventRow[]> {
  if (messageIds.length === 0) return []
  return db
    .select()
    .from(deliveryEvents)
    .where(inArray(deliveryEvents.messageId, messageIds))
    .orderBy(asc(deliveryEvents.occurredAt), asc(deliveryEvents.id))
}

/** Erasure: the SMTP servers' words about these messages go (they often quote the address); the events stay. */
export async function redactRepliesOf(db: Queryable, messageIds: string[]): Promise<number> {
  if (messageIds.length === 0) return 0
  const rows = await db
    .update(deliveryEvents)
    .set({ reply: null })
    .where(and(inArray(deliveryEvents.messageId, messageIds), sql`${deliveryEvents.reply} is not null`))
    .returning({ id: deliveryEvents.id })
  return rows.length
}

/**
 * A campaign's messages as the return rules count them (src/returns/rules.ts):
 * delivered to the relay (accepted, or refused there as a hard bounce),
 * complained about, and hard-bounced at handover or reported later. Distinct
 * messages, so a repeated report or a retry is one.
 */
export async function campaignReturnCounts(db: Queryable, campaignId: string): Promise<{ delivered: number; complaints: number; hardBounces: number }> {
  const [row] = await selectRows<{ delivered: number; complaints: number; hardBounces: number }>(
    db,
    sql`select count(distinct message_id) filter (where type in ('accepted', 'bounced'))::int as "delivered",
               count(distinct message_id) filter (where type = 'complained')::int as "complaints",
               count(distinct message_id) filter (where type = 'bounced')::int as "hardBounces"
        from delivery_events where campaign_id = ${campaignId}::uuid and type in ('accepted', 'bounced', 'complained')`,
  )
  return row!
}

/** Per day (UTC) in [from, to): messages delivered to the relay, for the daily return rates. */
export async function deliveredPerDay(db: Queryable, from: Date, to: Date): Promise<{ day: string; delivered: number }[]> {
  return selectRows<{ day: string; delivered: number }>(
    db,
    sql`select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(distinct message_id)::int as delivered
        from delivery_events where type in ('accepted', 'bounced') and occurred_at >= ${from.toISOString()}::timestamptz and occurred_at < ${to.toISOString()}::timestamptz
        group by 1 order by 1`,
  )
}
