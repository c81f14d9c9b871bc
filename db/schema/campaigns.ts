import { sql } from 'drizzle-orm'
import { check, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { campaignPauseReasonEnum, campaignStatusEnum, roleEnum } from './enums.js'
import { lists } from './lists.js'
import { templates } from './templates.js'

/**
 * One message from one template version to every member of one list. The
 * campaign row holds its state and its fan-out's progress; each recipient's
 * decision is a send-ledger row, and each allowed one a message in the queue,
 * so progress is per recipient, never a moving checkpoint.
 */
export const campaigns = pgTable(
  'campaigns',
  {
    /** uuidv7. */
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    listId: uuid('list_id')
      .notNull()
      .references(() => lists.id),
    templateId: uuid('template_id')
      .notNull()
      .references(() => templates.id),
    /** Values every recipient's message is filled with (beside the service's own). */
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    status: campaignStatusEnum('status').notNull(),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true, mode: 'date' }),
    /** The send-by deadline: nothing leaves after it; what is left is expired. */
    notAfter: timestamp('not_after', { withTimezone: true, mode: 'date' }),
    /**
     * The fan-out's place: the last member (contact id) of the last round
     * whose decisions are all in the ledger. Moves after them (a round's
     * batches commit side by side), so a crash may run a round again, whose
     * batches skip whom the campaign decided: no one twice, no one skipped.
     */
    fanoutAfter: uuid('fanout_after'),
    fanoutDoneAt: timestamp('fanout_done_at', { withTimezone: true, mode: 'date' }),
    /** Which worker fans out, until when: one at a time, taken over when a worker dies. */
    fanoutOwner: text('fanout_owner'),
    fanoutLeaseUntil: timestamp('fanout_lease_until', { withTimezone: true, mode: 'date' }),
    /** Why it paused itself (complaint or bounce rate over the providers' limits); null when staff paused it, or it is not paused. */
    pausedReason: campaignPauseReasonEnum('paused_reason'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdById: text('created_by_id').notNull(),
    createdByName: text('created_by_name'),
    createdByRole: roleEnum('created_by_role').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('campaigns_created_at_id_idx').on(t.createdAt, t.id),
    // The worker looks for campaigns to fan out, and the scheduler for campaigns due to start.
    index('campaigns_status_idx').on(t.status, t.scheduledAt),
    check('campaigns_name_length', sql`length(${t.name}) between 1 and 200`),
    check('campaigns_scheduled', sql`${t.status} <> 'scheduled' or ${t.scheduledAt} is not null`),
  ],
)
