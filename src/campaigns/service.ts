// Campaigns: one template version to every member of a newsletter or
// marketing list. Staff create one, start it (now or at a time), pause,
// resume, cancel it and queue its failed messages once more; each is
// idempotent, and a change the state does not allow is a 409. A sending
// campaign is then fanned out by the workers (./fanout.ts: each batch's
// decisions, messages and queue rows commit with the fan-out's place),
// delivered by src/delivery through the same queue as single sends, and
// finished here once nothing of it waits (src/worker.ts is the turn that
// goes through these steps in order). Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { Config } from '../config.js'
import type { DeliveryService } from '../delivery/service.js'
import type { LedgerService } from '../ledger/service.js'
import { createdBy, type Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { newId } from '../lib/ids.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import { requireOpen, type ListService } from '../lists/service.js'
import type { TemplateService } from '../templates/service.js'
import { messageStatus } from '../sends/service.js'
import type { MetricsRecorder } from '../operations/recorder.js'
import { rateVerdict, ratesOf } from '../returns/rules.js'
import { CampaignStatus, type CampaignPauseReason } from '../vocabulary.js'
import { batchesInFlightFor, createCampaignFanout } from './fanout.js'
import { RECIPIENT_NAME } from './fanout-sql.js'
import { findCampaign, findDueScheduled, insertCampaign, listCampaignRows, sendingCampaignIds, updateCampaign, type CampaignRow } from './queries.js'
import { recordWebhookEvent } from '../webhooks/record.js'

export type { CampaignRow }

export interface NewCampaign {
  name: string
  listId: string
  template: string
  templateVersion?: number
  data?: Record<string, unknown>
  scheduledAt?: string
  notAfter?: string
}

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel' | 'retry-failed'

export interface CampaignDeps {
  db: Database
  clock: Clock
  config: Pick<Config, 'publicBaseUrl' | 'marketingCustomerWindowMonths' | 'suppressionPepper' | 'returns' | 'databasePoolSize'>
  /** The database's engine: on PostgreSQL a fan-out writes several batches at once. */
  engine: 'pglite' | 'postgres'
  audit: AuditRecorder
  lists: Pick<ListService, 'requireList'>
  templates: Pick<TemplateService, 'resolveTemplate' | 'requireTemplate' | 'checkData'>
  ledger: Pick<LedgerService, 'campaignDecisionCounts' | 'campaignRecipients' | 'decisionsOf'>
  delivery: Pick<DeliveryService, 'closeCampaign' | 'requeueFailed' | 'campaignHasQueued' | 'campaignCounts' | 'campaignReturnCounts' | 'eventsOf' | 'notify'>
  metrics: Pick<MetricsRecorder, 'countDecisions'>
}

const conflict = (campaign: CampaignRow, action: CampaignAction) =>
  new ConflictError('campaign_transition_invalid', `A ${campaign.status} campaign cannot be asked to ${action}`, {
    campaignStatus: campaign.status,
  })

/** campaign.finished, as it ended (finished, or cancelled), in the transaction that ended it (issue 29); about no one. */
function announceEndIn(tx: Queryable, at: Date, campaign: CampaignRow) {
  return recordWebhookEvent(tx, at, { type: 'campaign.finished', contactId: null, data: { campaignId: campaign.id, status: campaign.status } })
}

export function createCampaignService(deps: CampaignDeps) {
  const { db, clock, config, audit, lists, templates, ledger, delivery } = deps

  async function requireCampaign(q: Queryable, id: string, lock?: 'update' | 'share'): Promise<CampaignRow> {
    const campaign = await findCampaign(q, id, lock)
    if (!campaign) throw new NotFoundError('Campaign', 'campaign_not_found')
    return campaign
  }

  type Change = (tx: Queryable, campaign: CampaignRow) => Promise<Partial<CampaignRow> | null>

  /** Changes the state in `tx`, holding the row, with its audit entry; returns the campaign as it is after. */
  async function transitionIn(tx: Queryable, id: string, actor: Actor, action: CampaignAction, change: Change) {
    const current = await requireCampaign(tx, id, 'update')
    const patch = await change(tx, current)
    // null: already where the action leads, nothing to do (each action is idempotent).
    if (!patch) return current
    const now = clock.now()
    const updated = await updateCampaign(tx, id, { ...patch, updatedAt: now })
    const changes: Record<string, unknown> = { status: { from: current.status, to: updated.status } }
    if (patch.pausedReason) changes.pausedReason = patch.pausedReason
    await audit.record(tx, actor, now, { action: `campaign.${action}`, entityType: 'campaign', entityId: id, changes })
    if (updated.status === CampaignStatus.cancelled) await announceEndIn(tx, now, updated)
    return updated
  }

  /** transitionIn in a transaction of its own; a campaign that now sends wakes the workers. */
  async function transition(id: string, actor: Actor, action: CampaignAction, change: Change) {
    const campaign = await db.transaction((tx) => transitionIn(tx, id, actor, action, change))
    if (campaign.status === CampaignStatus.sending) delivery.notify()
    return campaign
  }

  /** A sending campaign ends when its fan-out is done and nothing of it waits in the queue. */
  async function finishIfDone(id: string): Promise<void> {
    await db.transaction(async (tx) => {
      const campaign = await requireCampaign(tx, id, 'update')
      if (campaign.status !== CampaignStatus.sending || !campaign.fanoutDoneAt) return
      if (await delivery.campaignHasQueued(tx, id)) return
      const now = clock.now()
      await announceEndIn(tx, now, await updateCampaign(tx, id, { status: CampaignStatus.finished, finishedAt: now, updatedAt: now }))
    })
  }

  const fanout = createCampaignFanout({ ...deps, policy: config, batchesInFlight: batchesInFlightFor(deps.engine, config.databasePoolSize), requireCampaign, finishIfDone })

  return {
    requireCampaign,
    finishIfDone,
    sendingCampaignIds,

    async create(input: NewCampaign, actor: Actor): Promise<CampaignRow> {
      const now = clock.now()
      const scheduledAt = input.scheduledAt ? new Date(input.scheduledAt) : null
      const notAfter = input.notAfter ? new Date(input.notAfter) : null
      if (notAfter && notAfter.getTime() <= (scheduledAt ?? now).getTime()) {
        throw new UnprocessableError('campaign_schedule_invalid', 'notAfter must come after scheduledAt (or after now, when not scheduled)')
      }
      return db.transaction(async (tx) => {
        const list = await lists.requireList(tx, input.listId)
        if (list.kind !== 'newsletter' && list.kind !== 'marketing') {
          throw new UnprocessableError('campaign_list_kind', `A campaign goes to a newsletter or marketing list; this list is ${list.kind}`)
        }
        requireOpen(list)
        const template = await templates.resolveTemplate(tx, input.template, input.templateVersion)
        if (template.kind !== list.kind) {
          throw new UnprocessableError('template_kind_mismatch', `Template ${template.name} makes ${template.kind} mail; the list is ${list.kind}`)
        }
        const data = input.data ?? {}
        // Each recipient's own name is filled from their contact at fan-out.
        templates.checkData(template, { ...data, [RECIPIENT_NAME]: '' })
        const campaign = await insertCampaign(tx, {
          id: newId(),
          name: input.name,
          listId: list.id,
          templateId: template.id,
          data,
          status: CampaignStatus.draft,
          scheduledAt,
          notAfter,
          createdAt: now,
          ...createdBy(actor),
          updatedAt: now,
        })
        await audit.record(tx, actor, now, {
          action: 'campaign.created',
          entityType: 'campaign',
          entityId: campaign.id,
          changes: { name: campaign.name, listId: list.id, templateId: template.id, scheduledAt, notAfter },
        })
        return campaign
      })
    },

    /** draft → sending, or → scheduled when its time is still to come; a started one stays as it is. */
    start: (id: string, actor: Actor) =>
      transition(id, actor, 'start', async (tx, c) => {
        if (c.status === 'sending' || c.status === 'scheduled' || c.status === 'finished') return null
        if (c.status !== 'draft') throw conflict(c, 'start')
        requireOpen(await lists.requireList(tx, c.listId))
        const now = clock.now()
        if (c.scheduledAt && c.scheduledAt.getTime() > now.getTime()) return { status: CampaignStatus.scheduled }
        return { status: CampaignStatus.sending, startedAt: now }
      }),

    pause: (id: string, actor: Actor) =>
      transition(id, actor, 'pause', async (_tx, c) => {
        if (c.status === 'paused') return null
        if (c.status !== 'sending' && c.status !== 'scheduled') throw conflict(c, 'pause')
        return { status: CampaignStatus.paused, pausedReason: null }
      }),

    /**
     * The campaign pauses itself: its complaint or bounce rate passed the
     * mailbox providers' limits (src/returns/rules.ts). Only a sending one; it
     * stays paused, with the reason, until staff resume it.
     */
    pauseForReturnsIn: (tx: Queryable, id: string, reason: CampaignPauseReason, actor: Actor) =>
      transitionIn(tx, id, actor, 'pause', async (_tx, c) => (c.status === 'sending' ? { status: CampaignStatus.paused, pausedReason: reason } : null)),

    resume: (id: string, actor: Actor) =>
      transition(id, actor, 'resume', async (tx, c) => {
        if (c.status === 'sending') return null
        if (c.status !== 'paused') throw conflict(c, 'resume')
        requireOpen(await lists.requireList(tx, c.listId))
        // A campaign paused before it began resumes as what it was: scheduled while its time is to come.
        const now = clock.now()
        if (!c.startedAt && c.scheduledAt && c.scheduledAt.getTime() > now.getTime()) return { status: CampaignStatus.scheduled, pausedReason: null }
        return { status: CampaignStatus.sending, startedAt: c.startedAt ?? now, pausedReason: null }
      }),

    /**
     * Nothing of the campaign leaves after this commits: the row lock waits
     * for every handover in progress (they hold it shared), and every later
     * one sees the campaign cancelled. What waited ends as cancelled.
     */
    cancel: (id: string, actor: Actor) =>
      transition(id, actor, 'cancel', async (tx, c) => {
        if (c.status === 'cancelled') return null
        if (c.status === 'finished') throw conflict(c, 'cancel')
        await delivery.closeCampaign(tx, c.id, 'cancelled', true)
        return { status: CampaignStatus.cancelled, cancelledAt: clock.now() }
      }),

    /** Queues each message whose delivery failed once more (never a second time); the campaign sends again. */
    retryFailed: (id: string, actor: Actor) =>
      transition(id, actor, 'retry-failed', async (tx, c) => {
        if (c.status !== 'finished' && c.status !== 'sending' && c.status !== 'paused') throw conflict(c, 'retry-failed')
        const requeued = await delivery.requeueFailed(tx, c.id)
        if (requeued === 0 || c.status !== 'finished') return null
        return { status: CampaignStatus.sending, finishedAt: null }
      }),

    /** Scheduled campaigns whose time has come start sending (a pg-boss job, every minute). */
    async startDue(actor: Actor): Promise<{ started: number }> {
      const due = await findDueScheduled(db, clock.now())
      for (const c of due) {
        await transition(c.id, actor, 'start', async (_tx, current) =>
          current.status === 'scheduled' ? { status: CampaignStatus.sending, startedAt: clock.now() } : null,
        )
      }
      return { started: due.length }
    },

    ...fanout,

    async getCampaign(id: string) {
      const campaign = await requireCampaign(db, id)
      return { ...campaign, counts: await countsOf(campaign) }
    },

    async listCampaigns(query: { status?: CampaignStatus; listId?: string; cursor?: string; limit?: number }) {
      const limit = query.limit ?? 50
      const rows = await listCampaignRows(db, { status: query.status, listId: query.listId, after: decodeCursor(query.cursor), limit: limit + 1 })
      return toPage(rows, limit, (r) => ({ at: r.createdAt, id: r.id }))
    },

    /** Who got it, who did not and why: the decisions when queued, with what happened to each message since. */
    async recipients(id: string, query: { cursor?: string; limit?: number }) {
      await requireCampaign(db, id)
      const limit = query.limit ?? 50
      const rows = await ledger.campaignRecipients(db, id, { after: decodeCursor(query.cursor), limit: limit + 1 })
      const page = toPage(rows, limit, (r) => ({ at: r.decidedAt, id: r.id }))
      const allowedIds = page.items.filter((r) => r.decision === 'allowed').map((r) => r.messageId)
      const events = await delivery.eventsOf(db, allowedIds)
      const decisions = await ledger.decisionsOf(db, allowedIds)
      const items = page.items.map((row) => {
        const mine = events.filter((e) => e.messageId === row.messageId)
        const atDelivery = decisions.filter((d) => d.messageId === row.messageId && d.stage === 'delivery')
        const last = mine.filter((e) => e.type !== 'interrupted').at(-1)
        return {
          contactId: row.contactId,
          messageId: row.messageId,
          decision: row.decision,
          basis: row.basis,
          evidence: row.evidenceType ? { type: row.evidenceType, id: row.evidenceId! } : null,
          reason: row.reason ?? atDelivery.filter((d) => d.decision === 'blocked').at(-1)?.reason ?? null,
          status: messageStatus([row, ...atDelivery], mine),
          lastReply: last?.reply ?? null,
          possibleDuplicate: mine.some((e) => e.type === 'interrupted'),
          decidedAt: row.decidedAt,
        }
      })
      return { items, nextCursor: page.nextCursor }
    },
  }

  async function countsOf(campaign: CampaignRow) {
    const decisions = await ledger.campaignDecisionCounts(db, campaign.id)
    const deliveryCounts = await delivery.campaignCounts(db, campaign.id)
    const returned = ratesOf(await delivery.campaignReturnCounts(db, campaign.id))
    const blockedByReason: Record<string, number> = {}
    let recipients = 0
    for (const row of decisions) {
      if (row.stage === 'enqueue') recipients += row.count
      if (row.decision === 'blocked' && row.reason) blockedByReason[row.reason] = (blockedByReason[row.reason] ?? 0) + row.count
    }
    const ended = deliveryCounts.ended
    const blocked = Object.values(blockedByReason).reduce((a, b) => a + b, 0)
    const waiting = deliveryCounts.queued + deliveryCounts.deferred
    return {
      recipients,
      queued: deliveryCounts.queued,
      deferred: deliveryCounts.deferred,
      sent: ended.accepted ?? 0,
      failed: ended.failed ?? 0,
      bounced: ended.bounced ?? 0,
      expired: ended.expired ?? 0,
      cancelled: ended.cancelled ?? 0,
      blocked,
      blockedByReason,
      possibleDuplicates: deliveryCounts.interrupted,
      complaints: returned.complaints,
      hardBounces: returned.hardBounces,
      complaintRate: returned.complaintRate,
      hardBounceRate: returned.hardBounceRate,
      /** The providers' limits this campaign is past (a warning at a complaint rate of 0.1%). */
      warnings: rateVerdict(returned, config.returns.rateMinimum).warnings,
      fanoutDone: campaign.fanoutDoneAt !== null,
      /** Share of recipients whose message is no longer waiting, 0–1; 0 until the fan-out has begun. */
      progress: recipients === 0 ? (campaign.fanoutDoneAt ? 1 : 0) : campaign.fanoutDoneAt ? (recipients - waiting) / recipients : 0,
    }
  }
}

export type CampaignService = ReturnType<typeof createCampaignService>
