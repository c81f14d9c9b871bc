// Data-subject requests (P8): received from staff (a letter, an email, a
// call) or from the preference page, each with its due date (working-days.ts),
// handled step by step — started, then completed or refused with an outcome —
// every step audited. Completing a request carries it out where the service
// can: a restriction (art. 18) becomes an all-mail suppression the decision
// honours until an admin lifts it through the request; an objection (art. 21)
// becomes the person's objection to marketing. An erasure is completed by the
// erasure itself. Knows nothing of HTTP. Erasure, the access export and
// retention (./erasure.ts, ./export.ts, ./retention.ts) are services of their
// own: each reaches across the modules that hold a person's data, this one
// among them.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { ContactService, Recipient } from '../contacts/service.js'
import { createdBy, type Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import type { SuppressionService } from '../suppressions/service.js'
import type { OptOutService } from '../subscriptions/opt-out.js'
import type { EnrollmentService } from '../courses/enrollment-service.js'
import type { ProcessorService } from '../processors/service.js'
import { RequestChannel, RequestStatus, RequestType, SuppressionReason, SuppressionScope } from '../vocabulary.js'
import { recordWebhookEvent } from '../webhooks/record.js'
import {
  countOpenRequests,
  findRequest,
  findRequestsOfContact,
  findUnflaggedDueBy,
  insertRequest,
  findScheduledErasuresDue,
  listRequestRows,
  redactRequestsOf,
  updateRequest,
  type RequestRow,
} from './queries.js'
import { dueDateFor } from './working-days.js'

const DAY = 24 * 60 * 60 * 1000
/** Clocks differ: a receipt time this far ahead of ours is still taken as now. */
const CLOCK_SKEW_MS = 5 * 60 * 1000

export interface NewRequestInput {
  type: RequestType
  channel: RequestChannel
  contactId?: string
  email?: string
  /** When it reached us; by default now. A letter read today may have arrived yesterday. */
  receivedAt?: string
  details?: string | null
}

export interface RequestQuery {
  status?: RequestStatus
  type?: RequestType
  contactId?: string
  /** Only those not yet completed or refused, soonest due first. */
  open?: boolean
  /** Only open ones past their due date. */
  overdue?: boolean
  cursor?: string
  limit: number
}

/** A request as the API shows it: the row, and whether it is late or close to late now. */
export type RequestView = RequestRow & { overdue: boolean; dueSoon: boolean }

const isClosed = (row: RequestRow) => row.status === RequestStatus.completed || row.status === RequestStatus.refused

/** request.created, or request.completed once closed (completed or refused), in the webhook outbox in the request's transaction (issue 29). */
function announceIn(tx: Queryable, at: Date, row: RequestRow, email: string | undefined) {
  const facts = { requestId: row.id, type: row.type, dueDate: row.dueOn }
  return isClosed(row)
    ? recordWebhookEvent(tx, at, { type: 'request.completed', contactId: row.contactId, email, data: { ...facts, status: row.status } })
    : recordWebhookEvent(tx, at, { type: 'request.created', contactId: row.contactId, email, data: facts })
}

export function createDataSubjectRequestService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  /** Calendar days before its due date that an open request counts as due soon. */
  dueSoonDays: number
  contacts: Pick<ContactService, 'requireContact' | 'recipientNamed' | 'recipientOf'>
  suppressions: Pick<SuppressionService, 'suppressIn' | 'liftByIdIn'>
  optOut: Pick<OptOutService, 'objectToMarketingIn'>
  enrollments: Pick<EnrollmentService, 'enrollmentsOf'>
  processors: Pick<ProcessorService, 'noticeIn' | 'noticesOf'>
}) {
  const { db, clock, audit, dueSoonDays, contacts, suppressions, optOut, enrollments, processors } = deps

  function view(row: RequestRow, now = clock.now()): RequestView {
    const open = !isClosed(row)
    return {
      ...row,
      overdue: open && now.getTime() > row.dueAt.getTime(),
      dueSoon: open && now.getTime() + dueSoonDays * DAY >= row.dueAt.getTime(),
    }
  }

  async function requireRequest(q: Queryable, id: string, lock = false): Promise<RequestRow> {
    const row = await findRequest(q, id, lock)
    if (!row) throw new NotFoundError('Request', 'request_not_found')
    return row
  }

  function requireOpen(row: RequestRow): RequestRow {
    if (isClosed(row)) throw new ConflictError('request_closed', `The request was ${row.status} already`, { requestStatus: row.status })
    return row
  }

  async function createIn(tx: Queryable, input: NewRequestInput, recipient: Recipient, actor: Actor): Promise<RequestRow> {
    const now = clock.now()
    const receivedAt = input.receivedAt ? new Date(input.receivedAt) : now
    if (receivedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
      throw new UnprocessableError('received_in_future', 'receivedAt is in the future: a request is registered when it has reached us')
    }
    const due = dueDateFor(receivedAt)
    const row = await insertRequest(tx, {
      type: input.type,
      status: RequestStatus.open,
      channel: input.channel,
      contactId: recipient.contactId,
      addressHash: recipient.addressHash,
      details: input.details?.trim() || null,
      receivedAt,
      dueOn: due.dueOn,
      dueAt: due.dueAt,
      dueLimit: due.limit,
      createdAt: now,
      ...createdBy(actor),
      updatedAt: now,
    })
    await audit.record(tx, actor, now, {
      action: 'request.received',
      entityType: 'request',
      entityId: row.id,
      subjectId: row.contactId,
      changes: { type: row.type, channel: row.channel, receivedAt: row.receivedAt, dueOn: row.dueOn, details: row.details },
    })
    await announceIn(tx, now, row, recipient.email)
    return row
  }

  /**
   * Moves a request to a new status, audited; `changes` are recorded with it.
   * Closing it is announced, with the person's address unless `erasing` (the
   * erasure closes its request and leaves no address behind).
   */
  async function step(tx: Queryable, row: RequestRow, patch: Partial<RequestRow>, action: string, actor: Actor, changes: Record<string, unknown>, erasing = false) {
    const now = clock.now()
    const closing = patch.status === RequestStatus.completed || patch.status === RequestStatus.refused
    const after = await updateRequest(tx, row.id, {
      ...patch,
      updatedAt: now,
      ...(closing ? { closedAt: now, closedById: actor.id, closedByName: actor.name } : {}),
    })
    await audit.record(tx, actor, now, { action, entityType: 'request', entityId: row.id, subjectId: row.contactId, changes })
    if (closing) {
      const email = row.contactId && !erasing ? (await contacts.requireContact(tx, row.contactId)).email : undefined
      await announceIn(tx, now, after, email)
    }
    return after
  }

  /** What completing a request of this type does beyond closing it. */
  async function carryOut(tx: Queryable, row: RequestRow, actor: Actor): Promise<Partial<RequestRow>> {
    switch (row.type) {
      case RequestType.restriction: {
        const { suppression } = await suppressions.suppressIn(tx, actor, clock.now(), { contactId: row.contactId, addressHash: row.addressHash }, {
          scope: SuppressionScope.allMail,
          reason: SuppressionReason.restriction,
        })
        return { restrictionId: suppression.id }
      }
      case RequestType.objection:
        if (row.contactId) await optOut.objectToMarketingIn(tx, row.contactId, { source: 'staff', evidence: `data-subject request ${row.id}` }, actor)
        else {
          await suppressions.suppressIn(tx, actor, clock.now(), { contactId: null, addressHash: row.addressHash }, {
            scope: SuppressionScope.purpose,
            purpose: 'marketing',
            reason: SuppressionReason.objection,
          })
        }
        return {}
      case RequestType.rectification: {
        // P9: processors that hold the data hear of the correction (they read the current values when told).
        const paymentReferences = row.contactId
          ? (await enrollments.enrollmentsOf(tx, row.contactId)).flatMap(({ enrollment }) => (enrollment.paymentReference ? [enrollment.paymentReference] : []))
          : []
        await processors.noticeIn(tx, { type: 'rectification', requestId: row.id, contactId: row.contactId, addressHash: row.addressHash, paymentReferences })
        return {}
      }
      case RequestType.erasure:
        throw new ConflictError('erasure_by_erase', 'An erasure request is completed by the erasure itself: POST /v1/contacts/{id}/erase with this requestId')
      default:
        return {}
    }
  }

  return {
    view,

    /** Registers a request received by staff (a letter, an email, a call). */
    async create(input: NewRequestInput, actor: Actor): Promise<RequestView> {
      const row = await db.transaction(async (tx) => createIn(tx, input, await contacts.recipientNamed(tx, input, 'body'), actor))
      return view(row)
    },

    /**
     * A request the person made on the preference page. Asking again while
     * the same kind of request is still open changes nothing: it answers that one.
     */
    async requestFromPage(contactId: string, type: RequestType, actor: Actor): Promise<RequestView> {
      const row = await db.transaction(async (tx) => {
        const recipient = contacts.recipientOf(await contacts.requireContact(tx, contactId, { lock: true }))
        const open = (await findRequestsOfContact(tx, contactId)).find((r) => r.type === type && !isClosed(r))
        return open ?? createIn(tx, { type, channel: RequestChannel.preferencePage }, recipient, actor)
      })
      return view(row)
    },

    /** A request with the notices it caused to third parties (P9). */
    async getRequest(id: string) {
      const row = await requireRequest(db, id)
      return { ...view(row), processorNotices: await processors.noticesOf(db, [id]) }
    },

    /** Open requests by type, with how many are overdue (P8's deadline passed): for the metrics. */
    openCounts: () => countOpenRequests(db, clock.now()),

    /** A page of requests: open or overdue ones by due date, the rest as they were received. */
    async listRequests(query: RequestQuery) {
      const now = clock.now()
      const byDueDate = Boolean(query.open || query.overdue)
      const rows = await listRequestRows(
        db,
        {
          status: query.status,
          type: query.type,
          contactId: query.contactId,
          dueBefore: query.overdue ? now : undefined,
          after: decodeCursor(query.cursor),
          limit: query.limit,
        },
        byDueDate,
      )
      return toPage(
        rows.map((r) => view(r, now)),
        query.limit,
        (r) => ({ at: byDueDate ? r.dueAt : r.createdAt, id: r.id }),
      )
    },

    /** Every request about a contact (the access export). */
    requestsOf: (q: Queryable, contactId: string) => findRequestsOfContact(q, contactId),

    /** Staff have begun work on it. Starting a started request changes nothing. */
    start(id: string, actor: Actor): Promise<RequestView> {
      return db.transaction(async (tx) => {
        const row = requireOpen(await requireRequest(tx, id, true))
        if (row.status === RequestStatus.inProgress) return view(row)
        return view(await step(tx, row, { status: RequestStatus.inProgress }, 'request.started', actor, { status: RequestStatus.inProgress }))
      })
    },

    /** Answers the request and carries it out where the service can (restriction, objection). */
    complete(id: string, outcome: string, actor: Actor): Promise<RequestView> {
      return db.transaction(async (tx) => {
        const row = requireOpen(await requireRequest(tx, id, true))
        const effects = await carryOut(tx, row, actor)
        const patch = { ...effects, status: RequestStatus.completed, outcome }
        return view(await step(tx, row, patch, 'request.completed', actor, { status: RequestStatus.completed, outcome, ...effects }))
      })
    },

    /** Refuses the request, with the reasons the person is told (art. 12(4)). */
    refuse(id: string, outcome: string, actor: Actor): Promise<RequestView> {
      return db.transaction(async (tx) => {
        const row = requireOpen(await requireRequest(tx, id, true))
        return view(await step(tx, row, { status: RequestStatus.refused, outcome }, 'request.refused', actor, { status: RequestStatus.refused, outcome }))
      })
    },

    /** The open erasure request about this contact, locked for the erasure's transaction; refuses any other. */
    async requireErasureRequestIn(tx: Queryable, id: string, contactId: string): Promise<RequestRow> {
      const row = requireOpen(await requireRequest(tx, id, true))
      if (row.type !== RequestType.erasure) throw new UnprocessableError('request_type_mismatch', `Request ${id} asks for ${row.type}, not erasure`)
      if (row.contactId !== contactId) throw new UnprocessableError('request_contact_mismatch', `Request ${id} is about another person`)
      return row
    },

    /** Schedules an erasure request to be carried out after `at` (the end of the course that holds it back). */
    async scheduleErasureIn(tx: Queryable, row: RequestRow, at: Date, actor: Actor): Promise<RequestRow> {
      const started = { status: RequestStatus.inProgress, eraseAfter: at }
      return step(tx, row, started, 'request.erasure_scheduled', actor, { eraseAfter: at })
    },

    /** Closes an erasure request from inside the erasure's transaction, after the person's requests were redacted. */
    closeErasureIn: (tx: Queryable, row: RequestRow, outcome: string, actor: Actor) =>
      step(tx, row, { status: RequestStatus.completed, outcome, eraseAfter: null }, 'request.completed', actor, { status: RequestStatus.completed, outcome }, true),

    /** Erasure requests whose scheduled time has come. */
    scheduledErasuresDue: (q: Queryable) => findScheduledErasuresDue(q, clock.now()),

    /** Erasure: what was written about the person in their requests goes; type, dates and status stay. */
    redactIn: (tx: Queryable, contactId: string) => redactRequestsOf(tx, contactId),

    /** Ends a restriction (art. 18(3): the person is told before it is lifted); mail follows the rules again. */
    liftRestriction(id: string, reason: string, actor: Actor): Promise<RequestView> {
      return db.transaction(async (tx) => {
        const row = await requireRequest(tx, id, true)
        if (row.type !== RequestType.restriction || !row.restrictionId) {
          throw new ConflictError('no_restriction', 'Only a completed restriction request has a restriction to lift')
        }
        await suppressions.liftByIdIn(tx, row.restrictionId, reason, actor)
        return view(await step(tx, row, {}, 'request.restriction_lifted', actor, { reason }))
      })
    },

    /**
     * The daily check: open requests due within the due-soon window that were
     * not flagged yet are flagged (dueSoonAt) and audited, once each. Returns
     * how many; the log says how many, never who.
     */
    flagDueSoon(actor: Actor): Promise<{ flagged: number }> {
      return db.transaction(async (tx) => {
        const now = clock.now()
        const due = await findUnflaggedDueBy(tx, new Date(now.getTime() + dueSoonDays * DAY))
        for (const row of due) {
          await step(tx, row, { dueSoonAt: now }, 'request.due_soon', actor, { dueOn: row.dueOn, overdue: now.getTime() > row.dueAt.getTime() })
        }
        return { flagged: due.length }
      })
    },
  }
}
export type DataSubjectRequestService = ReturnType<typeof createDataSubjectRequestService>
