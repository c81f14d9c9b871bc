// Course-system API: courses and enrollments, both idempotent PUTs keyed by
// the course system's own ids.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { Course, CourseParams, Enrollment, EnrollmentParams, PutCourseBody, PutEnrollmentBody } from './schemas.js'
import { createdOrFound } from '../lib/http.js'

const tags = ['courses']

export const courseRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { courses, enrollments } = app.services

  app.put('/courses/:courseId', {
    config: { roles: Roles.courseSystem },
    schema: {
      operationId: 'putCourse',
      summary: 'Create or update a course and its course list (idempotent)',
      tags,
      params: CourseParams,
      body: ref(PutCourseBody),
      response: {
        201: ref(Course, 'The new course and its list; Location is its address'),
        200: ref(Course, 'The course as it is now'),
        ...errorResponses(422),
      },
    },
    handler: async (request, reply) => {
      const { startsAt, endsAt, ...rest } = request.body
      const input = { ...rest, startsAt: new Date(startsAt), endsAt: new Date(endsAt) }
      const { course, created } = await courses.upsertCourse(request.params.courseId, input, request.actor)
      return createdOrFound(reply, created, `/courses/${encodeURIComponent(course.id)}`, course)
    },
  })

  app.get('/courses/:courseId', {
    config: { roles: Roles.courseSystem },
    schema: { operationId: 'getCourse', summary: 'Get a course', tags, params: CourseParams, response: { 200: ref(Course, 'The course'), ...errorResponses(404) } },
    handler: async (request) => courses.getCourse(request.params.courseId),
  })

  app.put('/enrollments/:enrollmentId', {
    config: { roles: Roles.courseSystem },
    schema: {
      operationId: 'putEnrollment',
      summary: 'Create or update an enrollment (idempotent); finds or creates the contact by address',
      description:
        'Records the contract basis in the consent ledger and puts the person on the course list. ' +
        'A new contact is created with the given fields; of an existing contact only the empty fields are filled ' +
        '(audited as a rectification). A field that has a value is never overwritten or cleared here: staff ' +
        'rectify contacts with PATCH /v1/contacts/{id}. ' +
        'An enrollment is active while its status is active and its course has not ended. ' +
        'marketingOptOut: true is recorded as an objection to marketing.',
      tags,
      params: EnrollmentParams,
      body: ref(PutEnrollmentBody),
      response: {
        201: ref(Enrollment, 'The new enrollment; Location is its address'),
        200: ref(Enrollment, 'The enrollment as it is now'),
        ...errorResponses(404, 409),
      },
    },
    handler: async (request, reply) => {
      const { enrolledAt, ...rest } = request.body
      const input = { ...rest, enrolledAt: enrolledAt ? new Date(enrolledAt) : undefined }
      const { enrollment, created } = await enrollments.upsertEnrollment(request.params.enrollmentId, input, request.actor)
      return createdOrFound(reply, created, `/enrollments/${encodeURIComponent(enrollment.id)}`, enrollment)
    },
  })

  app.get('/enrollments/:enrollmentId', {
    config: { roles: Roles.courseSystem },
    schema: { operationId: 'getEnrollment', summary: 'Get an enrollment', tags, params: EnrollmentParams, response: { 200: ref(Enrollment, 'The enrollment'), ...errorResponses(404) } },
    handler: async (request) => enrollments.getEnrollment(request.params.enrollmentId),
  })
}
