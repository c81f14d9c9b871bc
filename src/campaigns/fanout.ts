// A sending campaign's fan-out: its list's members, in keyset batches, each
// decided, recorded in the send ledger and queued for delivery in one
// statement (./fanout-sql.ts) that commits with the fan-out's new place. The
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

export interface FanoutDeps {
  db: Database
  clock: Clock
  config: Pick<Config, 'publicBaseUrl' | 'suppressionPepper'>
  policy: DecisionPolicy
  lists: Pick<ListService, 'requireList'>
  templates: Pick<TemplateService, 'requireTemplate'>
  delivery: Pick<DeliveryService, 'notify'>
  metrics: Pick<MetricsRecorder, 'countDecisions'>
  /** The campaign's state machine (./service.ts): the row held for update, and the end once nothing waits. */
  requireCampaign(q: Queryable, id: string, lock: 'update'): Promise<CampaignRow>
  finishIfDone(id: string): Promise<void>
}

export function createCampaignFanout(deps: FanoutDeps) {
  const { db, clock, config, policy, lists, templates, delivery } = deps
  const messageIdHost = new URL(config.publicBaseUrl).hostname

  return {
    /**
     * Fans out a sending campaign for a while (a slice), batch by batch: each
     * batch's decisions, messages and queue rows commit together with the
     * fan-out's new place, under a lease, so a worker that dies mid-way
     * leaves the place where its last batch committed and another takes over.
     * Returns how many members were decided. `leaseMs`: how long the claim holds (DELIVERY_LEASE_SECONDS).
     */
    async fanOut(owner: string, leaseMs: number): Promise<number> {
      const started = Date.now()
      const leaseUntil = () => new Date(clock.now().getTime() + leaseMs)
      const claimed = await db.transaction((tx) => claimFanout(tx, { owner, now: clock.now(), leaseUntil: leaseUntil() }))
      if (!claimed) return 0
      const list = await lists.requireList(db, claimed.listId)
      const template = await templates.requireTemplate(db, claimed.templateId)
      const kind = list.kind as 'newsletter' | 'marketing'
      let decided = 0
      while (Date.now() - started < FANOUT_SLICE_MS) {
        const now = clock.now()
        const batch = await db.transaction(async (tx) => {
          const campaign = await deps.requireCampaign(tx, claimed.id, 'update')
          // Paused, cancelled or taken over since: stop here; the place is where the last batch left it.
          if (campaign.status !== 'sending' || campaign.fanoutOwner !== owner || campaign.fanoutDoneAt) return null
          const members = await listMembersAfter(tx, { listId: list.id, kind, categories: list.categories, after: campaign.fanoutAfter, limit: FANOUT_BATCH, now, policy })
          const counts =
            members.length === 0
              ? { decided: 0, queued: 0, tallies: [] }
              : await fanOutBatch(tx, {
                  campaign,
                  kind,
                  templateVersion: `${template.name}@${template.version}`,
                  members: members.map((m) => ({ contactId: m.id, addressHash: storedAddressHash(m.email, config.suppressionPepper) })),
                  now,
                  policy,
                  messageIdHost,
                  actor: creatorOf(claimed),
                })
          const done = members.length < FANOUT_BATCH
          await updateCampaign(tx, campaign.id, {
            fanoutAfter: members.at(-1)?.id ?? campaign.fanoutAfter,
            fanoutDoneAt: done ? now : null,
            fanoutLeaseUntil: leaseUntil(),
          })
          return { ...counts, done }
        })
        if (!batch) break
        deps.metrics.countDecisions('enqueue', batch.tallies)
        decided += batch.decided
        if (batch.queued > 0) delivery.notify()
        if (batch.done) {
          await deps.finishIfDone(claimed.id)
          break
        }
      }
      return decided
    },

    /** A worker that stops lets go of the fan-out it holds: another takes it up at once, not when the lease runs out. */
    releaseFanout: (owner: string) => releaseFanoutOf(db, owner),
  }
}
