import { sql } from 'drizzle-orm'
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { returnEffectEnum, returnOutcomeEnum } from './enums.js'

/**
 * Every report that came back about a message (a bounce, a complaint, a
 * delivery), from whichever way in: what it was, what it did, and what it
 * was about, by ids and the keyed address hash only — never the report's own
 * text, which quotes the address. A report's key at its reporter is unique,
 * so the same report twice is one row and changes nothing the second time.
 * Rejected reports (forged, unmatched, unreadable) are kept as well, for
 * inspection, and deleted after RETURN_REJECTED_KEEP_DAYS.
 */
export const returnReports = pgTable(
  'return_reports',
  {
    /** uuidv7. */
    id: uuid('id').primaryKey(),
    /** How it reached us: dsn, arf, ses, postmark, sendgrid, smtp, relay. */
    channel: text('channel').notNull(),
    /** SHA-256 of the reporter's own key for the report (which may hold an address). */
    reportKeyHash: text('report_key_hash').notNull(),
    outcome: returnOutcomeEnum('outcome').notNull(),
    /** Why it was rejected: a stable code (report_unmatched, report_signature_invalid…). */
    rejection: text('rejection'),
    /** What it did by the return rules; null when rejected. */
    effect: returnEffectEnum('effect'),
    /** bounce, complaint or delivered. */
    reportType: text('report_type'),
    /** The enhanced status code (5.1.1), and the provider's own classification, if any. */
    status: text('status'),
    providerType: text('provider_type'),
    messageId: uuid('message_id'),
    campaignId: uuid('campaign_id'),
    addressHash: text('address_hash'),
    /** When the reporter says it happened (else when it arrived). */
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    uniqueIndex('return_reports_key_idx').on(t.channel, t.reportKeyHash),
    // The soft-bounce rule reads one address's recent reports.
    index('return_reports_address_idx').on(t.addressHash, t.occurredAt).where(sql`${t.addressHash} is not null`),
    index('return_reports_message_idx').on(t.messageId).where(sql`${t.messageId} is not null`),
    // Daily rates, and the sweep of old rejected reports.
    index('return_reports_received_idx').on(t.receivedAt, t.outcome),
  ],
)
