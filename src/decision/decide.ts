// The send decision: given the facts about one recipient and one message, and
// the time, it says whether the message may go out — with the legal basis and
// the evidence — or why not, as a reason from the closed `BlockReason` set,
// and what it looked at (the trace: the rows it read and the rule that
// decided). It owns the table in DESIGN.md ("The heart: one decision for every
// message"): every send rule is stated here and nowhere else; other code asks
// it or renders its trace. It must stay pure: no I/O, no clock, no database,
// no Fastify. The same facts and time always give the same answer, whatever
// the order of suppressions in the input.
import {
  BlockReason,
  DecisionRule,
  EvidenceType,
  SuppressionScope,
  type ConsentSource,
  type LegalBasis,
  type SuppressionReason,
} from '../vocabulary.js'
import type {
  ConsentEventFacts,
  Decision,
  DecisionFacts,
  DecisionPolicy,
  DecisionTrace,
  EnrollmentFacts,
  Evidence,
  ListFacts,
  SuppressionFacts,
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

/** What a rule read: every part is empty unless the rule read it. */
type Seen = Partial<Omit<DecisionTrace, 'rule'>>

/** Enrollment ids in a fixed order (oldest purchase first, then id), whatever order the facts came in. */
const enrollmentIds = (enrollments: EnrollmentFacts[]) =>
  [...enrollments]
    .sort((a, b) => a.enrolledAt.getTime() - b.enrolledAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e) => e.id)

const traced = (rule: DecisionRule, seen: Seen): DecisionTrace => ({
  rule,
  subscription: seen.subscription ?? null,
  consentEvents: seen.consentEvents ?? [],
  consentGrant: seen.consentGrant ?? null,
  suppressions: seen.suppressions ?? [],
  enrollments: seen.enrollments ?? [],
})

const allow = (rule: DecisionRule, seen: Seen, basis: LegalBasis, evidence: Evidence, lockedUntil: Date | null = null): Decision => ({
  allowed: true,
  basis,
  evidence,
  lockedUntil,
  trace: traced(rule, seen),
})

const block = (rule: DecisionRule, seen: Seen, reason: BlockReason, evidence: Evidence | null = null): Decision => ({
  allowed: false,
  reason,
  evidence,
  lockedUntil: null,
  trace: traced(rule, seen),
})

const ref = (type: Evidence['type'], id: string): Evidence => ({ type, id })

// --- suppressions ------------------------------------------------------------

const suppressionBlockReason: Record<SuppressionReason, BlockReason> = {
  bounce: BlockReason.hardBounce,
  erasure: BlockReason.erased,
  restriction: BlockReason.restricted,
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
  restriction: 1,
  objection: 2,
  complaint: 3,
  unsubscribe: 4,
  manual: 5,
  bounce: 6,
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

function compareSuppressions(a: SuppressionFacts, b: SuppressionFacts): number {
  const scope = (s: SuppressionFacts) => (s.scope === SuppressionScope.allMail ? 0 : 1)
  return (
    scope(a) - scope(b) ||
    suppressionRank[a.reason] - suppressionRank[b.reason] ||
    b.createdAt.getTime() - a.createdAt.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )
}

/**
 * The suppression that blocks among those given: all-mail first, then by
 * reason (erasure, restriction, objection, complaint, unsubscribe, manual, bounce); ties go
 * to the newest — the person's latest word is the one in force, an older one
 * may have been spoken over since — then the smallest id, so input order never matters.
 */
function strongest(suppressions: SuppressionFacts[]): SuppressionFacts | null {
  let best: SuppressionFacts | null = null
  for (const s of suppressions) if (best === null || compareSuppressions(s, best) < 0) best = s
  return best
}

const isAllMail = (s: SuppressionFacts) => s.scope === SuppressionScope.allMail

/** The active suppressions that `covers` accepts, in the order they speak. */
function inForce(facts: DecisionFacts, now: Date, covers: (s: SuppressionFacts) => boolean): SuppressionFacts[] {
  return facts.suppressions.filter((s) => isSuppressionActive(s, now) && covers(s)).sort(compareSuppressions)
}

/** Sources where the person acted themselves (a form they filled, a link they clicked). */
const OWN_SOURCES: ReadonlySet<ConsentSource> = new Set<ConsentSource>(['form', 'link'])

/** Whether a consent from this source is the person's own act, rather than one staff, an import or a system recorded. */
export function isPersonsOwnAct(source: ConsentSource): boolean {
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
function overriddenByConsent(s: SuppressionFacts, grant: ConsentEventFacts | null): boolean {
  if (!grant || s.scope === SuppressionScope.allMail || grant.occurredAt.getTime() <= s.createdAt.getTime()) return false
  return PERSONS_OWN_WORD.has(s.reason) && isPersonsOwnAct(grant.source)
}

/**
 * Whether any of these consent grants, each with the list it was given for,
 * speaks over the suppression on a list it covers: then writing the same
 * suppression again is a new act that must count (suppressions/service.ts).
 */
export function isOverriddenOnSomeList(s: SuppressionFacts, grants: { grant: ConsentEventFacts; list: ListFacts }[]): boolean {
  return grants.some(({ grant, list }) => grant.listId === list.id && suppressionAppliesToList(s, list) && overriddenByConsent(s, grant))
}

/**
 * Whether the person's own newer consent has superseded a suppression for
 * good: a list suppression once its list got such a consent. It no longer
 * binds (a later opt-out is a new suppression); one of a wider scope still
 * covers every other list, so it stays in force.
 */
export function isSuperseded(s: SuppressionFacts, grants: { grant: ConsentEventFacts; list: ListFacts }[]): boolean {
  return s.scope === SuppressionScope.list && isOverriddenOnSomeList(s, grants)
}

// --- course mail (P3: a contract, not a choice) --------------------------------

/** An enrollment that still carries course mail: active and its course not yet over. */
function enrollmentIsActive(e: EnrollmentFacts, now: Date): boolean {
  return e.status === 'active' && e.courseEndsAt.getTime() > now.getTime()
}

function decideCourse(facts: DecisionFacts, now: Date): Decision {
  const inCourse = facts.enrollments.filter((e) => facts.courseId !== null && e.courseId === facts.courseId)
  // An erasure ends the contracts made before it; an enrollment made after it is a new contract.
  const covering = inForce(facts, now, (s) => isAllMail(s) || s.reason === 'erasure')
  const seen: Seen = { enrollments: enrollmentIds(inCourse), suppressions: covering.map((s) => ({ id: s.id, overriddenBy: null })) }

  const allMail = covering.find(isAllMail)
  if (allMail) return blockBySuppression(DecisionRule.allMailSuppression, seen, allMail)

  const active = inCourse.filter((e) => enrollmentIsActive(e, now))
  if (active.length === 0) return blockNotEnrolled(seen, inCourse)

  const erasures = covering.filter((s) => s.reason === 'erasure')
  const inForceContracts = active.filter((e) => !erasures.some((s) => s.createdAt.getTime() > e.enrolledAt.getTime()))
  const contract = latestBy(inForceContracts, (e) => e.courseEndsAt)
  if (!contract) {
    const erasure = latestBy(erasures, (s) => s.createdAt)!
    return block(DecisionRule.contractErased, seen, BlockReason.erased, ref(EvidenceType.suppression, erasure.id))
  }
  return allow(DecisionRule.courseContract, seen, 'contract', ref(EvidenceType.enrollment, contract.id), contract.courseEndsAt)
}

function blockNotEnrolled(seen: Seen, inCourse: EnrollmentFacts[]): Decision {
  const latest = latestBy(inCourse, (e) => e.enrolledAt)
  if (!latest) return block(DecisionRule.notEnrolled, seen, BlockReason.notEnrolled)
  const evidence = ref(EvidenceType.enrollment, latest.id)
  if (inCourse.every((e) => e.status === 'cancelled')) return block(DecisionRule.notEnrolled, seen, BlockReason.enrollmentCancelled, evidence)
  return block(DecisionRule.notEnrolled, seen, BlockReason.enrollmentEnded, evidence)
}

const blockBySuppression = (rule: DecisionRule, seen: Seen, s: SuppressionFacts): Decision =>
  block(rule, seen, suppressionBlockReason[s.reason], ref(EvidenceType.suppression, s.id))

// --- transactional mail --------------------------------------------------------

function decideTransactional(facts: DecisionFacts, now: Date): Decision {
  const list = facts.list
  if (!list || list.kind !== 'transactional') return block(DecisionRule.notTransactionalList, {}, BlockReason.notTransactional)
  if (facts.template && facts.template.kind !== 'transactional') {
    return block(DecisionRule.notTransactionalTemplate, {}, BlockReason.notTransactional)
  }
  if (list.archived) return block(DecisionRule.listArchived, {}, BlockReason.listArchived)
  const covering = inForce(facts, now, isAllMail)
  const seen: Seen = { suppressions: covering.map((s) => ({ id: s.id, overriddenBy: null })) }
  if (covering[0]) return blockBySuppression(DecisionRule.allMailSuppression, seen, covering[0])
  return allow(DecisionRule.transactionalList, seen, list.basis, ref(EvidenceType.list, list.id))
}

// --- consent -----------------------------------------------------------------

/** What the consent ledger says about one list at a time. */
export type ConsentState =
  | { state: 'none' }
  | { state: 'withdrawn'; event: ConsentEventFacts }
  /** Latest event is a grant or confirmation; `grant` is the consent grant in force, if any. */
  | { state: 'granted'; grant: ConsentEventFacts | null }

const ends = (e: ConsentEventFacts) => e.type === 'withdrawn' || e.type === 'objected'

/** The events that bear on a list by `now`: for the list itself, or purpose-wide for its purpose or kind. */
function eventsBearingOn(events: ConsentEventFacts[], list: ListFacts, now: Date): ConsentEventFacts[] {
  return events.filter(
    (e) =>
      e.occurredAt.getTime() <= now.getTime() &&
      (e.listId === list.id || (e.listId === null && (e.purpose === list.purpose || e.purpose === list.kind))),
  )
}

/**
 * Reads the events bearing on the list (`relevant`, oldest first). Only a
 * grant with basis consent for this list, made after the last withdrawal or
 * objection, is consent: a withdrawal ends every earlier grant.
 */
function readConsent(relevant: ConsentEventFacts[], list: ListFacts): ConsentState {
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

/** What a consent or marketing list's decision reads first: the consent, and the suppressions covering the list. */
function readList(facts: DecisionFacts, list: ListFacts, now: Date) {
  const relevant = eventsBearingOn(facts.consentEvents, list, now)
  const consent = readConsent(relevant, list)
  const grant = consent.state === 'granted' ? consent.grant : null
  const covering = inForce(facts, now, (s) => suppressionAppliesToList(s, list))
  const suppressions = covering.map((s) => ({ s, overriddenBy: overriddenByConsent(s, grant) ? grant!.id : null }))
  const seen: Seen = {
    subscription: facts.subscription?.id ?? null,
    consentEvents: relevant.map((e) => e.id),
    consentGrant: grant?.id ?? null,
    suppressions: suppressions.map(({ s, overriddenBy }) => ({ id: s.id, overriddenBy })),
  }
  const blocking = strongest(suppressions.filter((x) => x.overriddenBy === null).map((x) => x.s))
  return { consent, seen, blocking }
}

// --- newsletter (consent lists) ----------------------------------------------------

function decideNewsletter(facts: DecisionFacts, now: Date): Decision {
  const list = facts.list
  if (!list) return block(DecisionRule.notSubscribed, {}, BlockReason.notSubscribed)
  if (list.archived) return block(DecisionRule.listArchived, {}, BlockReason.listArchived)
  const { consent, seen, blocking } = readList(facts, list, now)
  if (blocking) return blockBySuppression(isAllMail(blocking) ? DecisionRule.allMailSuppression : DecisionRule.suppressed, seen, blocking)

  const sub = facts.subscription
  if (!sub) return block(DecisionRule.notSubscribed, seen, BlockReason.notSubscribed)
  if (sub.status === 'unsubscribed') return block(DecisionRule.subscriptionNotActive, seen, BlockReason.unsubscribed, ref(EvidenceType.subscription, sub.id))
  if (sub.status === 'pending') return block(DecisionRule.subscriptionNotActive, seen, BlockReason.subscriptionPending, ref(EvidenceType.subscription, sub.id))

  if (consent.state === 'none') return block(DecisionRule.noConsentInForce, seen, BlockReason.noConsent)
  if (consent.state === 'withdrawn') {
    return block(DecisionRule.noConsentInForce, seen, BlockReason.consentWithdrawn, ref(EvidenceType.consentEvent, consent.event.id))
  }
  if (!consent.grant) return block(DecisionRule.noConsentInForce, seen, BlockReason.noConsent)
  return allow(DecisionRule.consentInForce, seen, 'consent', ref(EvidenceType.consentEvent, consent.grant.id))
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
function findCustomerEnrollment(inCategories: EnrollmentFacts[], now: Date, policy: DecisionPolicy): EnrollmentFacts | null {
  const cutoff = subtractMonthsUtc(now, policy.marketingCustomerWindowMonths).getTime()
  const qualifying = inCategories.filter(
    (e) => e.status !== 'cancelled' && !e.marketingOptOut && e.enrolledAt.getTime() >= cutoff && e.enrolledAt.getTime() <= now.getTime(),
  )
  return latestBy(qualifying, (e) => e.enrolledAt)
}

function decideMarketing(facts: DecisionFacts, now: Date, policy: DecisionPolicy): Decision {
  const list = facts.list
  if (!list) return block(DecisionRule.noMarketingBasis, {}, BlockReason.noMarketingBasis)
  if (list.archived) return block(DecisionRule.listArchived, {}, BlockReason.listArchived)
  // Objection is absolute (GDPR art. 21(3)): no basis survives it but the person's own new consent.
  const { consent, seen, blocking } = readList(facts, list, now)
  if (blocking) return blockBySuppression(isAllMail(blocking) ? DecisionRule.allMailSuppression : DecisionRule.suppressed, seen, blocking)

  const sub = facts.subscription
  if (sub?.status === 'unsubscribed') return block(DecisionRule.subscriptionNotActive, seen, BlockReason.unsubscribed, ref(EvidenceType.subscription, sub.id))
  // A withdrawal or objection ends both bases, the customer relationship included.
  if (consent.state === 'withdrawn') {
    return block(DecisionRule.noConsentInForce, seen, BlockReason.consentWithdrawn, ref(EvidenceType.consentEvent, consent.event.id))
  }
  if (sub?.status === 'active' && consent.state === 'granted' && consent.grant) {
    return allow(DecisionRule.consentInForce, seen, 'consent', ref(EvidenceType.consentEvent, consent.grant.id))
  }

  const inCategories = facts.enrollments.filter((e) => list.categories.includes(e.courseCategory))
  const withPurchases: Seen = { ...seen, enrollments: enrollmentIds(inCategories) }
  const customer = findCustomerEnrollment(inCategories, now, policy)
  if (customer) return allow(DecisionRule.existingCustomer, withPurchases, 'legitimate_interest', ref(EvidenceType.enrollment, customer.id))
  return block(DecisionRule.noMarketingBasis, withPurchases, BlockReason.noMarketingBasis)
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
