// Courses, as the course system sends them. Each course has its own list
// (kind course, basis contract) that course mail goes out on, made and renamed
// through the list service. Idempotent upsert by the course system's own id.
// Enrollments are a service of their own (./enrollment-service.ts): they need
// the opt-out service, which needs the decision, which needs this one.
import { createHash } from 'node:crypto'
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { diffFields } from '../lib/diff.js'
import { NotFoundError, UnprocessableError } from '../lib/errors.js'
import type { ListService } from '../lists/service.js'
import { findContactEnrollments, findCourseById, insertCourseIfAbsent, updateCourseRow, type CourseRow } from './queries.js'

export interface CourseInput {
  name: string
  category: string
  startsAt: Date
  endsAt: Date
}

/**
 * A slug for the course's list: readable, and unique because a short hash of
 * the course id ends it (two ids can slugify alike).
 */
export function courseListSlug(courseId: string): string {
  const readable = courseId.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40)
  const hash = createHash('sha256').update(courseId).digest('hex').slice(0, 8)
  return `course-${readable ? `${readable}-` : ''}${hash}`
}

export function createCourseService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  lists: Pick<ListService, 'createListIn' | 'courseList' | 'renameCourseList'>
}) {
  const { db, clock, audit, lists } = deps

  /** The course named by the course system's id, or course_not_found. */
  async function requireCourse(q: Queryable, id: string): Promise<CourseRow> {
    const course = await findCourseById(q, id)
    if (!course) throw new NotFoundError('Course', 'course_not_found')
    return course
  }

  const withList = async (q: Queryable, course: CourseRow) => ({ ...course, listId: (await lists.courseList(q, course.id)).id })

  return {
    requireCourse,

    /** Every enrollment of a contact with its course, oldest first. */
    enrollmentsOf: (q: Queryable, contactId: string) => findContactEnrollments(q, contactId),

    /** Creates or updates a course and its list; `created` says which. */
    upsertCourse(courseId: string, input: CourseInput, actor: Actor) {
      if (input.endsAt.getTime() <= input.startsAt.getTime()) {
        throw new UnprocessableError('course_ends_before_start', 'endsAt must be after startsAt')
      }
      return db.transaction(async (tx) => {
        const now = clock.now()
        const inserted = await insertCourseIfAbsent(tx, { id: courseId, ...input, createdAt: now, updatedAt: now })
        if (inserted) {
          await lists.createListIn(
            tx,
            { slug: courseListSlug(courseId), name: input.name, kind: 'course', purpose: 'course', courseId, description: `Course mail for ${input.name}` },
            actor,
          )
          await audit.record(tx, actor, now, { action: 'course.created', entityType: 'course', entityId: courseId, changes: diffFields({}, input) })
          return { course: await withList(tx, inserted), created: true }
        }
        const before = (await findCourseById(tx, courseId, true))!
        const changes = diffFields(before, input)
        if (Object.keys(changes).length === 0) return { course: await withList(tx, before), created: false }
        const after = await updateCourseRow(tx, courseId, { ...input, updatedAt: now })
        if (changes.name) await lists.renameCourseList(tx, courseId, input.name, actor)
        await audit.record(tx, actor, now, { action: 'course.updated', entityType: 'course', entityId: courseId, changes })
        return { course: await withList(tx, after), created: false }
      })
    },

    async getCourse(courseId: string) {
      return withList(db, await requireCourse(db, courseId))
    },
  }
}
export type CourseService = ReturnType<typeof createCourseService>
