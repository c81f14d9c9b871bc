// SQL for delivery: the queue (work still to do, narrow and short-lived) and
// the delivery events (what happened, appended). The proof of why a message
// went out is the send ledger's, not here.
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { deliveryEvents, deliveryQueue } from '../../db/schema/index.js'

export type QueueRow = typeof deliveryQueue.$inferSelect
export type DeliveryEventRow = typeof deliveryEvents.$inferSelect
export type NewDeliveryEvent = typeof deliveryEvents.$inferInsert

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
  claim: { owner: string; now: Date; leaseUntil: Date; limit: number },
): Promise<{ messageId: string; attempts: number }[]> {
  const due = db
    .select({ messageId: deliveryQueue.messageId })
    .from(deliveryQueue)
    .where(
      // Typed comparisons, not raw SQL: the column maps the Date for each driver.
      and(lte(deliveryQueue.dueAt, claim.now), or(isNull(deliveryQueue.leaseUntil), lt(deliveryQueue.leaseUntil, claim.now))),
    )
    .orderBy(asc(deliveryQueue.dueAt))
    .limit(claim.limit)
    .for('update', { skipLocked: true })
  return db
    .update(deliveryQueue)
    .set({ leaseOwner: claim.owner, leaseUntil: claim.leaseUntil, attempts: sql`${deliveryQueue.attempts} + 1` })
    .where(inArray(deliveryQueue.messageId, due))
    .returning({ messageId: deliveryQueue.messageId, attempts: deliveryQueue.attempts })
}

/** Done with a message (delivered, failed, blocked): its row goes, if this owner still holds it. */
export async function deleteQueueRow(db: Queryable, messageId: string, owner: string): Promise<boolean> {
  const deleted = await db
    .delete(deliveryQueue)
    .where(and(eq(deliveryQueue.messageId, messageId), eq(deliveryQueue.leaseOwner, owner)))
    .returning({ messageId: deliveryQueue.messageId })
  return deleted.length > 0
}

/** Tried again later: due at `dueAt`, held by no one. */
export async function postponeQueueRow(db: Queryable, messageId: string, owner: string, dueAt: Date): Promise<void> {
  await db
    .update(deliveryQueue)
    .set({ dueAt, leaseOwner: null, leaseUntil: null })
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

/** The events of these messages, in the order they happened. */
export async function findDeliveryEvents(db: Queryable, messageIds: string[]): Promise<DeliveryEventRow[]> {
  if (messageIds.length === 0) return []
  return db
    .select()
    .from(deliveryEvents)
    .where(inArray(deliveryEvents.messageId, messageIds))
    .orderBy(asc(deliveryEvents.occurredAt), asc(deliveryEvents.id))
}
