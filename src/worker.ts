// A worker's turn, in the order a campaign goes through the folders:
// src/campaigns fans a sending campaign out (fanout.ts: decided, recorded,
// queued) → src/delivery claims what is due, decides it again and hands it
// to SMTP (worker.ts) → src/campaigns finishes each campaign of the batch
// with nothing left to send (service.ts finishIfDone). Single sends go
// through the same queue. Neither module calls back into the other: this
// composition hands delivery what it reads of a campaign, and carries the
// batch's campaigns on to their end. Runs in the service process
// (RUN_WORKERS) or alone (`npm run worker`), through src/plugins/delivery.ts.
import type { CampaignService } from './campaigns/service.js'
import { startDeliveryLoop } from './delivery/loop.js'
import { createDeliveryWorker, type WorkerDeps } from './delivery/worker.js'
import type { DeliveryService } from './delivery/service.js'

export interface WorkerTurnDeps extends Omit<WorkerDeps, 'campaigns' | 'delivery'> {
  campaigns: Pick<CampaignService, 'requireCampaign' | 'sendingCampaignIds' | 'fanOut' | 'releaseFanout' | 'finishIfDone'>
  delivery: Pick<DeliveryService, 'closeCampaign' | 'releaseLeasesOf' | 'onQueued'>
}

export function createWorker(deps: WorkerTurnDeps) {
  const { campaigns, log } = deps
  const delivery = createDeliveryWorker({
    ...deps,
    campaigns: {
      holdShared: (tx, campaignId) => campaigns.requireCampaign(tx, campaignId, 'share'),
      sendingCampaignIds: campaigns.sendingCampaignIds,
      sharedData: async (q, campaignId) => (await campaigns.requireCampaign(q, campaignId)).data,
    },
  })
  const { owner, leaseMs } = delivery

  /** Delivers a batch, then ends the campaigns it belonged to that have nothing left to send. Returns how many it took. */
  async function runOnce(limit?: number): Promise<number> {
    const { taken, campaignIds } = await delivery.deliverBatch(limit)
    for (const campaignId of campaignIds) await campaigns.finishIfDone(campaignId)
    return taken
  }

  /** One turn: fan out campaigns for a while, then deliver a batch. Returns how much work it found. */
  async function work(): Promise<number> {
    const decided = await campaigns.fanOut(owner, leaseMs)
    return decided + (await runOnce())
  }

  /** A stopping worker lets go of what it still holds: its messages and its fan-out, for any other worker at once. */
  async function releaseHeld(): Promise<void> {
    const messages = await delivery.releaseHeld()
    const fanouts = await campaigns.releaseFanout(owner)
    if (messages + fanouts > 0) log.info({ worker: owner, messages, fanouts }, 'claims released')
  }

  return {
    owner,
    runOnce,
    work,

    /**
     * Works until stopped (see src/delivery/loop.ts). stop() waits for the
     * groups at the SMTP server, puts back what was decided but not handed
     * over, then lets go of the rest of the batch and of the fan-out it held.
     */
    start() {
      delivery.setStopping(false)
      return startDeliveryLoop({
        work,
        onQueued: deps.delivery.onQueued,
        log,
        beforeStop: () => delivery.setStopping(true),
        afterStop: releaseHeld,
      })
    },
  }
}
export type Worker = ReturnType<typeof createWorker>
