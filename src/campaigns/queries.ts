// SQL for campaigns: the campaign rows, their state changes (each a
// conditional UPDATE, so two requests at once cannot both make one), the
// fan-out's lease and place, and the scheduler's due campaigns.
import { and, asc, eq, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { afterCursor } from '../../db/pagination.js'
import { campaigns } from '../../db/schema/index.js'
import type { Cursor } from '../lib/pagination.js'
import type { CampaignStatus } from '../vocabulary.js'

export type CampaignRow = typeof campaigns.$inferSelect
export type NewCampaignRow = typeof campaigns.$inferInsert

export async function insertCampaign(db: Queryable, row: NewCampaignRow): Promise<CampaignRow> {
  const [inserted] = await db.insert(campaigns).values(row).returning()
  return inserted!
}

/**
 * One campaign; `lock` takes it FOR UPDATE (a state change), `share` FOR
 * SHARE (a message being handed to SMTP: a cancel waits for it, and every
 * handover after the cancel commits sees it).
 */
export async function findCampaign(db: Queryable, id: string, lock?: 'update' | 'share'): Promise<CampaignRow | undefined> {
  const query = db.select().from(campaigns).where(eq(campaigns.id, id))
  const [row] = lock ? await query.for(lock) : await query
  return row
}

export async function updateCampaign(db: Queryable, id: string, patch: Partial<NewCampaignRow>): Promise<CampaignRow> {
  const [row] = await db.update(campaigns).set(patch).where(eq(campaigns.id, id)).returning()
  return row!
}

export async function listCampaignRows(db: Queryable, filter: { status?: CampaignStatus; listId?: string; after?: Cursor; limit: number }) {
  return db
    .select()
    .from(campaigns)
    .where(
      and(
        filter.status ? eq(campaigns.status, filter.status) : undefined,
        filter.listId ? eq(campaigns.listId, filter.listId) : undefined,
        afterCursor(filter.after, campaigns.createdAt, campaigns.id),
      ),
    )
    .orderBy(asc(campaigns.createdAt), asc(campaigns.id))
    .limit(filter.limit)
}

/** The ids of campaigns whose messages may go now: the delivery queue's claim skips the rest. */
export const sendingCampaignIds = (): SQL => sql`(select ${campaigns.id} from ${campaigns} where ${campaigns.status} = 'sending')`

/** Scheduled campaigns whose time has come. */
export async function findDueScheduled(db: Queryable, now: Date): Promise<CampaignRow[]> {
  return db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.status, 'scheduled'), lte(campaigns.scheduledAt, now)))
    .orderBy(asc(campaigns.scheduledAt))
}

/**
 * Takes the fan-out of one sending campaign that is not fanned out yet and
 * that no live worker holds (or that this owner already holds), until
 * `leaseUntil`.
 */
export async function claimFanout(db: Queryable, claim: { owner: string; now: Date; leaseUntil: Date }): Promise<CampaignRow | undefined> {
  const candidate = db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(
      and(
        eq(campaigns.status, 'sending'),
        isNull(campaigns.fanoutDoneAt),
        or(isNull(campaigns.fanoutLeaseUntil), lt(campaigns.fanoutLeaseUntil, claim.now), eq(campaigns.fanoutOwner, claim.owner)),
      ),
    )
    .orderBy(asc(campaigns.startedAt))
    .limit(1)
    .for('update', { skipLocked: true })
  const [row] = await db
    .update(campaigns)
    .set({ fanoutOwner: claim.owner, fanoutLeaseUntil: claim.leaseUntil })
    .where(inArray(campaigns.id, candidate))
    .returning()
  return row
}

/** The fan-outs `owner` holds, let go (it is stopping): claimable by any worker now. Its place stays where its last batch committed. */
export async function releaseFanoutOf(db: Queryable, owner: string): Promise<number> {
  const rows = await db
    .update(campaigns)
    .set({ fanoutOwner: null, fanoutLeaseUntil: null })
    .where(and(eq(campaigns.fanoutOwner, owner), isNull(campaigns.fanoutDoneAt)))
    .returning({ id: campaigns.id })
  return rows.length
}
