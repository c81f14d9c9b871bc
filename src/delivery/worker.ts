// The delivery worker: claims due messages from the queue with a lease,
// decides each again (the decision at delivery is recorded in the send ledger
// beside the one taken when it was queued), renders it, hands it to the
// mailer, and appends what happened as a delivery event. Temporary failures
// come back later with backoff, up to a limit; a hard bounce also suppresses
// the address for all mail. Logs message ids and outcomes, never addresses.
// Its parts, in the order a message meets them: ./message-steps.ts (prepared,
// decided, rendered; a single send handed over), ./campaign-handover.ts (a
// campaign's messages decided together and handed over in groups),
// ./compose.ts (the message as it goes out), ./outcomes.ts (what the server
// said, recorded). The turn of a worker process that also fans campaigns out
// and finishes them is src/worker.ts; its loop, ./loop.ts.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Database } from '../../db/client.js'
import type { Config } from '../config.js'
import type { ContactService } from '../contacts/service.js'
import type { LedgerService } from '../ledger/service.js'
import type { Clock } from '../lib/clock.js'
import type { ListService } from '../lists/service.js'
import type { DeliveryReport, MetricsRecorder } from '../operations/recorder.js'
import type { ReturnService } from '../returns/service.js'
import type { SendService, MessageRow } from '../sends/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import type { TemplateService } from '../templates/service.js'
import { byCampaign, createBatchContext, keepImmutableReads, type BatchContext, type Handover, type WorkerContext, type WorkerLog } from './batch.js'
import { createCampaignHandover, type CampaignReader } from './campaign-handover.js'
import type { Mailer } from './mailer.js'
import { createMessageSteps, type MessageStepDeps } from './message-steps.js'
import { createOutcomeRecorder } from './outcomes.js'
import { claimDue, type ClaimedMessage } from './queries.js'
import type { DeliveryService } from './service.js'

/** How long a claim holds a message by default (DELIVERY_LEASE_SECONDS): a worker that dies lets it go after this. */
export const LEASE_MS = 5 * 60_000
/** Messages claimed at a time. */
const BATCH_SIZE = 50
/**
 * Messages decided together at delivery (one statement per campaign), then
 * handed over a pool's width at a time: fewer and cheaper statements per
 * message. The handover asks the decision again while it holds the
 * recipients, so a decision's age never lets a message past an opt-out.
 */
const DECIDED_TOGETHER = 25
/** Chunks of a batch in progress at once: one at the server while the next is decided and rendered. */
const CHUNKS_IN_PROGRESS = 2

export interface WorkerDeps {
  db: Database
  clock: Clock
  config: MessageStepDeps['config'] &
    Pick<Config, 'returns' | 'deliveryMaxAttempts' | 'deliveryLeaseSeconds' | 'smtpMaxConnections' | 'marketingCustomerWindowMonths'>
  mailer: Mailer
  sends: Pick<SendService, 'messagesByIds'>
  templates: Pick<TemplateService, 'requireTemplate' | 'render'>
  ledger: Pick<LedgerService, 'recordSendDecision'>
  lists: Pick<ListService, 'requireList'>
  suppressions: Pick<SuppressionService, 'holdForHandover'>
  returns: Pick<ReturnService, 'applyRelayBounceIn' | 'checkCampaign'>
  contacts: Pick<ContactService, 'holdForHandover'>
  delivery: Pick<DeliveryService, 'closeCampaign' | 'releaseLeasesOf'>
  campaigns: CampaignReader
  metrics: Pick<MetricsRecorder, 'countDecisions' | 'countDelivery'>
  log: WorkerLog
}

export function createDeliveryWorker(deps: WorkerDeps) {
  const { db, clock, config, log, metrics } = deps
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const leaseMs = config.deliveryLeaseSeconds * 1000
  const report = (messageId: string, attempt: number, outcome: DeliveryReport, reason?: string | null) => {
    log.info({ messageId, attempt, outcome, ...(reason ? { reason } : {}) }, 'delivery')
    metrics.countDelivery(outcome)
  }
  const outcomes = createOutcomeRecorder({ db, clock, config, returns: deps.returns, owner, report })
  const ctx: WorkerContext = { db, clock, owner, mailer: deps.mailer, log, metrics, outcomes, report }
  const steps = createMessageSteps(ctx, deps)
  const campaignHandover = createCampaignHandover(ctx, { ...deps, policy: config })
  const readers = keepImmutableReads(deps)
  /** Set when the worker is asked to stop: no chunk of the batch in hand begins, and of a chunk begun only the group at the server goes on. */
  let stopping = false

  /** Left leased: taken up again when the lease runs out. */
  const failed = (messageId: string) => (error: unknown) => {
    log.error({ messageId, err: { message: (error as Error).message } }, 'delivery failed unexpectedly')
  }

  /** One chunk: prepared, its campaign messages decided together, each decided (if not yet) and rendered, then handed over. */
  async function deliverChunk(chunk: ClaimedMessage[], batch: BatchContext): Promise<void> {
    const prepared: { claimed: ClaimedMessage; message: MessageRow }[] = []
    for (const c of chunk) {
      const message = await steps.prepare(c, batch).catch(failed(c.messageId))
      if (message) prepared.push({ claimed: c, message })
    }
    const answers = await campaignHandover.decideTogether(prepared, batch)
    const handovers = (
      await Promise.all(prepared.map(({ claimed: c, message }) => steps.decideAndCompose(c, message, batch, answers.get(message.id)).catch(failed(c.messageId))))
    ).filter((h): h is Handover => !!h)
    await Promise.all([
      ...handovers.filter((h) => !h.message.campaignId).map((h) => steps.handOverOne(h).catch(failed(h.message.id))),
      ...[...byCampaign(handovers)].map(([campaignId, ofCampaign]) => campaignHandover.handOver(campaignId, ofCampaign, () => stopping, failed)),
    ])
  }

  return {
    owner,
    leaseMs,

    /**
     * Claims one batch and delivers it a chunk at a time, each chunk decided
     * together just before its handover. Returns how many it took, and the
     * campaigns they belong to (whose end src/campaigns then checks).
     */
    async deliverBatch(limit = BATCH_SIZE): Promise<{ taken: number; campaignIds: string[] }> {
      const now = clock.now()
      const claimed = await db.transaction((tx) =>
        claimDue(tx, { owner, now, leaseUntil: new Date(now.getTime() + leaseMs), limit, sendingCampaigns: deps.campaigns.sendingCampaignIds() }),
      )
      if (claimed.length === 0) return { taken: 0, campaignIds: [] }
      const batch = createBatchContext(db, readers, await deps.sends.messagesByIds(db, claimed.map((c) => c.messageId)))
      // Two chunks in progress at once: while one is at the server, the next is decided and rendered.
      // Once the worker is stopping no chunk begins: what is left of the batch is let go (releaseHeld).
      const chunks: ClaimedMessage[][] = []
      for (let start = 0; start < claimed.length; start += DECIDED_TOGETHER) chunks.push(claimed.slice(start, start + DECIDED_TOGETHER))
      await Promise.all(
        Array.from({ length: CHUNKS_IN_PROGRESS }, async () => {
          for (let chunk = stopping ? undefined : chunks.shift(); chunk; chunk = stopping ? undefined : chunks.shift()) await deliverChunk(chunk, batch)
        }),
      )
      return { taken: claimed.length, campaignIds: [...new Set(claimed.flatMap((c) => (c.campaignId ? [c.campaignId] : [])))] }
    },

    /** Stopping (true) or not: while stopping, no chunk begins and the groups not begun go back untried. */
    setStopping(value: boolean): void {
      stopping = value
    },

    /** A stopping worker lets go of the messages it still holds, for any other worker at once. */
    releaseHeld: () => deps.delivery.releaseLeasesOf(db, owner),
  }
}
export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>
