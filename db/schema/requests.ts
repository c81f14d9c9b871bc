import { sql } from 'drizzle-orm'
import { check, date, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'
import { requestChannelEnum, requestStatusEnum, requestTypeEnum, roleEnum } from './enums.js'

/**
 * Data-subject requests (GDPR art. 15–18, 20, 21; P8): what was asked, when it
 * was received and by when it must be answered, where it is, and how it ended.
 * Keyed by the contact when there is one, and always by the keyed address
 * hash, so a request about someone we hold nothing on, or someone since
 * erased, still names them. Erasure clears the free text (`details`,
 * `outcome`) and the contact; the dates, type and status stay as the proof
 * that the request was answered in time.
 */
export const dataSubjectRequests = pgTable(
  'data_subject_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    type: requestTypeEnum('type').notNull(),
    status: requestStatusEnum('status').notNull(),
    channel: requestChannelEnum('channel').notNull(),
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    addressHash: text('address_hash').notNull(),
    details: text('details'),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The last day to answer on, in Oslo, and the last instant of that day. */
    dueOn: date('due_on', { mode: 'string' }).notNull(),
    dueAt: timestamp('due_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** working_days (the 14th virkedag) or one_month (GDPR art. 12(3)), whichever came first. */
    dueLimit: text('due_limit').notNull(),
    /** When the daily check found it close to its due date and said so. */
    dueSoonAt: timestamp('due_soon_at', { withTimezone: true, mode: 'date' }),
    /**
     * A restriction request's suppression (suppressions.id). No foreign key:
     * the suppressions table is append-only and its TRUNCATE must meet the
     * trigger that refuses it, not a constraint.
     */
    restrictionId: uuid('restriction_id'),
    /** An erasure refused during an active enrollment and scheduled: carried out after this time (the course's end). */
    eraseAfter: timestamp('erase_after', { withTimezone: true, mode: 'date' }),
    outcome: text('outcome'),
    closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
    closedById: text('closed_by_id'),
    closedByName: text('closed_by_name'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdById: text('created_by_id').notNull(),
    createdByName: text('created_by_name'),
    createdByRole: roleEnum('created_by_role'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('data_subject_requests_open_due_idx').on(t.dueAt, t.id).where(sql`${t.closedAt} is null`),
    index('data_subject_requests_created_idx').on(t.createdAt, t.id),
    index('data_subject_requests_contact_idx').on(t.contactId),
    index('data_subject_requests_address_hash_idx').on(t.addressHash),
    index('data_subject_requests_erase_after_idx').on(t.eraseAfter).where(sql`${t.eraseAfter} is not null and ${t.closedAt} is null`),
    check('data_subject_requests_closed', sql`(${t.status} in ('completed', 'refused')) = (${t.closedAt} is not null)`),
    check('data_subject_requests_due_limit', sql`${t.dueLimit} in ('working_days', 'one_month')`),
  ],
)
