import { Type } from 'typebox'
import { LocaleSchema } from '../consent/schemas.js'
import { enumOf, NullableTimestamp, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { EnrollmentStatus } from '../vocabulary.js'

export const ExternalId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$', description: "The course system's own id" })

export const CourseParams = Type.Object({ courseId: ExternalId }, { additionalProperties: false })
export const EnrollmentParams = Type.Object({ enrollmentId: ExternalId }, { additionalProperties: false })

export const Course = Type.Object(
  {
    id: Type.String({ description: "The course system's own id" }),
    name: Type.String(),
    category: Type.String(),
    startsAt: Timestamp,
    endsAt: Timestamp,
    listId: Type.String({ format: 'uuid', description: 'The course list: course mail goes out on it' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Course' },
)

export const PutCourseBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    category: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Marketing lists name the categories they are about' }),
    startsAt: TimestampInput,
    endsAt: TimestampInput,
  },
  {
    $id: 'CourseInput',
    additionalProperties: false,
    examples: [{ name: 'Yoga for nybegynnere', category: 'yoga', startsAt: '2026-12-01T08:00:00Z', endsAt: '2027-02-01T16:00:00Z' }],
  },
)

export const EnrollmentStatusSchema = enumOf(EnrollmentStatus)

export const Enrollment = Type.Object(
  {
    id: Type.String({ description: "The course system's own id" }),
    courseId: Type.String(),
    contactId: Type.Union([Uuid, Type.Null()], { description: 'null once the person was erased: the enrollment stays as a sales record (P11)' }),
    paymentReference: Type.Union([Type.String(), Type.Null()], { description: 'The payment processor’s reference; removed once the withdrawal period has run out (P10)' }),
    status: EnrollmentStatusSchema,
    keepDataAfterCourse: Type.Boolean({ description: 'The person asked to keep their data until their next course' }),
    marketingOptOut: Type.Boolean(),
    enrolledAt: Timestamp,
    endedAt: NullableTimestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Enrollment' },
)

export const PutEnrollmentBody = Type.Object(
  {
    courseId: ExternalId,
    contact: Type.Object(
      {
        email: Type.String({ minLength: 3, maxLength: 320 }),
        name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
        phone: Type.Optional(Type.Union([Type.String({ maxLength: 50 }), Type.Null()])),
        address: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
        locale: Type.Optional(LocaleSchema),
      },
      { additionalProperties: false },
    ),
    status: EnrollmentStatusSchema,
    keepDataAfterCourse: Type.Optional(
      Type.Boolean({ description: 'The person asked to keep their data until their next course, rather than have it deleted when this one ends' }),
    ),
    marketingOptOut: Type.Boolean({
      description: 'The person was offered an opt-out from marketing when the address was collected; true: they took it (recorded as an objection)',
    }),
    enrolledAt: Type.Optional(TimestampInput),
    paymentReference: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'The payment processor’s reference for the purchase; kept until the withdrawal period has run out (P10)' }),
    ),
  },
  {
    $id: 'EnrollmentInput',
    additionalProperties: false,
    examples: [
      {
        courseId: 'YOGA-2026-1',
        contact: { email: 'kari@example.no', name: 'Kari Nordmann' },
        status: 'active',
        marketingOptOut: false,
        keepDataAfterCourse: false,
      },
    ],
  },
)

/** The named schemas of this module (the spec's components). */
export const courseSchemas = [Course, PutCourseBody, Enrollment, PutEnrollmentBody]
