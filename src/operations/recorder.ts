// What the services tell the metrics about the work they did in this process:
// decisions recorded, messages delivered (or not), jobs run, reports applied.
// Only the interface: the services know nothing of Prometheus (prom-client is
// ./metrics.ts's alone).
import type { DecisionStage, DeliveryEventType } from '../vocabulary.js'

/** What the worker says of a message it dealt with: its delivery event, or that it put it back or found another worker holding it. */
export type DeliveryReport = DeliveryEventType | 'released' | 'not held'

/** What became of one message this process tried to deliver (DeliveryEventType in plain words, plus `released`). */
export const DeliveryOutcome = {
  sent: 'sent',
  retrying: 'retrying',
  failed: 'failed',
  bounced: 'bounced',
  blocked: 'blocked',
  expired: 'expired',
  cancelled: 'cancelled',
  /** Put back untried (its campaign paused, or an opt-out came first): another attempt will decide it again. */
  released: 'released',
} as const
export type DeliveryOutcome = (typeof DeliveryOutcome)[keyof typeof DeliveryOutcome]

/** The outcome a delivery event (or the worker's own `released`) counts as; null for what ends nothing here (`not held`: another worker has it). */
export function deliveryOutcomeOf(event: DeliveryReport): DeliveryOutcome | null {
  const outcomes: Partial<Record<DeliveryReport, DeliveryOutcome>> = {
    accepted: DeliveryOutcome.sent,
    deferred: DeliveryOutcome.retrying,
    failed: DeliveryOutcome.failed,
    bounced: DeliveryOutcome.bounced,
    blocked: DeliveryOutcome.blocked,
    expired: DeliveryOutcome.expired,
    cancelled: DeliveryOutcome.cancelled,
    released: DeliveryOutcome.released,
  }
  return outcomes[event] ?? null
}

/** One group of decisions recorded together: how many had this outcome. */
export interface DecisionTally {
  allowed: boolean
  /** The block reason; null when allowed. */
  reason: string | null
  count: number
}

export interface MetricsRecorder {
  /** Decisions written to the send ledger, as they are written (one whose transaction then rolls back on an error is counted all the same). */
  countDecisions(stage: DecisionStage, tallies: DecisionTally[]): void
  /** A message's delivery attempt ended (or was put off) this way; given as the delivery event's type (see deliveryOutcomeOf). */
  countDelivery(event: DeliveryReport): void
  /** A scheduled job ran in this process, to completion or not. */
  countJobRun(job: string, result: 'completed' | 'failed'): void
  /** A report that came back was taken in: applied (with its effect), a duplicate, or rejected. */
  countReturnReport(outcome: 'applied' | 'duplicate' | 'rejected', effect: string | null): void
}

/** Tallies decisions one at a time into groups by outcome, for countDecisions. */
export function tallyDecisions(decisions: { allowed: boolean; reason: string | null }[]): DecisionTally[] {
  const groups = new Map<string, DecisionTally>()
  for (const { allowed, reason } of decisions) {
    const key = `${allowed}:${reason ?? ''}`
    const group = groups.get(key)
    if (group) group.count++
    else groups.set(key, { allowed, reason: allowed ? null : reason, count: 1 })
  }
  return [...groups.values()]
}
