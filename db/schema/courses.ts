import { sql } from 'drizzle-orm'
import { boolean, check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'
import { enrollmentStatusEnum } from './enums.js'

/** Courses as the course system knows them; `id` is the course system's own id. */
export const courses = pgTable(
  'courses',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    category: text('category').notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true, mode: 'date' }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [check('courses_ends_after_start', sql`${t.endsAt} > ${t.startsAt}`)],
)

/** A person's place on a course: the contract that course mail stands on. */
export const enrollments = pgTable(
  'enrollments',
  {
    id: text('id').primaryKey(),
    courseId: text('course_id').notNull().references(() => courses.id),
    /** Null once the person was erased: the enrollment stays as a sales record (P11), keyed by `addressHash`. */
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    /** Set when the person is erased: the keyed hash that still names the buyer in the sales record. */
    addressHash: text('address_hash'),
    /** The payment processor's reference for the purchase (P10): removed once the withdrawal period has run out. */
    paymentReference: text('payment_reference'),
    status: enrollmentStatusEnum('status').notNull(),
    /** P1: the person asked us to keep their data until their next course. */
    keepDataAfterCourse: boolean('keep_data_after_course').notNull().default(false),
    /** Declined marketing when the address was collected (recorded as an objection too). */
    marketingOptOut: boolean('marketing_opt_out').notNull(),
    /** The purchase: the existing-customer window counts from here. */
    enrolledAt: timestamp('enrolled_at', { withTimezone: true, mode: 'date' }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('enrollments_contact_idx').on(t.contactId),
    index('enrollments_course_idx').on(t.courseId, t.status),
    index('enrollments_payment_reference_idx').on(t.enrolledAt).where(sql`${t.paymentReference} is not null`),
    check('enrollments_person', sql`${t.contactId} is not null or ${t.addressHash} is not null`),
  ],
)
