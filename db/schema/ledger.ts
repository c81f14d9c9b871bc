import { sql } from 'drizzle-orm'
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'
import { blockReasonEnum, decisionOutcomeEnum, deliveryStatusEnum, evidenceTypeEnum, legalBasisEnum, messageKindEnum } from './enums.js'

/**
 * The send ledger: one row per decision taken on the send path, allowed or
 * blocked. The decision columns are immutable (trigger); only the delivery
 * columns move, because the ledger is also the delivery queue. `contact_id`
 * may only become null (erasure), never name someone else.
 */
export const sendLedger = pgTable(
  'send_ledger',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    messageId: text('message_id').notNull(),
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    addressHash: text('address_hash').notNull(),
    kind: messageKindEnum('kind').notNull(),
    listId: uuid('list_id'),
    courseId: text('course_id'),
    campaignId: uuid('campaign_id'),
    templateVersion: text('template_version'),
    decision: decisionOutcomeEnum('decision').notNull(),
    basis: legalBasisEnum('basis'),
    evidenceType: evidenceTypeEnum('evidence_type'),
    evidenceId: text('evidence_id'),
    reason: blockReasonEnum('reason'),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }).notNull(),
    deliveryStatus: deliveryStatusEnum('delivery_status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('send_ledger_message_id_key').on(t.messageId),
    index('send_ledger_contact_idx').on(t.contactId, t.decidedAt, t.id),
    index('send_ledger_campaign_idx').on(t.campaignId, t.decidedAt, t.id),
    index('send_ledger_list_idx').on(t.listId, t.decidedAt, t.id),
    index('send_ledger_decided_at_idx').on(t.decidedAt, t.id),
    check(
      'send_ledger_decision_shape',
      sql`(${t.decision} = 'allowed' and ${t.basis} is not null and ${t.evidenceId} is not null and ${t.reason} is null)
       or (${t.decision} = 'blocked' and ${t.reason} is not null and ${t.basis} is null)`,
    ),
  ],
)
