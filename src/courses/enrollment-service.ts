// Enrollments from the course system: the contract course mail stands on.
// An upsert finds or creates the contact by address, puts them on the course
// list, records the contract basis in the consent ledger, records a declined
// marketing offer as an objection, and — when nothing locks them any more —
// carries out opt-outs the course lock held back. Whether an enrollment is
// still active is the decision's to say, at decision time, so correctness
// never waits for a scheduled job.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { ConsentService } from '../consent/service.js'
import type { ContactService, NewContactInput } from '../contacts/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { diffFields } from '../lib/diff.js'
import { ConflictError, NotFoundError } from '../lib/errors.js'
import type { ListService } from '../lists/service.js'
import type { OptOutService } from '../subscriptions/opt-out.js'
import type { SuppressionService } from '../suppressions/service.js'
import { EnrollmentStatus, LegalBasis } from '../vocabulary.js'
import { recordWebhookEvent } from '../webhooks/record.js'
import {
  clearPaymentReferencesBefore,
  findContactEnrollments,
  findContactsPastCourseRetention,
  findEnrollmentById,
  insertEnrollmentIfAbsent,
  keepEnrollmentsAsSalesRecords,
  updateEnrollmentRow,
  type EnrollmentRow,
} from './queries.js'
import type { CourseService } from './service.js'

/** The purpose a declined marketing offer objects to: every marketing list (scope purpose covers a kind). */
const MARKETING_PURPOSE = 'marketing'

export interface EnrollmentInput {
  courseId: string
  contact: NewContactInput
  status: EnrollmentStatus
  keepDataAfterCourse?: boolean
  marketingOptOut: boolean
  enrolledAt?: Date
  paymentReference?: string
}

/** data_retention.keep_requested (P1): the person asked to keep their data until their next course, on this enrollment. */
function announceKeepIn(tx: Queryable, at: Date, enrollment: EnrollmentRow, email: string) {
  return recordWebhookEvent(tx, at, {
    type: 'data_retention.keep_requested',
    contactId: enrollment.contactId,
    email,
    data: { courseId: enrollment.courseId, enrollmentId: enrollment.id },
  })
}

export function createEnrollmentService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  contacts: Pick<ContactService, 'upsertContactIn' | 'recipientById' | 'requireContact'>
  consent: Pick<ConsentService, 'recordEvent'>
  courses: Pick<CourseService, 'requireCourse'>
  lists: Pick<ListService, 'courseList'>
  optOut: Pick<OptOutService, 'enrollIn' | 'applyDueDeferredIn'>
  suppressions: Pick<SuppressionService, 'suppressIn'>
}) {
  const { db, clock, audit, contacts, consent, courses, lists, optOut, suppressions } = deps

  /** A declined marketing offer is an objection (art. 21): in the ledger and as a suppression. */
  async function recordMarketingObjection(tx: Queryable, enrollment: EnrollmentRow, contactId: string, actor: Actor) {
    const now = clock.now()
    await consent.recordEvent(tx, actor, now, {
      contactId,
      listId: null,
      purpose: MARKETING_PURPOSE,
      type: 'objected',
      basis: LegalBasis.legitimateInterest,
      source: 'enrollment',
      evidence: `enrollment ${enrollment.id}`,
    })
    await suppressions.suppressIn(tx, actor, now, await contacts.recipientById(tx, contactId), {
      scope: 'purpose',
      purpose: MARKETING_PURPOSE,
      reason: 'objection',
      note: `declined marketing at enrollment ${enrollment.id}`,
    })
  }

  async function upsertIn(tx: Queryable, enrollmentId: string, input: EnrollmentInput, actor: Actor) {
    const course = await courses.requireCourse(tx, input.courseId)
    const contact = await contacts.upsertContactIn(tx, input.contact, actor)
    const now = clock.now()
    const fields = {
      status: input.status,
      keepDataAfterCourse: input.keepDataAfterCourse ?? false,
      marketingOptOut: input.marketingOptOut,
      ...(input.paymentReference ? { paymentReference: input.paymentReference } : {}),
    }
    const inserted = await insertEnrollmentIfAbsent(tx, {
      ...fields,
      id: enrollmentId,
      courseId: course.id,
      contactId: contact.id,
      enrolledAt: input.enrolledAt ?? now,
      endedAt: input.status === EnrollmentStatus.active ? null : now,
      createdAt: now,
      updatedAt: now,
    })
    const before = inserted ? null : (await findEnrollmentById(tx, enrollmentId, true))!
    if (before && before.courseId !== course.id) {
      throw new ConflictError('enrollment_course_changed', 'An enrollment stays in its course; cancel it and enroll in the other course')
    }
    if (before && before.contactId !== contact.id) {
      throw new ConflictError('enrollment_contact_changed', 'An enrollment stays with its person; rectify the contact instead (PATCH /v1/contacts/{id})')
    }
    // endedAt: when the status last left active (kept while it stays ended).
    const endedAt = input.status === EnrollmentStatus.active ? null : (before?.endedAt ?? now)
    const enrollment = inserted ?? (await updateEnrollmentRow(tx, enrollmentId, { ...fields, endedAt, updatedAt: now }))
    if (enrollment.keepDataAfterCourse && !before?.keepDataAfterCourse) await announceKeepIn(tx, now, enrollment, contact.email)
    if (input.status === EnrollmentStatus.active) await optOut.enrollIn(tx, contact.id, await lists.courseList(tx, course.id), actor)
    if (input.marketingOptOut && !before?.marketingOptOut) await recordMarketingObjection(tx, enrollment, contact.id, actor)
    // Opt-outs the course lock held back are carried out once nothing locks them.
    await optOut.applyDueDeferredIn(tx, contact, actor)
    const changes = before ? diffFields(before, fields) : diffFields({}, { ...fields, courseId: course.id, contactId: contact.id })
    if (Object.keys(changes).length > 0) {
      await audit.record(tx, actor, now, {
        action: before ? 'enrollment.updated' : 'enrollment.created',
        entityType: 'enrollment',
        entityId: enrollmentId,
        subjectId: contact.id,
        changes,
      })
    }
    return { enrollment, created: Boolean(inserted) }
  }

  return {
    upsertEnrollment: (enrollmentId: string, input: EnrollmentInput, actor: Actor) =>
      db.transaction((tx) => upsertIn(tx, enrollmentId, input, actor)),

    /** The person's enrollments with their courses, oldest first. */
    enrollmentsOf: (q: Queryable, contactId: string) => findContactEnrollments(q, contactId),

    /** Retention (P1): contacts all of whose courses ended before `cutoff`, who did not ask to keep their data; a page after `afterId`. */
    contactsPastCourseRetention: (q: Queryable, cutoff: Date, afterId: string | null, limit: number) => findContactsPastCourseRetention(q, cutoff, afterId, limit),

    /** Retention (P10): payment references of purchases before `cutoff` go. */
    clearPaymentReferencesIn: (tx: Queryable, cutoff: Date) => clearPaymentReferencesBefore(tx, cutoff),

    /** Erasure: the enrollments stay as sales records (P11), named by the keyed address hash. */
    keepAsSalesRecordsIn: (tx: Queryable, contactId: string, addressHash: string) => keepEnrollmentsAsSalesRecords(tx, contactId, addressHash),

    /**
     * P1, from the person: keep my data for my next course, or delete it when
     * my course ends — on every enrollment not cancelled. Audited. Returns how
     * many enrollments changed.
     */
    setKeepDataAfterCourse: (contactId: string, keep: boolean, actor: Actor): Promise<number> =>
      db.transaction(async (tx) => {
        const contact = await contacts.requireContact(tx, contactId, { lock: true })
        const now = clock.now()
        let changed = 0
        for (const { enrollment } of await findContactEnrollments(tx, contactId)) {
          if (enrollment.status === EnrollmentStatus.cancelled || enrollment.keepDataAfterCourse === keep) continue
          const updated = await updateEnrollmentRow(tx, enrollment.id, { keepDataAfterCourse: keep, updatedAt: now })
          if (keep) await announceKeepIn(tx, now, updated, contact.email)
          await audit.record(tx, actor, now, {
            action: 'enrollment.updated',
            entityType: 'enrollment',
            entityId: enrollment.id,
            subjectId: contactId,
            changes: diffFields({ keepDataAfterCourse: enrollment.keepDataAfterCourse }, { keepDataAfterCourse: keep }),
          })
          changed++
        }
        return changed
      }),

    async getEnrollment(enrollmentId: string): Promise<EnrollmentRow> {
      const enrollment = await findEnrollmentById(db, enrollmentId)
      if (!enrollment) throw new NotFoundError('Enrollment', 'enrollment_not_found')
      return enrollment
    },
  }
}
export type EnrollmentService = ReturnType<typeof createEnrollmentService>
