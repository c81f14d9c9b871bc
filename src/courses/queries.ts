// SQL for courses and enrollments.
import { and, asc, eq, gt, isNotNull, lt, sql } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { courses, enrollments } from '../../db/schema/index.js'

export type CourseRow = typeof courses.$inferSelect
export type NewCourse = typeof courses.$inferInsert
export type EnrollmentRow = typeof enrollments.$inferSelect
export type NewEnrollment = typeof enrollments.$inferInsert

/** Inserts a course unless its id exists; undefined then (ON CONFLICT keeps a transaction alive). */
export async function insertCourseIfAbsent(db: Queryable, course: NewCourse): Promise<CourseRow | undefined> {
  const [row] = await db.insert(courses).values(course).onConflictDoNothing({ target: courses.id }).returning()
  return row
}

export async function findCourseById(db: Queryable, id: string, lock = false): Promise<CourseRow | undefined> {
  const query = db.select().from(courses).where(eq(courses.id, id))
  const [row] = lock ? await query.for('update') : await query
  return row
}

export async function updateCourseRow(db: Queryable, id: string, patch: Partial<NewCourse>): Promise<CourseRow> {
  const [row] = await db.update(courses).set(patch).where(eq(courses.id, id)).returning()
  return row!
}

export async function insertEnrollmentIfAbsent(db: Queryable, row: NewEnrollment): Promise<EnrollmentRow | undefined> {
  const [inserted] = await db.insert(enrollments).values(row).onConflictDoNothing({ target: enrollments.id }).returning()
  return inserted
}

export async function findEnrollmentById(db: Queryable, id: string, lock = false): Promise<EnrollmentRow | undefined> {
  const query = db.select().from(enrollments).where(eq(enrollments.id, id))
  const [row] = lock ? await query.for('update') : await query
  return row
}

export async function updateEnrollmentRow(db: Queryable, id: string, patch: Partial<NewEnrollment>): Promise<EnrollmentRow> {
  const [row] = await db.update(enrollments).set(patch).where(eq(enrollments.id, id)).returning()
  return row!
}

export interface EnrollmentWithCourse {
  enrollment: EnrollmentRow
  course: CourseRow
}

/** Every enrollment of a contact with its course, oldest first. */
export async function findContactEnrollments(db: Queryable, contactId: string): Promise<EnrollmentWithCourse[]> {
  return db
    .select({ enrollment: enrollments, course: courses })
    .from(enrollments)
    .innerJoin(courses, eq(courses.id, enrollments.courseId))
    .where(eq(enrollments.contactId, contactId))
    .orderBy(asc(enrollments.enrolledAt), asc(enrollments.id))
}

/**
 * Erasure: the person's enrollments stay as sales records (P11), named by the
 * keyed address hash instead of the contact. Returns them.
 */
export async function keepEnrollmentsAsSalesRecords(db: Queryable, contactId: string, addressHash: string): Promise<EnrollmentRow[]> {
  return db.update(enrollments).set({ addressHash, contactId: null }).where(eq(enrollments.contactId, contactId)).returning()
}

/**
 * Retention (P1): contacts, after `afterId`, all of whose courses ended before
 * `cutoff`, whose last enrollment does not keep their data for a next course
 * (a wish made on an earlier one was for the course that followed it).
 */
export async function findContactsPastCourseRetention(db: Queryable, cutoff: Date, afterId: string | null, limit: number): Promise<string[]> {
  const rows = await db
    .select({ contactId: enrollments.contactId })
    .from(enrollments)
    .innerJoin(courses, eq(courses.id, enrollments.courseId))
    .where(and(isNotNull(enrollments.contactId), afterId ? gt(enrollments.contactId, afterId) : undefined))
    .groupBy(enrollments.contactId)
    .having(
      sql`bool_and(${courses.endsAt} < ${cutoff.toISOString()}::timestamptz)
          and not (array_agg(${enrollments.keepDataAfterCourse} order by ${courses.endsAt} desc, ${enrollments.enrolledAt} desc))[1]`,
    )
    .orderBy(asc(enrollments.contactId))
    .limit(limit)
  return rows.map((r) => r.contactId!)
}

/** Retention (P10): payment references of purchases made before `cutoff` go. Returns how many. */
export async function clearPaymentReferencesBefore(db: Queryable, cutoff: Date): Promise<number> {
  const rows = await db
    .update(enrollments)
    .set({ paymentReference: null })
    .where(and(isNotNull(enrollments.paymentReference), lt(enrollments.enrolledAt, cutoff)))
    .returning({ id: enrollments.id })
  return rows.length
}
