// The decision service: checks what it is asked, asks each module for its
// rows, turns them into facts and hands them to the pure `decide`
// (./decide.ts). It changes nothing and owns no table; the send ledger
// (src/ledger) records what it answers. Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import type { Recipient } from '../contacts/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { parseEmail } from '../lib/email.js'
import { ForbiddenError, UnprocessableError, ValidationError } from '../lib/errors.js'
import type { ListRow } from '../lists/queries.js'
import { DecisionRule, ListKind, Role, type BlockReason, type LegalBasis, type MessageKind } from '../vocabulary.js'
import { decide } from './decide.js'
import { explainContact } from './explain.js'
import { toConsentEventFacts, toEnrollmentFacts, toListFacts, toSubscriptionFacts, toSuppressionFacts } from './facts.js'
import type { DecisionSources } from './sources.js'
import type { Decision, DecisionFacts, DecisionPolicy, DecisionTrace, Evidence, TemplateFacts } from './types.js'

/** What the decision is asked: one recipient (by address or by contact) and one message. */
export interface DecisionRequest {
  email?: string
  contactId?: string
  kind: MessageKind
  listId?: string
  courseId?: string
  /** The template the message is made from (the send path names it; a question may not). */
  template?: TemplateFacts
}

/** The answer as it goes out: the same shape whether allowed or blocked. */
export interface DecisionAnswer {
  allowed: boolean
  basis: LegalBasis | null
  evidence: Evidence | null
  reason: BlockReason | null
  lockedUntil: Date | null
  /** The rule of the decision table that decided. */
  rule: DecisionRule
  /** null when the address belongs to no contact. */
  contactId: string | null
  decidedAt: Date
}

/** A decision with what the ledger records beside it. */
export interface DecisionOutcome {
  answer: DecisionAnswer
  trace: DecisionTrace
  recipient: Recipient
  /** The list the decision was taken for (for course mail, the course list), if any. */
  listId: string | null
}

type ParsedRecipient = { email: string } | { contactId: string }

/** The message kind each list kind carries; a message goes only to a list of its own kind. */
const listKindFor: Record<MessageKind, ListKind> = {
  course: 'course',
  newsletter: 'newsletter',
  marketing: 'marketing',
  transactional: 'transactional',
}

/**
 * The course system sends course mail and transactional mail, so it may ask
 * about those and nothing else: a newsletter or marketing answer would tell it
 * a person's choices (and the suppression behind them) it has no need to know.
 */
const KINDS_THE_COURSE_SYSTEM_MAY_ASK: ReadonlySet<MessageKind> = new Set(['course', 'transactional'])

/** The course system asks about — and sends — course and transactional mail only; anything else is a 403. */
export function checkKindForActor(actor: Actor, kind: MessageKind): void {
  if (actor.role === Role.courseSystem && !KINDS_THE_COURSE_SYSTEM_MAY_ASK.has(kind)) {
    throw new ForbiddenError('The course system may ask about and send course and transactional mail only')
  }
}

/** The flat answer from the pure decision's union. */
export function toAnswer(decision: Decision, contactId: string | null, decidedAt: Date): DecisionAnswer {
  return {
    allowed: decision.allowed,
    basis: decision.allowed ? decision.basis : null,
    evidence: decision.evidence,
    reason: decision.allowed ? null : decision.reason,
    lockedUntil: decision.lockedUntil,
    rule: decision.trace.rule,
    contactId,
    decidedAt,
  }
}

/** What the decision service is handed by src/services.ts: the sources (types.ts) with the database, clock and policy. */
export interface DecisionDeps extends DecisionSources {
  db: Database
  clock: Clock
  config: Pick<Config, 'marketingCustomerWindowMonths'>
}

export function createDecisionService(deps: DecisionDeps) {
  const { db, clock, config, contacts, lists, consent, courses, subscriptions, suppressions } = deps
  const policy: DecisionPolicy = config

  /** Checks the request's shape before anything is looked up: bad input is a 400 or 422, whatever else is wrong. */
  function checkRequest(request: DecisionRequest): ParsedRecipient {
    const hasEmail = request.email !== undefined
    if (hasEmail && request.contactId !== undefined) {
      throw new ValidationError([{ field: 'body', message: 'names the recipient twice: send email or contactId, not both' }], 'recipient_ambiguous')
    }
    if (!hasEmail && request.contactId === undefined) {
      throw new ValidationError([{ field: 'body', message: 'must name the recipient by email or by contactId' }], 'recipient_required')
    }
    if (hasEmail) {
      const parsed = parseEmail(request.email!)
      if (!parsed.ok) throw new ValidationError([{ field: 'body.email', message: parsed.message }], 'invalid_email')
    }
    if (request.kind === 'course' && request.courseId === undefined) {
      throw new UnprocessableError('course_required', 'Course mail names the course it is about (courseId)')
    }
    if (request.kind !== 'course' && request.listId === undefined) {
      throw new UnprocessableError('list_required', `A ${request.kind} message names the list it goes to (listId)`)
    }
    return hasEmail ? { email: request.email! } : { contactId: request.contactId! }
  }

  /** Checks the message: course mail names a course, the rest a list of the message's own kind. */
  async function resolveList(q: Queryable, request: DecisionRequest): Promise<ListRow | null> {
    let list: ListRow | null = null
    if (request.kind === 'course') {
      await courses.requireCourse(q, request.courseId!)
      list = await lists.courseList(q, request.courseId!)
    }
    if (request.listId !== undefined) {
      const named = await lists.requireList(q, request.listId)
      const mismatch = named.kind !== listKindFor[request.kind] || (request.kind === 'course' && named.id !== list?.id)
      if (mismatch) {
        throw new UnprocessableError(
          'kind_list_mismatch',
          request.kind === 'course'
            ? 'Course mail goes to the list of its course'
            : `A ${request.kind} message goes only to a ${listKindFor[request.kind]} list; this list is ${named.kind}`,
        )
      }
      list = named
    }
    return list
  }

  /** Loads everything `decide` needs about this recipient and message, from the modules that own it. */
  async function loadFacts(q: Queryable, request: DecisionRequest, recipient: Recipient, list: ListRow | null): Promise<DecisionFacts> {
    const { contactId } = recipient
    // One after another, never Promise.all: PGlite has one connection, and a transaction runs one query at a time.
    const subscription = contactId && list ? await subscriptions.subscriptionOf(q, contactId, list.id) : undefined
    const events = contactId ? await consent.eventsOf(q, contactId) : []
    const enrollments = contactId ? await courses.enrollmentsOf(q, contactId) : []
    const suppressionRows = await suppressions.suppressionsOf(q, recipient)
    return {
      kind: request.kind,
      list: list ? toListFacts(list) : null,
      courseId: request.kind === 'course' ? request.courseId! : null,
      subscription: subscription ? toSubscriptionFacts(subscription) : null,
      consentEvents: events.map(toConsentEventFacts),
      enrollments: enrollments.map(toEnrollmentFacts),
      suppressions: suppressionRows.map(toSuppressionFacts),
      template: request.template ?? null,
    }
  }

  async function decideIn(q: Queryable, request: DecisionRequest): Promise<DecisionOutcome> {
    const parsed = checkRequest(request)
    const recipient = 'email' in parsed ? await contacts.recipientByEmail(q, parsed.email) : await contacts.recipientById(q, parsed.contactId)
    const list = await resolveList(q, request)
    const facts = await loadFacts(q, request, recipient, list)
    const now = clock.now()
    const decision = decide(facts, now, policy)
    return { answer: toAnswer(decision, recipient.contactId, now), trace: decision.trace, recipient, listId: list?.id ?? null }
  }

  /**
   * The decision together with the recipient's keys, for the ledger. Inside
   * `tx` when given (the caller's snapshot); else in a read-only snapshot of
   * its own, so every fact is read at the same moment and nothing can be written.
   */
  function decideOutcome(request: DecisionRequest, tx?: Queryable): Promise<DecisionOutcome> {
    if (tx) return decideIn(tx, request)
    return db.transaction((t) => decideIn(t, request), { isolationLevel: 'repeatable read', accessMode: 'read only' })
  }

  const explainSources: DecisionSources = { contacts, lists, consent, courses, subscriptions, suppressions }

  return {
    decideOutcome,

    /** May this message go to this recipient now, asked by `actor`? Reads only. */
    async decideFor(request: DecisionRequest, actor: Actor): Promise<DecisionAnswer> {
      checkKindForActor(actor, request.kind)
      return (await decideOutcome(request)).answer
    },

    /**
     * Until when this person cannot opt out of this course's mail (P3): the
     * decision for course mail, allowed, with its lock; null when it is not
     * allowed (not enrolled, erased, bounced), since then nothing locks.
     */
    async courseLockUntil(q: Queryable, contactId: string, courseId: string): Promise<Date | null> {
      return (await decideIn(q, { kind: 'course', contactId, courseId })).answer.lockedUntil
    },

    /**
     * The open marketing lists that may reach this contact now under the
     * existing-customer rule (marketing act § 15), so the preference page
     * says "as a customer" only to a customer. The decision answers for each
     * list; a list allowed on the person's consent is not among them.
     */
    async existingCustomerLists(q: Queryable, contactId: string): Promise<{ id: string; name: string }[]> {
      const marketing = (await lists.findOpenNonCourseLists(q)).filter((l) => l.kind === ListKind.marketing)
      const reached: { id: string; name: string }[] = []
      // One list after another: PGlite has one connection.
      for (const list of marketing) {
        const { answer } = await decideIn(q, { kind: 'marketing', contactId, listId: list.id })
        if (answer.allowed && answer.rule === DecisionRule.existingCustomer) reached.push({ id: list.id, name: list.name })
      }
      return reached
    },

    /** Why every list and course of one contact would or would not get mail now, from stored data alone. */
    explainContact: (contactId: string) => explainContact(db, explainSources, { contactId, now: clock.now(), policy }),
  }
}
export type DecisionService = ReturnType<typeof createDecisionService>
