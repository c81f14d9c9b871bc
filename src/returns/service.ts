// Reports that come back, applied: each report, whichever way it came
// (./report.ts), is matched to the message it is about — by the signed VERP
// return path or by its Message-ID — kept once by its reporter's key, and
// applied by the return rules (./rules.ts): a hard bounce suppresses all mail
// to the address, a complaint suppresses newsletter and marketing and records
// an objection, a policy refusal is noted on the message, soft bounces count
// once a day until they suppress, and every report adds a delivery event to
// its message so explain and the export show it. A report that names no
// message we sent changes nothing but its own record (rejected, kept a while
// without its text). A campaign whose complaint or bounce rate passes the
// providers' limits pauses itself. Knows nothing of HTTP.
// The ways in (intake.ts, smtp-listener.ts, providers/) and the pure parsers
// (parse-*.ts) are files of their own: they read what came in, and only this
// service applies it.
import { createHash } from 'node:crypto'
import type { Database, Queryable } from '../../db/client.js'
import type { CampaignService } from '../campaigns/service.js'
import type { Config } from '../config.js'
import type { ContactService } from '../contacts/service.js'
import type { DeliveryService } from '../delivery/service.js'
import { flattenReply, readEnhancedStatus } from '../delivery/smtp-reply.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { newId } from '../lib/ids.js'
import type { MetricsRecorder } from '../operations/recorder.js'
import type { MessageRow, SendService } from '../sends/service.js'
import type { OptOutService } from '../subscriptions/opt-out.js'
import type { SuppressionService } from '../suppressions/service.js'
import { DeliveryEventType, ReturnEffect, Role } from '../vocabulary.js'
import { recordWebhookEvent } from '../webhooks/record.js'
import { countEffectsPerDay, countEffectsSince, deleteRejectedBefore, findAddressHistory, findReportsForAddress, insertReturnReport, listReturnReports, type ReturnReportRow } from './queries.js'
import type { ParsedReport, ReportChannel, ReturnReport } from './report.js'
import { verifyMessageToken } from './return-path.js'
import { effectOf, rateVerdict, ratesOf, softBouncesSuppress } from './rules.js'

/** Who records what the reports do (suppressions, objections, a campaign's pause). */
const returnsActor: Actor = { id: 'system:returns', name: 'Samtykke returns', role: Role.admin }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** What became of one report. */
export interface ReportResult {
  outcome: 'applied' | 'duplicate' | 'rejected'
  /** The kept record; null for a duplicate of one kept before (its id is the earlier one's). */
  reportId: string | null
  messageId: string | null
  effect: ReturnEffect | null
  /** Why it was rejected: a stable code. */
  rejection: string | null
}

/** The delivery event each effect adds to its message. */
const EVENT_OF: Record<ReturnEffect, DeliveryEventType> = {
  hard_bounce: DeliveryEventType.bounced,
  soft_bounce: DeliveryEventType.softBounced,
  policy_block: DeliveryEventType.policyBlocked,
  complaint: DeliveryEventType.complained,
  delivered: DeliveryEventType.delivered,
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex')

/** The report's own words for the message's events: one line, the address taken out (the event outlives no erasure, but a log or an export should not echo it). */
function replyOf(channel: ReportChannel, report: ReturnReport, recipient: string | null): string {
  const parts = [`${channel} report:`, report.type]
  if (report.type === 'bounce') parts.push(report.severity, report.status ?? '', report.providerType ?? '', report.diagnostic ?? '')
  if (report.type === 'complaint' && report.feedbackType) parts.push(report.feedbackType)
  let text = parts.filter((p) => p !== '').join(' ')
  if (recipient) text = text.split(recipient).join('<recipient>')
  return flattenReply(text.replace(/[^\s<>()@]+@[^\s<>()@]+\.[^\s<>()@]+/g, '<address>'))
}

export interface ReturnDeps {
  db: Database
  clock: Clock
  config: Pick<Config, 'linkSigningKeys' | 'returns'>
  sends: Pick<SendService, 'messageById'>
  contacts: Pick<ContactService, 'addressHashOf'>
  suppressions: Pick<SuppressionService, 'suppressIn'>
  optOut: Pick<OptOutService, 'recordComplaintIn'>
  delivery: Pick<DeliveryService, 'recordReturnIn' | 'campaignReturnCounts' | 'deliveredPerDay'>
  campaigns: Pick<CampaignService, 'pauseForReturnsIn'>
  metrics: Pick<MetricsRecorder, 'countReturnReport'>
}

export function createReturnService(deps: ReturnDeps) {
  const { db, clock, config, sends, contacts, suppressions, optOut, delivery, campaigns } = deps

  /** The message a report names: its signed return path first (it proves the message), else its Message-ID. */
  async function matchMessage(q: Queryable, parsed: ParsedReport, returnPathToken: string | undefined): Promise<MessageRow | 'forged' | undefined> {
    const token = returnPathToken ?? parsed.message.returnPathToken
    if (token !== undefined) {
      const id = verifyMessageToken(config.linkSigningKeys, 'return-path', token)
      return id ? ((await sends.messageById(q, id)) ?? 'forged') : 'forged'
    }
    const header = parsed.message.headerMessageId?.trim()
    const id = header ? /^<?([0-9a-f-]{36})@[^>]+>?$/i.exec(header)?.[1] : undefined
    if (!id || !UUID.test(id)) return undefined
    const message = await sends.messageById(q, id)
    // The whole header, not only its id: a Message-ID of another sender's that happens to hold a uuid is not ours.
    return message && message.headerMessageId.toLowerCase() === `<${header!.replace(/^<|>$/g, '').toLowerCase()}>` ? message : undefined
  }

  /**
   * A bounce naming one address about a message to another is not about that
   * message (forwarded, or forged). Complaints are not held to it: feedback
   * loops redact or rewrite the recipient of the original they return.
   */
  function recipientDiffers(parsed: ParsedReport, message: MessageRow): boolean {
    if (!parsed.recipient || parsed.report.type === 'complaint') return false
    const hash = contacts.addressHashOf(parsed.recipient)
    return hash !== null && hash !== message.addressHash
  }

  async function keep(q: Queryable, channel: ReportChannel, parsed: ParsedReport, fields: Partial<ReturnReportRow>) {
    return insertReturnReport(q, {
      id: newId(),
      channel,
      reportKeyHash: hashKey(parsed.reportKey),
      outcome: fields.outcome ?? 'rejected',
      reportType: parsed.report.type,
      status: parsed.report.type === 'bounce' ? parsed.report.status : null,
      providerType: parsed.report.type === 'bounce' ? parsed.report.providerType : null,
      // A reporter's clock may run ahead; a report is never from the future.
      occurredAt: new Date(Math.min((parsed.occurredAt ?? clock.now()).getTime(), clock.now().getTime())),
      receivedAt: clock.now(),
      ...fields,
    })
  }

  /** Suppresses an address for all mail on a hard bounce (or a run of soft ones), with the report as the note. */
  async function suppressBounceIn(tx: Queryable, message: MessageRow, note: string) {
    const recipient = { contactId: message.contactId, addressHash: message.addressHash, email: message.toAddress ?? undefined }
    await suppressions.suppressIn(tx, returnsActor, clock.now(), recipient, { scope: 'all-mail', reason: 'bounce', note })
  }

  /** The effect's consequences for the address, in the report's transaction. */
  async function applyEffectIn(tx: Queryable, effect: ReturnEffect, message: MessageRow, record: ReturnReportRow) {
    const what = `${record.channel} report ${record.id}${record.status ? ` (${record.status})` : ''} about message ${message.id}`
    if (effect === ReturnEffect.hardBounce) await suppressBounceIn(tx, message, `hard bounce: ${what}`)
    if (effect === ReturnEffect.complaint) await optOut.recordComplaintIn(tx, { contactId: message.contactId, addressHash: message.addressHash }, `spam complaint: ${what}`, returnsActor)
    if (effect === ReturnEffect.softBounce) {
      const rule = config.returns.softBounce
      const now = clock.now()
      const history = await findAddressHistory(tx, message.addressHash, new Date(now.getTime() - rule.windowDays * 86_400_000))
      if (softBouncesSuppress(rule, now, history)) await suppressBounceIn(tx, message, `soft bounces on ${rule.days} days within ${rule.windowDays}, the last: ${what}`)
    }
  }

  /**
   * message.bounced or message.complained in the webhook outbox, in the
   * report's transaction (issue 29). `hard`: the address failed for good (or
   * was refused for good, a policy block); `soft`: a temporary failure.
   */
  async function announceIn(tx: Queryable, effect: ReturnEffect, message: MessageRow, record: ReturnReportRow) {
    const about = { contactId: message.contactId, email: message.toAddress ?? undefined }
    const ids = { messageId: message.id, campaignId: message.campaignId }
    if (effect === ReturnEffect.complaint) {
      await recordWebhookEvent(tx, record.receivedAt, { type: 'message.complained', ...about, data: ids })
    } else if (effect === ReturnEffect.hardBounce || effect === ReturnEffect.softBounce || effect === ReturnEffect.policyBlock) {
      const bounceType = effect === ReturnEffect.softBounce ? 'soft' : 'hard'
      await recordWebhookEvent(tx, record.receivedAt, { type: 'message.bounced', ...about, data: { ...ids, bounceType, status: record.status } })
    }
  }

  /** One report: kept once, matched, applied, in one transaction; a repeat or a stranger changes nothing. */
  async function receiveOne(channel: ReportChannel, parsed: ParsedReport, returnPathToken: string | undefined): Promise<ReportResult> {
    return db.transaction(async (tx) => {
      const matched = await matchMessage(tx, parsed, returnPathToken)
      const message = matched === 'forged' ? undefined : matched
      const rejection = matched === 'forged' ? 'report_signature_invalid' : !message ? 'report_unmatched' : recipientDiffers(parsed, message) ? 'report_recipient_mismatch' : null
      if (rejection || !message) {
        const record = await keep(tx, channel, parsed, { outcome: 'rejected', rejection })
        return { outcome: record ? 'rejected' : 'duplicate', reportId: record?.id ?? null, messageId: null, effect: null, rejection }
      }
      const effect = effectOf(parsed.report)
      const record = await keep(tx, channel, parsed, { outcome: 'applied', effect, messageId: message.id, campaignId: message.campaignId, addressHash: message.addressHash })
      if (!record) return { outcome: 'duplicate', reportId: null, messageId: message.id, effect, rejection: null }
      await applyEffectIn(tx, effect, message, record)
      await announceIn(tx, effect, message, record)
      await delivery.recordReturnIn(tx, message, EVENT_OF[effect], replyOf(channel, parsed.report, parsed.recipient), record.occurredAt)
      return { outcome: 'applied', reportId: record.id, messageId: message.id, effect, rejection: null }
    })
  }

  /**
   * Pauses the campaign when its rates passed the providers' limits. After the
   * report's transaction, in one of its own: a delivery worker holds a
   * campaign's row while it hands a chunk over, and a report must not wait on
   * it (nor it on the report) while holding the person's rows.
   */
  async function checkCampaign(campaignId: string): Promise<void> {
    await db.transaction(async (tx) => {
      const verdict = rateVerdict(ratesOf(await delivery.campaignReturnCounts(tx, campaignId)), config.returns.rateMinimum)
      if (verdict.pause) await campaigns.pauseForReturnsIn(tx, campaignId, verdict.pause, returnsActor)
    })
  }

  return {
    /**
     * Reports from one arrival, each applied in its own transaction.
     * `returnPathToken`: the token of the VERP address the report was mailed
     * to (the inbound listener knows it), which names the message for all of them.
     */
    async receive(channel: ReportChannel, reports: ParsedReport[], context: { returnPathToken?: string } = {}): Promise<ReportResult[]> {
      const results: ReportResult[] = []
      for (const parsed of reports) results.push(await receiveOne(channel, parsed, context.returnPathToken))
      for (const result of results) deps.metrics.countReturnReport(result.outcome, result.effect)
      const campaignIds = new Set<string>()
      for (const result of results) {
        if (result.outcome !== 'applied' || (result.effect !== ReturnEffect.complaint && result.effect !== ReturnEffect.hardBounce)) continue
        const message = await sends.messageById(db, result.messageId!)
        if (message?.campaignId) campaignIds.add(message.campaignId)
      }
      for (const id of campaignIds) await checkCampaign(id)
      return results
    },

    /** A report that could not be read or verified: kept as rejected (by a key of its bytes), so a flood of them can be seen. */
    async reject(channel: ReportChannel, rejection: string, raw: Buffer | string): Promise<ReportResult> {
      const parsed: ParsedReport = { report: { type: 'delivered' }, message: {}, recipient: null, reportKey: `raw:${hashKey(typeof raw === 'string' ? raw : raw.toString('latin1'))}`, occurredAt: null }
      const record = await keep(db, channel, parsed, { outcome: 'rejected', rejection, reportType: null })
      deps.metrics.countReturnReport(record ? 'rejected' : 'duplicate', null)
      return { outcome: record ? 'rejected' : 'duplicate', reportId: record?.id ?? null, messageId: null, effect: null, rejection }
    },

    /**
     * Our own relay refused a message while it was handed over with a status
     * the rules read as a bad address: the same rules and record as a report
     * that comes back, in the worker's transaction (which writes the delivery
     * event itself). The campaign's rates are the worker's to check after.
     */
    async applyRelayBounceIn(tx: Queryable, message: MessageRow, reply: string): Promise<void> {
      const parsed: ParsedReport = {
        report: { type: 'bounce', severity: 'permanent', status: readEnhancedStatus(reply) ?? null, providerType: null, diagnostic: null },
        message: {},
        recipient: null,
        reportKey: `relay:${message.id}`,
        occurredAt: null,
      }
      const effect = effectOf(parsed.report)
      const record = await keep(tx, 'relay', parsed, { outcome: 'applied', effect, messageId: message.id, campaignId: message.campaignId, addressHash: message.addressHash })
      if (record) await applyEffectIn(tx, effect, message, record)
    },

    checkCampaign,

    listReports: (query: { outcome?: 'applied' | 'rejected'; messageId?: string; before?: { at: Date; id: string }; limit: number }) => listReturnReports(db, query),

    /** Per day (UTC): delivered, hard and soft bounces, complaints, and the rates the providers judge a sender by. */
    async dailyRates(from: Date, to: Date) {
      const delivered = await delivery.deliveredPerDay(db, from, to)
      const effects = await countEffectsPerDay(db, from, to)
      const days = [...new Set([...delivered.map((d) => d.day), ...effects.map((e) => e.day)])].sort()
      return days.map((day) => {
        const count = (effect: ReturnEffect) => effects.find((e) => e.day === day && e.effect === effect)?.count ?? 0
        const rates = ratesOf({ delivered: delivered.find((d) => d.day === day)?.delivered ?? 0, complaints: count(ReturnEffect.complaint), hardBounces: count(ReturnEffect.hardBounce) })
        return { day, ...rates, softBounces: count(ReturnEffect.softBounce), policyBlocks: count(ReturnEffect.policyBlock) }
      })
    },

    /** Applied reports of the last `hours`, by effect: bounces and complaints as the metrics show them. */
    recentEffects: (hours: number) => countEffectsSince(db, new Date(clock.now().getTime() - hours * 3_600_000)),

    /** The sweep of rejected reports past their keeping time (a daily job). */
    sweepRejected: () => deleteRejectedBefore(db, new Date(clock.now().getTime() - config.returns.rejectedKeepDays * 86_400_000)),

    /** The reports about one address, for the person's export. */
    reportsAbout: (q: Queryable, addressHash: string) => findReportsForAddress(q, addressHash),
  }
}
export type ReturnService = ReturnType<typeof createReturnService>
