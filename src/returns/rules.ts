// The return rules, stated once: what a report that came back means for the
// address and for the message, whichever way it arrived — our own relay's
// reply while handing the message over included. Pure: the service
// (./service.ts) loads, matches and writes; this only decides. The words are
// the decision's (src/vocabulary.ts): a hard bounce becomes an all-mail
// suppression with reason `bounce`, which decide() turns into `hard_bounce`;
// a complaint a global one with reason `complaint`.
import { ReturnEffect } from '../vocabulary.js'
import type { ReturnReport } from './report.js'

/**
 * Enhanced status codes (RFC 3463) that say the address itself is bad: every
 * 5.1.x (bad destination mailbox, system or syntax, moved, ambiguous) and
 * 5.2.1 (mailbox disabled, not accepting messages).
 */
export function isAddressFailure(status: string | null): boolean {
  return status !== null && (/^5\.1\.\d{1,3}$/.test(status) || status === '5.2.1')
}

/**
 * Permanent refusals about the sender or the message, not the address: 5.7.x
 * (policy, authentication, reputation), and the other 5.x.x classes a
 * recipient's server can give (5.3 mail system, 5.4 routing, 5.5 protocol,
 * 5.6 content) — they say something about us, so they never suppress.
 */
const isPolicyRefusal = (status: string | null) => status !== null && status.startsWith('5.') && !isAddressFailure(status) && status !== '5.2.2'

/**
 * Providers' own names for "this address does not exist" when they give no
 * status code: SES Permanent/General and Permanent/NoEmail, Postmark
 * HardBounce and BadEmailAddress, SendGrid's permanent "bounce" and the
 * addresses it drops as bounced or invalid.
 */
const PERMANENT_ADDRESS_TYPES = /^(permanent\/(general|noemail)|hardbounce|bademailaddress|bounce|dropped\/(bounced address|invalid))$/i

/** x.0.0 is RFC 3463's "other or undefined status": it says the class and nothing more, so it is read as no status at all. */
const specific = (status: string | null) => (status === null || /^\d\.0\.0$/.test(status) ? null : status)

/** What a report means, by these rules. */
export function effectOf(report: ReturnReport): ReturnEffect {
  switch (report.type) {
    case 'complaint':
      return ReturnEffect.complaint
    case 'delivered':
      return ReturnEffect.delivered
    case 'bounce': {
      const status = specific(report.status)
      if (isAddressFailure(status)) return ReturnEffect.hardBounce
      if (isPolicyRefusal(status)) return ReturnEffect.policyBlock
      // 5.2.2, mailbox full, is temporary whatever class the server gave it.
      if (status === '5.2.2' || report.severity === 'transient' || report.status?.startsWith('4.')) return ReturnEffect.softBounce
      if (report.severity === 'permanent' && status === null && report.providerType !== null && PERMANENT_ADDRESS_TYPES.test(report.providerType)) {
        return ReturnEffect.hardBounce
      }
      // A permanent bounce that says neither why nor about what (Permanent/Suppressed,
      // an undetermined one): counted like a temporary one rather than trusted to kill the address.
      return ReturnEffect.softBounce
    }
  }
}

/** The soft-bounce rule's settings: so many days with a soft bounce, within so many days, with no delivery between, suppress. */
export interface SoftBounceRule {
  days: number
  windowDays: number
}

/**
 * Whether an address's soft bounces now suppress it: at least `rule.days`
 * distinct days (UTC) with a soft bounce within the last `rule.windowDays`,
 * none of them before the latest delivery (a delivery ends the run). One day
 * counts once however many soft bounces it had, so a retrying relay's
 * reports on one bad day are not three strikes.
 */
export function softBouncesSuppress(rule: SoftBounceRule, now: Date, history: { effect: ReturnEffect; occurredAt: Date }[]): boolean {
  const since = now.getTime() - rule.windowDays * 86_400_000
  const lastDelivered = Math.max(since, ...history.filter((h) => h.effect === ReturnEffect.delivered).map((h) => h.occurredAt.getTime()))
  const days = new Set(
    history
      .filter((h) => h.effect === ReturnEffect.softBounce && h.occurredAt.getTime() > lastDelivered && h.occurredAt.getTime() <= now.getTime())
      .map((h) => h.occurredAt.toISOString().slice(0, 10)),
  )
  return days.size >= rule.days
}

/**
 * The mailbox providers' published limits (Gmail's and Yahoo's bulk-sender
 * rules): warn at a complaint rate of 0.1%, stop at 0.3%; stop at a hard
 * bounce rate over 5%. Rates are of messages delivered to the relay.
 */
export const RATE_LIMITS = { complaintWarning: 0.001, complaintPause: 0.003, hardBouncePause: 0.05 } as const

export interface ReturnRates {
  /** Messages the relay took (the denominator). */
  delivered: number
  complaints: number
  hardBounces: number
  complaintRate: number
  hardBounceRate: number
}

export function ratesOf(counts: { delivered: number; complaints: number; hardBounces: number }): ReturnRates {
  const rate = (n: number) => (counts.delivered === 0 ? 0 : n / counts.delivered)
  return { ...counts, complaintRate: rate(counts.complaints), hardBounceRate: rate(counts.hardBounces) }
}

/** What the rates call for: a warning, a pause with its reason, or nothing. Below `minimum` delivered, a rate says too little to act on. */
export function rateVerdict(rates: ReturnRates, minimum: number): { warnings: ('complaint_rate' | 'bounce_rate')[]; pause: 'complaint_rate' | 'bounce_rate' | null } {
  const warnings: ('complaint_rate' | 'bounce_rate')[] = []
  if (rates.complaintRate >= RATE_LIMITS.complaintWarning && rates.complaints > 0) warnings.push('complaint_rate')
  if (rates.hardBounceRate > RATE_LIMITS.hardBouncePause) warnings.push('bounce_rate')
  if (rates.delivered < minimum) return { warnings, pause: null }
  if (rates.complaintRate >= RATE_LIMITS.complaintPause) return { warnings, pause: 'complaint_rate' }
  if (rates.hardBounceRate > RATE_LIMITS.hardBouncePause) return { warnings, pause: 'bounce_rate' }
  return { warnings, pause: null }
}
