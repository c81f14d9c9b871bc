// The decision service: checks what it is asked, loads the facts from the
// database and hands them to the pure `decide` (./decide.ts). It changes
// nothing; the send ledger (src/ledger) records what it answers. Knows
// nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import { Role, type LegalBasis, type ListKind } from '../../db/schema/index.js'
import type { Config } from '../config.js'
import { findContactByEmail } from '../contacts/queries.js'
import { requireContact } from '../contacts/service.js'
import { findContactEnrollments, findCourseList } from '../courses/queries.js'
import { requireCourse } from '../courses/service.js'
import { requireList } from '../lists/service.js'
import { findSuppressionsForRecipient } from '../suppressions/queries.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { addressHash, parseEmail, storedAddressHash } from '../lib/email.js'
import { ForbiddenError, UnprocessableError, ValidationError } from '../lib/errors.js'
import { decide } from './decide.js'
import { explainContact } from './explain.js'
import {
  findListConsentEvents,
  findSubscription,
  toConsentEventFacts,
  toEnrollmentFacts,
  toListFacts,
  toSubscriptionFacts,
  toSuppressionFacts,
  type ListRow,
} from './queries.js'
import type { BlockReason, Decision, DecisionFacts, DecisionPolicy, Evidence, MessageKind } from './types.js'

/** What the decision is asked: one recipient (by address or by contact) and one message. */
export interface DecisionRequest {
  email?: string
  contactId?: string
  kind: MessageKind
  listId?: string
  courseId?: string
}

/** The answer as it goes out: the same shape whether allowed or blocked. */
export interface DecisionAnswer {
  allowed: boolean
  basis: LegalBasis | null
  evidence: Evidence | null
  reason: BlockReason | null
  lockedUntil: Date | null
  /** null when the address belongs to no contact. */
  contactId: string | null
  decidedAt: Date
}

/** Who a message goes to, as suppressions know people: by contact and by keyed address hash. */
export interface Recipient {
  contactId: string | null
  addressHash: string
}

/** A decision with what the ledger records beside it. */
export interface DecisionOutcome {
  answer: DecisionAnswer
  recipient: Recipient
  /** The list the decision was taken for (for course mail, the course list), if any. */
  listId: string | null
}

type ParsedRecipient = { email: string; canonical: string } | { contactId: string }

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

/** The flat answer from the pure decision's union. */
export function toAnswer(decision: Decision, contactId: string | null, decidedAt: Date): DecisionAnswer {
  return {
    allowed: decision.allowed,
    basis: decision.allowed ? decision.basis : null,
    evidence: decision.evidence,
    reason: decision.allowed ? null : decision.reason,
    lockedUntil: decision.lockedUntil,
    contactId,
    decidedAt,
  }
}

export function createDecisionService({ db, clock, config }: { db: Database; clock: Clock; config: Config }) {
  const policy: DecisionPolicy = { marketingCustomerWindowMonths: config.marketingCustomerWindowMonths }
  const hashOf = (storedEmail: string) => storedAddressHash(storedEmail, config.suppressionPepper)

  /** Checks the request's shape before anything is looked up: bad input is a 400 or 422, whatever else is wrong. */
  function checkRequest(request: DecisionRequest): ParsedRecipient {
    const hasEmail = request.email !== undefined
    if (hasEmail === (request.contactId !== undefined)) {
      throw new ValidationError(
        [{ field: 'body', message: 'must name the recipient by exactly one of email and contactId' }],
        'recipient_required',
      )
    }
    let recipient: ParsedRecipient = { contactId: request.contactId! }
    if (hasEmail) {
      const parsed = parseEmail(request.email!)
      if (!parsed.ok) throw new ValidationError([{ field: 'body.email', message: parsed.message }], 'invalid_email')
      recipient = { email: parsed.email, canonical: parsed.canonical }
    }
    if (request.kind === 'course' && request.courseId === undefined) {
      throw new UnprocessableError('course_required', 'Course mail names the course it is about (courseId)')
    }
    if (request.kind !== 'course' && request.listId === undefined) {
      throw new UnprocessableError('list_required', `A ${request.kind} message names the list it goes to (listId)`)
    }
    return recipient
  }

  /** Finds the recipient's contact; an address that belongs to no contact is a person known by the hash alone. */
  async function resolveRecipient(q: Queryable, parsed: ParsedRecipient): Promise<Recipient> {
    if ('email' in parsed) {
      const contact = await findContactByEmail(q, parsed.email)
      return { contactId: contact?.id ?? null, addressHash: addressHash(parsed.canonical, config.suppressionPepper) }
    }
    const contact = await requireContact(q, parsed.contactId)
    return { contactId: contact.id, addressHash: hashOf(contact.email) }
  }

  /** Checks the message: course mail names a course, the rest a list of the message's own kind. */
  async function resolveList(q: Queryable, request: DecisionRequest): Promise<ListRow | null> {
    let list: ListRow | null = null
    if (request.kind === 'course') {
      await requireCourse(q, request.courseId!)
      list = (await findCourseList(q, request.courseId!)) ?? null
    }
    if (request.listId !== undefined) {
      const named = await requireList(q, request.listId)
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

  /** Loads everything `decide` needs about this recipient and message. */
  async function loadFacts(q: Queryable, request: DecisionRequest, recipient: Recipient, list: ListRow | null): Promise<DecisionFacts> {
    const { contactId } = recipient
    // One after another, never Promise.all: PGlite has one connection, and a transaction runs one query at a time.
    const subscription = contactId && list ? await findSubscription(q, contactId, list.id) : undefined
    const events = contactId && list ? await findListConsentEvents(q, contactId, list) : []
    const enrollmentRows = contactId ? await findContactEnrollments(q, contactId) : []
    const suppressionRows = await findSuppressionsForRecipient(q, recipient)
    return {
      kind: request.kind,
      contactId,
      list: list ? toListFacts(list) : null,
      courseId: request.kind === 'course' ? request.courseId! : null,
      subscription: subscription ? toSubscriptionFacts(subscription) : null,
      consentEvents: events.map(toConsentEventFacts),
      enrollments: enrollmentRows.map(toEnrollmentFacts),
      suppressions: suppressionRows.map(toSuppressionFacts),
    }
  }

  async function decideIn(q: Queryable, request: DecisionRequest, parsed: ParsedRecipient): Promise<DecisionOutcome> {
    const recipient = await resolveRecipient(q, parsed)
    const list = await resolveList(q, request)
    const facts = await loadFacts(q, request, recipient, list)
    const now = clock.now()
    return { answer: toAnswer(decide(facts, now, policy), recipient.contactId, now), recipient, listId: list?.id ?? null }
  }

  /**
   * The decision together with the recipient's keys, for the ledger. Inside
   * `tx` when given (the caller's snapshot); else in a read-only snapshot of
   * its own, so every fact is read at the same moment and nothing can be written.
   */
  async function decideOutcome(request: DecisionRequest, tx?: Queryable): Promise<DecisionOutcome> {
    const parsed = checkRequest(request)
    if (tx) return decideIn(tx, request, parsed)
    return db.transaction((t) => decideIn(t, request, parsed), { isolationLevel: 'repeatable read', accessMode: 'read only' })
  }

  return {
    decideOutcome,

    /** May this message go to this recipient now, asked by `actor`? Reads only. */
    async decideFor(request: DecisionRequest, actor: Actor): Promise<DecisionAnswer> {
      if (actor.role === Role.courseSystem && !KINDS_THE_COURSE_SYSTEM_MAY_ASK.has(request.kind)) {
        throw new ForbiddenError('The course system may ask about course and transactional mail only')
      }
      return (await decideOutcome(request)).answer
    },

    /** Why every list and course of one contact would or would not get mail now, from stored data alone. */
    explainContact: (contactId: string) => explainContact(db, { contactId, now: clock.now(), policy, hashOf }),
  }
}
export type DecisionService = ReturnType<typeof createDecisionService>

