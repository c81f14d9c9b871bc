import { sql } from 'drizzle-orm'
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'
import { blockReasonEnum, decisionOutcomeEnum, decisionStageEnum, evidenceTypeEnum, legalBasisEnum, messageKindEnum } from './enums.js'

/**
 * The send ledger: one row per decision taken on the send path, allowed or
 * blocked — when a message is queued, and again just before it is handed to
 * SMTP. The proof of why a message went out or did not. Append-only (trigger):
 * the one change allowed is `contact_id` set to null (erasure); the keyed
 * address hash stays. Delivery is work and lives elsewhere (db/schema/delivery.ts).
 */
export const sendLedger = pgTable(
  'send_ledger',
  {
    /** uuidv7, made by the service: time-ordered, so inserts append to the index. */
    id: uuid('id').primaryKey(),
    messageId: uuid('message_id').notNull(),
    stage: decisionStageEnum('stage').notNull(),
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
  },
  (t) => [
    // One decision when queued; at delivery one per attempt (each handover to SMTP is decided anew).
    uniqueIndex('send_ledger_message_enqueue_key').on(t.messageId).where(sql`${t.stage} = 'enqueue'`),
    index('send_ledger_message_idx').on(t.messageId, t.decidedAt),
    // A campaign decides once per recipient: a fan-out batch run twice fails instead of queueing anyone twice.
    uniqueIndex('send_ledger_campaign_recipient_key')
      .on(t.campaignId, t.addressHash)
      .where(sql`${t.campaignId} is not null and ${t.stage} = 'enqueue'`),
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
