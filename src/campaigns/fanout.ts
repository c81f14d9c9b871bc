// A sending campaign's fan-out: its list's members, in keyset rounds of
// batches, each batch decided, recorded in the send ledger and queued for
// delivery in one statement (./fanout-sql.ts), several side by side on
// PostgreSQL, then the fan-out's place moved past the round. The
// step between a campaign's start (./service.ts) and its delivery
// (src/delivery): what it queues, delivery takes from there.
import type { Database, Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import { listMembersAfter } from '../decision/sql.js'
import type { DecisionPolicy } from '../decision/types.js'
import type { DeliveryService } from '../delivery/service.js'
import { creatorOf } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { storedAddressHash } from '../lib/email.js'
import type { ListService } from '../lists/service.js'
import type { MetricsRecorder } from '../operations/recorder.js'
import type { TemplateService } from '../templates/service.js'
import { fanOutBatch } from './fanout-sql.js'
import { claimFanout, releaseFanoutOf, updateCampaign, type CampaignRow } from './queries.js'

/** Members decided per fan-out batch (one statement, one transaction). */
const FANOUT_BATCH = 1000
/** How long one call of fanOut keeps at it before the worker delivers for a while. */
const FANOUT_SLICE_MS = 2000
/** Batches in flight on PostgreSQL: one a core on the 2-core machine measured (docs/benchmarks.md, "Fan-out"), leaving the pool two connections for delivery and requests. */
const FANOUT_IN_FLIGHT = 2

/** How many batches a fan-out has in flight: PGlite has a single connection, so one. */
export const batchesInFlightFor = (engine: 'pglite' | 'postgres', poolSize: number) =>
  engine === 'postgres' ? Math.max(1, Math.min(FANOUT_IN_FLIGHT, poolSize - 2)) : 1

export interface FanoutDeps {
  db: Database
  clock: Clock
  config: Pick<Config, 'publicBaseUrl' | 'suppressionPepper'>
  policy: DecisionPolicy
  /**
   * Batches in flight at once, each in a transaction on a connection of its
   * own: PostgreSQL writes them side by side; PGlite has one connection, so 1.
   */
  batchesInFlight: number
  /** Members per batch; FANOUT_BATCH unless told (a test makes rounds of several batches out of a few members). */
  batchSize?: number
  lists: Pick<ListService, 'requireList'>
  templates: Pick<TemplateService, 'requireTemplate'>
  delivery: Pick<DeliveryService, 'notify'>
  metrics: Pick<MetricsRecorder, 'countDecisions'>
  /** The campaign's state machine (./service.ts): the row held, and the end once nothing waits. */
  requireCampaign(q: Queryable, id: string, lock?: 'update' | 'share'): Promise<CampaignRow>
  finishIfDone(id: string): Promise<void>
}

export function createCampaignFanout(deps: FanoutDeps) {
  const { db, clock, config, policy, lists, templates, delivery } = deps
  const messageIdHost = new URL(config.publicBaseUrl).hostname
  const inFlight = Math.max(1, deps.batchesInFlight)
  const batchSize = deps.batchSize ?? FANOUT_BATCH

  /** Still this owner's to fan out from `after`: sending, not taken over, not done, its place not moved by anyone else. */
  const stillOurs = (campaign: CampaignRow, owner: string, after: string | null) =>
    campaign.status === 'sending' && campaign.fanoutOwner === owner && !campaign.fanoutDoneAt && campaign.fanoutAfter === after

  return {
    /**
     * Fans out a sending campaign for a while (a slice), a round at a time:
     * the members after the campaign's place, split into batches that are
     * decided, recorded and queued side by side, each in a transaction of its
     * own holding the campaign row shared (a pause or cancel waits for them);
     * then the place moves past the round. A worker that dies mid-round
     * leaves the place before it: whoever takes over runs the round again,
     * and its batches that had committed decide no one twice (fanOutBatch
     * skips whom the campaign decided). Under a lease, so another takes over.
     * Returns how many members the rounds covered. `leaseMs`: how long the claim holds (DELIVERY_LEASE_SECONDS).
     */
    async fanOut(owner: string, leaseMs: number): Promise<number> {
      const started = Date.now()
      const leaseUntil = () => new Date(clock.now().getTime() + leaseMs)
      const claimed = await db.transaction((tx) => claimFanout(tx, { owner, now: clock.now(), leaseUntil: leaseUntil() }))
      if (!claimed) return 0
      const list = await lists.requireList(db, claimed.listId)
      const template = await templates.requireTemplate(db, claimed.templateId)
      const kind = list.kind as 'newsletter' | 'marketing'
      const fanOutIn = (tx: Queryable, campaign: CampaignRow, members: { id: string; email: string }[], now: Date) =>
        fanOutBatch(tx, {
          campaign,
          kind,
          templateVersion: `${template.name}@${template.version}`,
          members: members.map((m) => ({ contactId: m.id, addressHash: storedAddressHash(m.email, config.suppressionPepper) })),
          now,
          policy,
          messageIdHost,
          actor: creatorOf(claimed),
        })
      let covered = 0
      while (Date.now() - started < FANOUT_SLICE_MS) {
        const now = clock.now()
        const place = await deps.requireCampaign(db, claimed.id)
        if (!stillOurs(place, owner, place.fanoutAfter)) break
        const after = place.fanoutAfter
        const members = await listMembersAfter(db, { listId: list.id, kind, categories: list.categories, after, limit: batchSize * inFlight, now, policy })
        const batches: (typeof members)[] = []
        for (let i = 0; i < members.length; i += batchSize) batches.push(members.slice(i, i + batchSize))
        // Settled, not all(): every batch has ended (committed or not) before the round is judged or an error thrown.
        const settled = await Promise.allSettled(
          batches.map((batch) =>
            db.transaction(async (tx) => {
              const campaign = await deps.requireCampaign(tx, claimed.id, 'share')
              // Paused, cancelled or taken over since: this batch is not done; the place stays where the last round left it.
              return stillOurs(campaign, owner, after) ? fanOutIn(tx, campaign, batch, now) : null
            }),
          ),
        )
        const failed = settled.find((r) => r.status === 'rejected')
        const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
        for (const batch of results) {
          if (!batch) continue
          deps.metrics.countDecisions('enqueue', batch.tallies)
          if (batch.queued > 0) delivery.notify()
        }
        if (failed) throw failed.reason
        if (results.includes(null)) break
        const done = members.length < batchSize * inFlight
        const moved = await db.transaction(async (tx) => {
          const campaign = await deps.requireCampaign(tx, claimed.id, 'update')
          if (!stillOurs(campaign, owner, after)) return false
          await updateCampaign(tx, campaign.id, { fanoutAfter: members.at(-1)?.id ?? after, fanoutDoneAt: done ? now : null, fanoutLeaseUntil: leaseUntil() })
          return true
        })
        if (!moved) break
        covered += members.length
        if (done) {
          await deps.finishIfDone(claimed.id)
          break
        }
      }
      return covered
    },

    /** A worker that stops lets go of the fan-out it holds: another takes it up at once, not when the lease runs out. */
    releaseFanout: (owner: string) => releaseFanoutOf(db, owner),
  }
}
