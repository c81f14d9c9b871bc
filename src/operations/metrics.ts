// The Prometheus metrics (prom-client), one registry per app: tests build
// many apps in one process, and prom-client's default registry is global.
// Two kinds, chosen per metric:
// - counters of what this process did (requests, decisions recorded,
//   deliveries, job runs, reports taken in): counted as it happens, through
//   the MetricsRecorder the services are handed (./recorder.ts). Each process
//   counts its own; Prometheus sums them across instances.
// - gauges of the shared state (the delivery queue, sending campaigns, open
//   data-subject requests, recent bounces and complaints): read from the
//   database at scrape time through the owning modules' services: one pass
//   over the queue (the narrow table of work still to do), the (campaign,
//   type) index of sending campaigns' delivery events, the partial index of
//   open requests, a day's range of the reports' received_at index — never a
//   scan of a whole ledger. Every instance reports the same values: aggregate
//   them with max(), not sum().
// Process metrics (CPU, memory, event loop, GC) are the process's, whichever
// app asks: they live in one registry per process, merged in at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Queryable } from '../../db/client.js'
import type { CampaignService } from '../campaigns/service.js'
import type { DeliveryService } from '../delivery/service.js'
import type { DataSubjectRequestService } from '../data-subject-requests/service.js'
import type { ReturnService } from '../returns/service.js'
import { RequestType, ReturnEffect } from '../vocabulary.js'
import { deliveryOutcomeOf, DeliveryOutcome, type MetricsRecorder } from './recorder.js'

/** The window of the bounce and complaint gauges: a day, the span the mailbox providers judge a sender's rates over. */
const RETURNS_WINDOW_HOURS = 24

/** What the database gauges are read through: the owning modules' own functions. */
export interface DatabaseReaders {
  db: Queryable
  delivery: Pick<DeliveryService, 'queueState' | 'campaignProgress'>
  campaigns: Pick<CampaignService, 'sendingCampaignIds'>
  dataSubjectRequests: Pick<DataSubjectRequestService, 'openCounts'>
  returns: Pick<ReturnService, 'recentEffects'>
}

let processRegistry: Registry | undefined
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

function counters(registry: Registry) {
  const registers = [registry]
  return {
    requests: new Counter({ name: 'samtykke_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers }),
    duration: new Histogram({
      name: 'samtykke_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    decisions: new Counter({
      name: 'samtykke_decisions_total',
      help: 'Send decisions recorded in the send ledger by this process, by stage, result and block reason (empty when allowed).',
      labelNames: ['stage', 'result', 'reason'],
      registers,
    }),
    messages: new Counter({
      name: 'samtykke_messages_total',
      help: 'Delivery attempts this process ended: sent, retrying (deferred), failed, bounced, blocked at delivery, expired, cancelled, released (put back untried).',
      labelNames: ['outcome'],
      registers,
    }),
    jobs: new Counter({ name: 'samtykke_job_runs_total', help: 'Scheduled jobs (pg-boss) run in this process, by job and result (completed, failed).', labelNames: ['job', 'result'], registers }),
    reports: new Counter({
      name: 'samtykke_return_reports_total',
      help: 'Reports that came back (bounces, complaints, deliveries) taken in by this process, by outcome and effect.',
      labelNames: ['outcome', 'effect'],
      registers,
    }),
  }
}

function gauges(registry: Registry) {
  const registers = [registry]
  return {
    queue: new Gauge({ name: 'samtykke_delivery_queue_messages', help: 'Messages in the delivery queue: due, in_progress (claimed), later (retry after a failure), held (campaign not sending).', labelNames: ['state'], registers }),
    oldest: new Gauge({ name: 'samtykke_delivery_queue_oldest_due_seconds', help: 'How long the longest-waiting due message has waited (0 when none waits).', registers }),
    campaigns: new Gauge({
      name: 'samtykke_campaign_messages',
      help: 'Messages of each sending campaign: queued, and delivery events by type (accepted, deferred, failed, bounced, blocked, expired, cancelled).',
      labelNames: ['campaign', 'state'],
      registers,
    }),
    requestsOpen: new Gauge({ name: 'samtykke_data_subject_requests_open', help: 'Open data-subject requests, by type.', labelNames: ['type'], registers }),
    requestsOverdue: new Gauge({ name: 'samtykke_data_subject_requests_overdue', help: 'Open data-subject requests past their due time (P8), by type.', labelNames: ['type'], registers }),
    returns: new Gauge({ name: 'samtykke_return_reports_last_24h', help: 'Applied reports received in the last 24 hours, by effect (hard_bounce, complaint…).', labelNames: ['effect'], registers }),
    up: new Gauge({ name: 'samtykke_metrics_database_up', help: '1 when the database gauges were read at this scrape, 0 when the database did not answer.', registers }),
  }
}

export function createMetrics() {
  const registry = new Registry()
  const count = counters(registry)
  const state = gauges(registry)
  // Known label values start at 0, so a rate is there from the first scrape.
  for (const outcome of Object.values(DeliveryOutcome)) count.messages.inc({ outcome }, 0)

  const recorder: MetricsRecorder = {
    countDecisions(stage, tallies) {
      for (const t of tallies) count.decisions.inc({ stage, result: t.allowed ? 'allowed' : 'blocked', reason: t.reason ?? '' }, t.count)
    },
    countDelivery(event) {
      const outcome = deliveryOutcomeOf(event)
      if (outcome) count.messages.inc({ outcome })
    },
    countJobRun: (job, result) => count.jobs.inc({ job, result }),
    countReturnReport: (outcome, effect) => count.reports.inc({ outcome, effect: effect ?? '' }),
  }

  async function readDatabase(readers: DatabaseReaders): Promise<void> {
    const sending = readers.campaigns.sendingCampaignIds()
    const [queue, progress, requests, returns] = await Promise.all([
      readers.delivery.queueState(readers.db, sending),
      readers.delivery.campaignProgress(readers.db, sending),
      readers.dataSubjectRequests.openCounts(),
      readers.returns.recentEffects(RETURNS_WINDOW_HOURS),
    ])
    state.queue.set({ state: 'due' }, queue.due)
    state.queue.set({ state: 'in_progress' }, queue.inProgress)
    state.queue.set({ state: 'later' }, queue.later)
    state.queue.set({ state: 'held' }, queue.held)
    state.oldest.set(queue.oldestDueSeconds)
    // Campaigns come and go: only those sending now have series.
    state.campaigns.reset()
    for (const row of progress) state.campaigns.set({ campaign: row.campaignId, state: row.state }, row.count)
    for (const type of Object.values(RequestType)) {
      const row = requests.find((r) => r.type === type)
      state.requestsOpen.set({ type }, row?.open ?? 0)
      state.requestsOverdue.set({ type }, row?.overdue ?? 0)
    }
    for (const effect of Object.values(ReturnEffect)) state.returns.set({ effect }, returns.find((r) => r.effect === effect)?.count ?? 0)
  }

  /** The scrape in progress: scrapes that come while it runs share its reads. */
  let reading: Promise<void> | undefined

  return {
    recorder,

    /** One answered request, by its route's pattern (never the URL itself: tokens ride in paths). */
    observeRequest(request: { method: string; route: string; status: number; seconds: number }) {
      count.requests.inc({ method: request.method, route: request.route, status: String(request.status) })
      count.duration.observe({ method: request.method, route: request.route }, request.seconds)
    },

    /** The exposition text: the database gauges read now (or marked down), with the counters and process metrics. */
    async render(readers: DatabaseReaders, log: { warn(obj: object, msg: string): void }): Promise<{ contentType: string; body: string }> {
      reading ??= readDatabase(readers)
        .then(() => state.up.set(1))
        .catch((error: unknown) => {
          // No value rather than the last scrape's: a stale queue depth would look like a true one.
          for (const gauge of [state.queue, state.oldest, state.campaigns, state.requestsOpen, state.requestsOverdue, state.returns]) gauge.reset()
          state.up.set(0)
          log.warn({ err: { message: (error as Error).message } }, 'metrics: the database gauges could not be read')
        })
        .finally(() => (reading = undefined))
      await reading
      const merged = Registry.merge([processMetrics(), registry])
      return { contentType: merged.contentType, body: await merged.metrics() }
    },
  }
}
export type Metrics = ReturnType<typeof createMetrics>
