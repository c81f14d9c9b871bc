// Erasure (GDPR art. 17; P1, P9, P11): the person's data goes everywhere it
// is, in one transaction. What goes: the contact, their subscriptions and
// kept opt-out wishes. What stays, redacted to the keyed address hash because
// proof needs it: the consent ledger (type, purpose, basis, source, time),
// the send ledger, messages and their delivery events, suppressions, requests
// and the audit log (who did what, when; the values go). What the law makes
// us keep stays, and the answer says why: enrollments, as sales records for
// bookkeeping (P11). An erasure suppression keeps the address from marketing
// for good. The webhook outbox keeps the person's past events, by contact id
// only: the addresses kept beside them for endpoints are forgotten, and the
// erasure is announced without any (contact.erased). During an active
// enrollment the erasure is refused — course mail is part of the contract —
// and can be scheduled for the course's end.
// Each table is changed by the service that owns it.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder, AuditService } from '../audit/service.js'
import type { ConsentService } from '../consent/service.js'
import type { ContactService } from '../contacts/service.js'
import type { EnrollmentService } from '../courses/enrollment-service.js'
import type { DeliveryService } from '../delivery/service.js'
import type { LedgerService } from '../ledger/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import type { ProcessorService } from '../processors/service.js'
import { findPurpose } from '../register/register.js'
import type { RegisterService } from '../register/service.js'
import type { SendService } from '../sends/service.js'
import type { SubscriptionService } from '../subscriptions/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import { SuppressionReason, SuppressionScope } from '../vocabulary.js'
import { recordWebhookEvent } from '../webhooks/record.js'
import type { DataSubjectRequestService } from './service.js'

/** The register purpose whose retention keeps sales records after an erasure (P11). */
const BOOKKEEPING_PURPOSE = 'bookkeeping'
const YEAR_MS = 365.25 * 24 * 60 * 60 * 1000

/** The webhook outbox as the modules holding personal data see it (built in services.ts from src/webhooks/). */
export interface WebhookOutbox {
  /** Forgets the addresses kept beside the person's events, in the caller's transaction. */
  forgetEmailsIn(tx: Queryable, contactId: string): Promise<void>
  /** The person's events, oldest first (the access export). */
  eventsOf(q: Queryable, contactId: string): Promise<{ id: string; type: string; data: unknown; email: string | null; occurredAt: Date }[]>
  /** Their deliveries to each endpoint, with how each went (the access export). */
  deliveriesOf(q: Queryable, contactId: string): Promise<{ eventId: string; endpointId: string; status: string; attempts: number; lastStatusCode: number | null; deliveredAt: Date | null }[]>
}

export interface EraseInput {
  /** The erasure request this carries out; it is completed with the erasure. */
  requestId?: string
  /** During an active enrollment: schedule the erasure for the course's end instead of refusing (needs requestId). */
  scheduleAtCourseEnd?: boolean
}

export interface KeptRecords {
  records: string
  count: number
  reason: string
  until: Date | null
}

export type ErasureAnswer =
  | {
      status: 'erased'
      contactId: string
      erasedAt: Date
      suppressionId: string
      /** The third parties told (P9): a webhook notice is delivered by the job, a manual one is a task for staff. */
      notices: { id: string; processorId: string; method: string; status: string }[]
      removed: Record<string, number>
      redacted: Record<string, number>
      kept: KeptRecords[]
    }
  | { status: 'already_erased'; contactId: string; erasedAt: Date }
  | { status: 'scheduled'; contactId: string; requestId: string; eraseAfter: Date }

export function createErasureService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder & Pick<AuditService, 'redactAbout' | 'erasureOf'>
  register: RegisterService
  contacts: Pick<ContactService, 'requireContact' | 'recipientOf' | 'deleteIn'>
  subscriptions: Pick<SubscriptionService, 'eraseIn'>
  consent: Pick<ConsentService, 'redactIn'>
  enrollments: Pick<EnrollmentService, 'enrollmentsOf' | 'keepAsSalesRecordsIn'>
  suppressions: Pick<SuppressionService, 'suppressIn' | 'redactIn'>
  sends: Pick<SendService, 'redactMessagesIn'>
  ledger: Pick<LedgerService, 'redactIn'>
  delivery: Pick<DeliveryService, 'redactRepliesIn'>
  dataSubjectRequests: Pick<DataSubjectRequestService, 'requireErasureRequestIn' | 'scheduleErasureIn' | 'closeErasureIn' | 'redactIn' | 'scheduledErasuresDue'>
  processors: Pick<ProcessorService, 'noticeIn'>
  webhooks: Pick<WebhookOutbox, 'forgetEmailsIn'>
}) {
  const { db, clock, audit, register, contacts, subscriptions, consent, enrollments, suppressions, sends, ledger, delivery, dataSubjectRequests, processors, webhooks } = deps

  const bookkeepingYears = () => findPurpose(register.processingRegister, BOOKKEEPING_PURPOSE)?.retention.years ?? null

  async function eraseIn(tx: Queryable, contactId: string, input: EraseInput, actor: Actor): Promise<ErasureAnswer> {
    const now = clock.now()
    const contact = await contacts.requireContact(tx, contactId, { lock: true }).catch((error) => {
      if (error instanceof NotFoundError) return null
      throw error
    })
    if (!contact) {
      // Gone: answered as erased when an erasure took it, else contact_not_found.
      const erasedAt = await audit.erasureOf(tx, contactId)
      if (!erasedAt) throw new NotFoundError('Contact', 'contact_not_found')
      return { status: 'already_erased', contactId, erasedAt }
    }
    const request = input.requestId ? await dataSubjectRequests.requireErasureRequestIn(tx, input.requestId, contactId) : null

    // Course mail is part of the contract (P3): no erasure while a course runs.
    const running = (await enrollments.enrollmentsOf(tx, contactId)).filter(
      ({ enrollment, course }) => enrollment.status === 'active' && course.endsAt.getTime() > now.getTime(),
    )
    if (running.length > 0) {
      const courseEndsAt = new Date(Math.max(...running.map(({ course }) => course.endsAt.getTime())))
      if (!input.scheduleAtCourseEnd) {
        throw new ConflictError('erasure_during_enrollment', 'The person is enrolled on a running course; the erasure can be scheduled for its end', {
          courseEndsAt: courseEndsAt.toISOString(),
        })
      }
      if (!request) throw new UnprocessableError('schedule_needs_request', 'A scheduled erasure is carried out for an erasure request: give requestId')
      await dataSubjectRequests.scheduleErasureIn(tx, request, courseEndsAt, actor)
      return { status: 'scheduled', contactId, requestId: request.id, eraseAfter: courseEndsAt }
    }

    const recipient = { contactId, addressHash: contacts.recipientOf(contact).addressHash }
    // The tombstone: by the keyed hash alone, so it names no one and still stops marketing for good.
    const { suppression } = await suppressions.suppressIn(tx, actor, now, { contactId: null, addressHash: recipient.addressHash }, {
      scope: SuppressionScope.global,
      reason: SuppressionReason.erasure,
    })
    const removedLists = await subscriptions.eraseIn(tx, contactId)
    const salesRecords = await enrollments.keepAsSalesRecordsIn(tx, contactId, recipient.addressHash)
    const notices = await processors.noticeIn(tx, {
      type: 'erasure',
      requestId: request?.id ?? null,
      contactId: null,
      addressHash: recipient.addressHash,
      paymentReferences: salesRecords.flatMap((e) => (e.paymentReference ? [e.paymentReference] : [])),
    })
    const messageIds = await sends.redactMessagesIn(tx, contactId)
    const redacted = {
      consentEvents: await consent.redactIn(tx, contactId),
      sendLedger: await ledger.redactIn(tx, contactId),
      messages: messageIds.length,
      deliveryReplies: await delivery.redactRepliesIn(tx, messageIds),
      suppressions: await suppressions.redactIn(tx, recipient),
      requests: await dataSubjectRequests.redactIn(tx, contactId),
      auditValues: await audit.redactAbout(tx, contactId),
    }
    const years = bookkeepingYears()
    const kept: KeptRecords[] = [
      ...(salesRecords.length > 0
        ? [
            {
              records: 'enrollments',
              count: salesRecords.length,
              reason: 'Sales records kept for bookkeeping as the Bookkeeping Act demands (bokføringsloven; P11), named only by the keyed address hash',
              until: years ? new Date(Math.max(...salesRecords.map((e) => e.enrolledAt.getTime())) + years * YEAR_MS) : null,
            },
          ]
        : []),
      {
        records: 'consent_events, send_ledger, messages, delivery_events, suppressions, audit_events',
        count: redacted.consentEvents + redacted.sendLedger + redacted.messages + redacted.suppressions,
        reason: 'Proof of consent and of what was sent and why (GDPR art. 5(2), 7(1)), redacted to the keyed address hash',
        until: null,
      },
      { records: 'suppressions', count: 1, reason: 'The erasure suppression, so that the address is never written to for marketing again', until: null },
    ]
    const outcome = `Erased; kept: ${kept.map((k) => `${k.records} (${k.count})`).join('; ')}`
    if (request) await dataSubjectRequests.closeErasureIn(tx, request, outcome, actor)
    await contacts.deleteIn(tx, contactId)
    // Announced by contact id alone; then every address kept beside the person's events, this erasure's included, is forgotten.
    await recordWebhookEvent(tx, now, { type: 'contact.erased', contactId, data: { requestId: request?.id ?? null } })
    await webhooks.forgetEmailsIn(tx, contactId)
    // No values about the person: the entry says that an erasure happened, by whom, and what was kept.
    await audit.record(tx, actor, now, {
      action: 'contact.erased',
      entityType: 'contact',
      entityId: contactId,
      changes: {
        requestId: request?.id ?? null,
        suppressionId: suppression.id,
        notices: notices.map((n) => n.processorId),
        removed: removedLists,
        redacted,
        kept: kept.map((k) => k.records),
      },
    })
    return {
      status: 'erased',
      contactId,
      erasedAt: now,
      suppressionId: suppression.id,
      notices: notices.map((n) => ({ id: n.id, processorId: n.processorId, method: n.method, status: n.status })),
      removed: { contact: 1, ...removedLists }, redacted, kept }
  }

  return {
    /** Erases a person inside the caller's transaction (retention runs). */
    eraseIn,

    /** Erases a person (idempotent: a second call answers already_erased); refused or scheduled during a running course. */
    erase: (contactId: string, input: EraseInput, actor: Actor) => db.transaction((tx) => eraseIn(tx, contactId, input, actor)),

    /**
     * Carries out the erasures scheduled for a course's end once it has come;
     * one on a new running course is scheduled again, for that one's end.
     * Each in its own transaction. Returns how many were erased and rescheduled.
     */
    async eraseScheduled(actor: Actor): Promise<{ erased: number; rescheduled: number }> {
      const counts = { erased: 0, rescheduled: 0 }
      for (const request of await dataSubjectRequests.scheduledErasuresDue(db)) {
        const answer = await db.transaction(async (tx) => {
          if (request.contactId) return eraseIn(tx, request.contactId, { requestId: request.id, scheduleAtCourseEnd: true }, actor)
          // The person was erased some other way meanwhile: the request is answered.
          await dataSubjectRequests.closeErasureIn(tx, request, 'The person had been erased already', actor)
          return null
        })
        if (answer?.status === 'scheduled') counts.rescheduled++
        else counts.erased++
      }
      return counts
    },
  }
}
export type ErasureService = ReturnType<typeof createErasureService>
