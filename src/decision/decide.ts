// The send decision: given the facts about one recipient and one message, and
// the time, it says whether the message may go out — with the legal basis and
// the evidence — or why not, as a reason from the closed `BlockReason` set.
// It owns the table in DESIGN.md ("The heart: one decision for every message").
// It must stay pure: no I/O, no clock, no database, no Fastify. Callers load
// the facts and pass `now`; the same facts and time always give the same answer,
// whatever the order of suppressions in the input.
import type { LegalBasis } from '../../db/schema/enums.js'
import {
  BlockReason,
  EvidenceType,
  SuppressionScope,
  type ConsentEventFacts,
  type Decision,
  type DecisionFacts,
  type DecisionPolicy,
  type EnrollmentFacts,
  type Evidence,
  type ListFacts,
  type SuppressionFacts,
  type SuppressionReason,
} from './types.js'

/** The one entry point: may this message go to this recipient at `now`? */
export function decide(facts: DecisionFacts, now: Date, policy: DecisionPolicy): Decision {
  switch (facts.kind) {
    case 'course':
      return decideCourse(facts, now)
    case 'transactional':
      return decideTransactional(facts, now)
    case 'newsletter':
      return decideNewsletter(facts, now)
    case 'marketing':
      return decideMarketing(facts, now, policy)
  }
}

// --- answers -----------------------------------------------------------------

const allow = (basis: LegalBasis, evidence: Evidence, lockedUntil: Date | null = null): Decision => ({
  allowed: true,
  basis,
  evidence,
  lockedUntil,
})

const block = (reason: BlockReason, evidence: Evidence | null = null): Decision => ({
  allowed: false,
  reason,
  evidence,
  lockedUntil: null,
})

const ref = (type: Evidence['type'], id: string): Evidence => ({ type, id })

// --- suppressions ------------------------------------------------------------

const suppressionBlockReason: Record<SuppressionReason, BlockReason> = {
  bounce: BlockReason.hardBounce,
  erasure: BlockReason.erased,
  manual: BlockReason.manualBlock,
  objection: BlockReason.objection,
  complaint: BlockReason.complaint,
  unsubscribe: BlockReason.unsubscribed,
}

/**
 * Which suppression speaks when several apply (lower first). A bounce outside
 * the all-mail scope is not in the policy's order; it comes last, since a hard
 * bounce is normally recorded as all-mail and then already wins on scope.
 */
const suppressionRank: Record<SuppressionReason, number> = {
  erasure: 0,
  objection: 1,
  complaint: 2,
  unsubscribe: 3,
  manual: 4,
  bounce: 5,
}

/** In force at `now`: not lifted, already created, not yet expired. */
export function isSuppressionActive(s: SuppressionFacts, now: Date): boolean {
  return (
    s.liftedAt === null &&
    s.createdAt.getTime() <= now.getTime() &&
    (s.expiresAt === null || s.expiresAt.getTime() > now.getTime())
  )
}

/** Whether a suppression covers a newsletter or marketing list. Purpose "marketing" covers every marketing list. */
export function suppressionAppliesToList(s: SuppressionFacts, list: ListFacts): boolean {
  switch (s.scope) {
    case SuppressionScope.allMail:
    case SuppressionScope.global:
      return true
    case SuppressionScope.list:
      return s.listId === list.id
    case SuppressionScope.purpose:
      return s.purpose === list.purpose || s.purpose === list.kind
  }
}

/**
 * The active suppression that blocks, among those `covers` accepts: all-mail
 * first, then by reason (erasure, objection, complaint, unsubscribe, manual,
 * bounce); ties go to the oldest, then the smallest id, so input order never matters.
 */
export function findBlockingSuppression(
  suppressions: SuppressionFacts[],
  now: Date,
  covers: (s: SuppressionFacts) => boolean,
): SuppressionFacts | null {
  let best: SuppressionFacts | null = null
  for (const s of suppressions) {
    if (!isSuppressionActive(s, now) || !covers(s)) continue
    if (best === null || compareSuppressions(s, best) < 0) best = s
  }
  return best
}

function compareSuppressions(a: SuppressionFacts, b: SuppressionFacts): number {
  const scope = (s: SuppressionFacts) => (s.scope === SuppressionScope.allMail ? 0 : 1)
  return (
    scope(a) - scope(b) ||
    suppressionRank[a.reason] - suppressionRank[b.reason] ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )
}

const blockBySuppression = (s: SuppressionFacts): Decision =>
  block(suppressionBlockReason[s.reason], ref(EvidenceType.suppression, s.id))

const isAllMail = (s: SuppressionFacts) => s.scope === SuppressionScope.allMail

/** Sources where the person acted themselves (a form they filled, a link they clicked). */
const OWN_SOURCES: ReadonlySet<string> = new Set(['form', 'link'])

/** Whether a consent from this source is the person's own act, rather than one staff, an import or a system recorded. */
export function isPersonsOwnAct(source: string): boolean {
  return OWN_SOURCES.has(source)
}

/** Suppressions that record what the person said; the rest record what staff or the system decided. */
export const PERSONS_OWN_WORD: ReadonlySet<SuppressionReason> = new Set(['unsubscribe', 'objection', 'complaint', 'erasure'])

/**
 * What the person said (unsubscribe, objection, complaint, erasure) yields
 * only to that person's own new consent to the list, given after it (a form
 * they filled, a link they followed) — never to one staff, an import or a
 * system recorded. What staff or the system decided (a manual block, a bounce)
 * never yields to consent; staff lift it. An all-mail suppression never yields.
 */
export function overriddenByConsent(s: SuppressionFacts, grant: ConsentEventFacts | null): boolean {
  if (!grant || s.scope === SuppressionScope.allMail || grant.occurredAt.getTime() <= s.createdAt.getTime()) return false
  return PERSONS_OWN_WORD.has(s.reason) && isPersonsOwnAct(grant.source)
}

/** The suppression that blocks a newsletter or marketing list, after any newer consent to it is heard. */
function blockingForList(facts: DecisionFacts, list: ListFacts, consent: ConsentState, now: Date) {
  const grant = consent.state === 'granted' ? consent.grant : null
  return findBlockingSuppression(
    facts.suppressions,
    now,
    (s) => suppressionAppliesToList(s, list) && !overriddenByConsent(s, grant),
  )
}

// --- course mail (P3: a contract, not a choice) --------------------------------

/** An enrollment that still carries course mail: active and its course not yet over. */
export function enrollmentIsActive(e: EnrollmentFacts, now: Date): boolean {
  return e.status === 'active' && e.courseEndsAt.getTime() > now.getTime()
}

/** Until when course mail for this course cannot be opted out of (P3); null when not enrolled. */
export function courseLockUntil(enrollments: EnrollmentFacts[], courseId: string, now: Date): Date | null {
  const active = enrollments.filter((e) => e.courseId === courseId && enrollmentIsActive(e, now))
  return latestBy(active, (e) => e.courseEndsAt)?.courseEndsAt ?? null
}

function decideCourse(facts: DecisionFacts, now: Date): Decision {
  const allMail = findBlockingSuppression(facts.suppressions, now, isAllMail)
  if (allMail) return blockBySuppression(allMail)

  const inCourse = facts.enrollments.filter((e) => facts.courseId !== null && e.courseId === facts.courseId)
  const active = inCourse.filter((e) => enrollmentIsActive(e, now))
  if (active.length === 0) return blockNotEnrolled(inCourse)

  // An erasure ends the contracts made before it; an enrollment made after it
  // is a new contract. Only enrollments still in force give a basis or a lock.
  const erasures = facts.suppressions.filter((s) => s.reason === 'erasure' && isSuppressionActive(s, now))
  const inForce = active.filter((e) => !erasures.some((s) => s.createdAt.getTime() > e.enrolledAt.getTime()))
  const contract = latestBy(inForce, (e) => e.courseEndsAt)
  if (!contract) {
    const erasure = latestBy(erasures, (s) => s.createdAt)
    return block(BlockReason.erased, erasure ? ref(EvidenceType.suppression, erasure.id) : null)
  }
  return allow('contract', ref(EvidenceType.enrollment, contract.id), contract.courseEndsAt)
}

function blockNotEnrolled(inCourse: EnrollmentFacts[]): Decision {
  const latest = latestBy(inCourse, (e) => e.enrolledAt)
  if (!latest) return block(BlockReason.notEnrolled)
  const evidence = ref(EvidenceType.enrollment, latest.id)
  if (inCourse.every((e) => e.status === 'cancelled')) return block(BlockReason.enrollmentCancelled, evidence)
  return block(BlockReason.enrollmentEnded, evidence)
}

// --- transactional mail --------------------------------------------------------

function decideTransactional(facts: DecisionFacts, now: Date): Decision {
  const list = facts.list
  if (!list || list.kind !== 'transactional') return block(BlockReason.notTransactional)
  if (list.archived) return block(BlockReason.listArchived)
  const allMail = findBlockingSuppression(facts.suppressions, now, isAllMail)
  if (allMail) return blockBySuppression(allMail)
  return allow(list.basis, ref(EvidenceType.list, list.id))
}

// --- consent -----------------------------------------------------------------

/** What the consent ledger says about one list at a time. */
export type ConsentState =
  | { state: 'none' }
  | { state: 'withdrawn'; event: ConsentEventFacts }
  /** Latest event is a grant or confirmation; `grant` is the consent grant in force, if any. */
  | { state: 'granted'; grant: ConsentEventFacts | null }

const ends = (e: ConsentEventFacts) => e.type === 'withdrawn' || e.type === 'objected'

/**
 * Reads the events for the list and the purpose-wide ones (purpose equal to
 * the list's purpose or kind) that have happened by `now`; `events` is oldest
 * first. Only a grant with basis consent for this list, made after the last
 * withdrawal or objection, is consent: a withdrawal ends every earlier grant.
 */
export function readConsent(events: ConsentEventFacts[], list: ListFacts, now: Date): ConsentState {
  const relevant = events.filter(
    (e) =>
      e.occurredAt.getTime() <= now.getTime() &&
      (e.listId === list.id || (e.listId === null && (e.purpose === list.purpose || e.purpose === list.kind))),
  )
  const latest = relevant[relevant.length - 1]
  if (!latest) return { state: 'none' }
  if (ends(latest)) return { state: 'withdrawn', event: latest }
  let grant: ConsentEventFacts | null = null
  for (let i = relevant.length - 1; i >= 0 && grant === null; i--) {
    const e = relevant[i]!
    if (ends(e)) break
    if (e.type === 'granted' && e.basis === 'consent' && e.listId === list.id) grant = e
  }
  return { state: 'granted', grant }
}

// --- newsletter (consent lists) ----------------------------------------------------

function decideNewsletter(facts: DecisionFacts, now: Date): Decision {
  const list = facts.list
  if (!list) return block(BlockReason.notSubscribed)
  if (list.archived) return block(BlockReason.listArchived)
  const consent = readConsent(facts.consentEvents, list, now)
  const suppression = blockingForList(facts, list, consent, now)
  if (suppression) return blockBySuppression(suppression)

  const sub = facts.subscription
  if (!sub) return block(BlockReason.notSubscribed)
  if (sub.status === 'unsubscribed') return block(BlockReason.unsubscribed, ref(EvidenceType.subscription, sub.id))
  if (sub.status === 'pending') return block(BlockReason.subscriptionPending, ref(EvidenceType.subscription, sub.id))

  if (consent.state === 'none') return block(BlockReason.noConsent)
  if (consent.state === 'withdrawn') {
    return block(BlockReason.consentWithdrawn, ref(EvidenceType.consentEvent, consent.event.id))
  }
  if (!consent.grant) return block(BlockReason.noConsent)
  return allow('consent', ref(EvidenceType.consentEvent, consent.grant.id))
}

// --- marketing (consent, or the existing-customer rule) ----------------------------

/** `date` minus `months` calendar months in UTC; the day is clamped, so 31 March minus one month is 28/29 February. */
export function subtractMonthsUtc(date: Date, months: number): Date {
  const year = date.getUTCFullYear()
  const month = date.getUTCMonth() - months
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  const result = new Date(date.getTime())
  result.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay))
  return result
}

/**
 * Norwegian marketing act § 15: a purchase (an enrollment not cancelled) in a
 * category the list is about, within the window, where the person did not
 * take the opt-out offered at collection. The most recent such enrollment.
 */
export function findCustomerEnrollment(
  enrollments: EnrollmentFacts[],
  list: ListFacts,
  now: Date,
  policy: DecisionPolicy,
): EnrollmentFacts | null {
  const cutoff = subtractMonthsUtc(now, policy.marketingCustomerWindowMonths).getTime()
  const qualifying = enrollments.filter(
    (e) =>
      e.status !== 'cancelled' &&
      !e.marketingOptOut &&
      list.categories.includes(e.courseCategory) &&
      e.enrolledAt.getTime() >= cutoff &&
      e.enrolledAt.getTime() <= now.getTime(),
  )
  return latestBy(qualifying, (e) => e.enrolledAt)
}

function decideMarketing(facts: DecisionFacts, now: Date, policy: DecisionPolicy): Decision {
  const list = facts.list
  if (!list) return block(BlockReason.noMarketingBasis)
  if (list.archived) return block(BlockReason.listArchived)
  // Objection is absolute (GDPR art. 21(3)): no basis survives it but the person's own new consent.
  const consent = readConsent(facts.consentEvents, list, now)
  const suppression = blockingForList(facts, list, consent, now)
  if (suppression) return blockBySuppression(suppression)

  const sub = facts.subscription
  if (sub?.status === 'unsubscribed') return block(BlockReason.unsubscribed, ref(EvidenceType.subscription, sub.id))
  // A withdrawal or objection ends both bases, the customer relationship included.
  if (consent.state === 'withdrawn') {
    return block(BlockReason.consentWithdrawn, ref(EvidenceType.consentEvent, consent.event.id))
  }
  if (sub?.status === 'active' && consent.state === 'granted' && consent.grant) {
    return allow('consent', ref(EvidenceType.consentEvent, consent.grant.id))
  }

  const customer = findCustomerEnrollment(facts.enrollments, list, now, policy)
  if (customer) return allow('legitimate_interest', ref(EvidenceType.enrollment, customer.id))
  return block(BlockReason.noMarketingBasis)
}

// --- small pieces ------------------------------------------------------------

/** The item with the latest date; a tie goes to the greatest id, so input order never matters. */
function latestBy<T extends { id: string }>(items: T[], date: (item: T) => Date): T | null {
  let best: T | null = null
  for (const item of items) {
    const diff = best === null ? 1 : date(item).getTime() - date(best).getTime()
    if (best === null || diff > 0 || (diff === 0 && item.id > best.id)) best = item
  }
  return best
}
