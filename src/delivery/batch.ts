// What the delivery worker's parts share while they work through one claimed
// batch: the worker's identity and tools, and what a batch reads once, not
// once per message (its messages, and the lists they go to), or the worker
// once, not once per batch (the immutable template versions and campaigns'
// shared data). Part of the delivery worker (./worker.ts).
import type { Database } from '../../db/client.js'
import type { Clock } from '../lib/clock.js'
import type { ListRow } from '../lists/queries.js'
import type { ListService } from '../lists/service.js'
import type { MetricsRecorder, DeliveryReport } from '../operations/recorder.js'
import type { MessageRow } from '../sends/service.js'
import type { TemplateRow, TemplateService } from '../templates/service.js'
import type { Mailer, OutgoingMessage } from './mailer.js'
import type { createOutcomeRecorder } from './outcomes.js'

export interface WorkerLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** The worker as its parts see it: one owner of claims, its tools, and how it reports an outcome. */
export interface WorkerContext {
  db: Database
  clock: Clock
  /** Who holds the claims: only its own queue rows are marked, handed over or taken out. */
  owner: string
  mailer: Mailer
  log: WorkerLog
  metrics: Pick<MetricsRecorder, 'countDecisions' | 'countDelivery'>
  outcomes: ReturnType<typeof createOutcomeRecorder>
  /** Logs and counts what became of a message, once its transaction committed. */
  report(messageId: string, attempt: number, outcome: DeliveryReport, reason?: string | null): void
}

/** A message decided, marked and rendered: ready to go to the mailer. */
export interface Handover {
  message: MessageRow
  attempt: number
  outgoing: OutgoingMessage
}

/** One batch's reads, made once each. */
export interface BatchContext {
  message(id: string): MessageRow | undefined
  template(id: string): Promise<TemplateRow>
  list(id: string): Promise<ListRow>
  /** What a campaign's messages share (src/campaigns/fanout-sql.ts stores only each person's own values per message). */
  campaignData(id: string): Promise<Record<string, unknown>>
}

export function createBatchContext(
  db: Database,
  readers: { templates: Pick<TemplateService, 'requireTemplate'>; lists: Pick<ListService, 'requireList'>; campaigns: { sharedData(q: Database, campaignId: string): Promise<Record<string, unknown>> } },
  messages: MessageRow[],
): BatchContext {
  const byId = new Map(messages.map((m) => [m.id, m]))
  const templates = new Map<string, Promise<TemplateRow>>()
  const lists = new Map<string, Promise<ListRow>>()
  const campaigns = new Map<string, Promise<Record<string, unknown>>>()
  /** The promise itself is kept, so messages that ask at once share one read. */
  const once = <T>(cache: Map<string, Promise<T>>, id: string, read: () => Promise<T>) => {
    let value = cache.get(id)
    if (!value) cache.set(id, (value = read()))
    return value
  }
  return {
    message: (id) => byId.get(id),
    template: (id) => once(templates, id, () => readers.templates.requireTemplate(db, id)),
    list: (id) => once(lists, id, () => readers.lists.requireList(db, id)),
    campaignData: (id) => once(campaigns, id, () => readers.campaigns.sharedData(db, id)),
  }
}

/** Entries a worker keeps of what never changes: a process sends from a few versions and campaigns at a time. */
const KEPT_PER_WORKER = 200

/**
 * Reads of rows that never change once written — a template version (a
 * change is a new version) and a campaign's shared data (set when it is
 * created) — made once per worker instead of once per batch: two statements
 * fewer per batch. A read that fails is not kept, so it is asked again.
 */
export function keepImmutableReads<R extends { templates: Pick<TemplateService, 'requireTemplate'>; campaigns: { sharedData(q: Database, campaignId: string): Promise<Record<string, unknown>> } }>(
  readers: R,
): R {
  const kept = <T>(read: (q: Database, id: string) => Promise<T>) => {
    const cache = new Map<string, Promise<T>>()
    return (q: Database, id: string) => {
      let value = cache.get(id)
      if (!value) {
        cache.set(id, (value = read(q, id)))
        value.catch(() => cache.delete(id))
        for (const oldest of cache.keys()) {
          if (cache.size <= KEPT_PER_WORKER) break
          cache.delete(oldest)
        }
      }
      return value
    }
  }
  return {
    ...readers,
    templates: { ...readers.templates, requireTemplate: kept((q, id) => readers.templates.requireTemplate(q, id)) },
    campaigns: { ...readers.campaigns, sharedData: kept((q, id) => readers.campaigns.sharedData(q, id)) },
  }
}

/** How the ledger names a template version. */
export const versionOf = (template: TemplateRow) => `${template.name}@${template.version}`

/** Campaign messages by their campaign, in the order given; messages of no campaign are left out. */
export function byCampaign<T extends { message: MessageRow }>(items: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const id = item.message.campaignId
    if (id) groups.set(id, [...(groups.get(id) ?? []), item])
  }
  return groups
}
