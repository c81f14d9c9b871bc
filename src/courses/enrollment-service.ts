// Enrollments from the course system: the contract course mail stands on.
// An upsert finds or creates the contact by address, puts them on the course
// list, records the contract basis in the consent ledger, records a declined
// marketing offer as an objection, and — when the enrollment ends — carries
// out opt-outs that the course lock held back. Whether an enrollment is still
// active is decided at decision time (status and the course's end), so
// correctness never waits for a scheduled job.
import type { Database, Queryable } from '../../db/client.js'
import { LegalBasis } from '../../db/schema/index.js'
import { diffFields, recordAudit } from '../audit/service.js'
import { recordConsentEvent } from '../consent/service.js'
import type { ContactService, NewContactInput } from '../contacts/service.js'
import { EnrollmentStatus } from '../decision/types.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { storedAddressHash } from '../lib/email.js'
import { ConflictError, NotFoundError } from '../lib/errors.js'
import { createOptOut } from '../subscriptions/opt-out.js'
import { requireCourse } from './service.js'
import { suppressIn } from '../suppressions/service.js'
import {
  findCourseList,
  findEnrollmentById,
  insertEnrollmentIfAbsent,
  updateEnrollmentRow,
  type EnrollmentRow,
} from './queries.js'

/** The purpose a declined marketing offer objects to: every marketing list (scope purpose covers a kind). */
const MARKETING_PURPOSE = 'marketing'

export interface EnrollmentInput {
  courseId: string
  contact: NewContactInput
  status: EnrollmentStatus
  keepDataAfterCourse?: boolean
  marketingOptOut: boolean
  enrolledAt?: Date
}

export function createEnrollmentService(deps: { db: Database; clock: Clock; pepper: string; contacts: ContactService }) {
  const { db, clock, pepper, contacts } = deps
  const optOut = createOptOut({ clock, pepper })

  /** A declined marketing offer is an objection (art. 21): in the ledger and as a suppression. */
  async function recordMarketingObjection(tx: Queryable, enrollment: EnrollmentRow, email: string, actor: Actor) {
    const now = clock.now()
    await recordConsentEvent(tx, actor, now, {
      contactId: enrollment.contactId,
      listId: null,
      purpose: MARKETING_PURPOSE,
      type: 'objected',
      basis: LegalBasis.legitimateInterest,
      source: 'enrollment',
      evidence: `enrollment ${enrollment.id}`,
    })
    await suppressIn(tx, actor, now, { contactId: enrollment.contactId, addressHash: storedAddressHash(email, pepper) }, {
      scope: 'purpose',
      purpose: MARKETING_PURPOSE,
      reason: 'objection',
      note: `declined marketing at enrollment ${enrollment.id}`,
    })
  }

  async function upsertIn(tx: Queryable, enrollmentId: string, input: EnrollmentInput, actor: Actor) {
    const course = await requireCourse(tx, input.courseId)
    const contact = await contacts.upsertContactIn(tx, input.contact, actor)
    const now = clock.now()
    const fields = {
      status: input.status,
      keepDataAfterCourse: input.keepDataAfterCourse ?? false,
      marketingOptOut: input.marketingOptOut,
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
    const list = (await findCourseList(tx, course.id))!
    if (input.status === EnrollmentStatus.active) await optOut.enrollIn(tx, contact.id, list, actor)
    if (input.marketingOptOut && !before?.marketingOptOut) await recordMarketingObjection(tx, enrollment, contact.email, actor)
    // Opt-outs the course lock held back are carried out once nothing locks them.
    await optOut.applyDueDeferredIn(tx, contact.id, actor)
    const changes = before ? diffFields(before, fields) : diffFields({}, { ...fields, courseId: course.id, contactId: contact.id })
    if (Object.keys(changes).length > 0) {
      await recordAudit(tx, actor, now, { action: before ? 'enrollment.updated' : 'enrollment.created', entityType: 'enrollment', entityId: enrollmentId, changes })
    }
    return { enrollment, created: Boolean(inserted) }
  }

  return {
    upsertEnrollment: (enrollmentId: string, input: EnrollmentInput, actor: Actor) =>
      db.transaction((tx) => upsertIn(tx, enrollmentId, input, actor)),

    async getEnrollment(enrollmentId: string): Promise<EnrollmentRow> {
      const enrollment = await findEnrollmentById(db, enrollmentId)
      if (!enrollment) throw new NotFoundError('Enrollment', 'enrollment_not_found')
      return enrollment
    },
  }
}
export type EnrollmentService = ReturnType<typeof createEnrollmentService>
