import { sql } from 'drizzle-orm'
import { bigserial, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { consentEventTypeEnum, consentSourceEnum, legalBasisEnum, localeEnum, roleEnum } from './enums.js'
import { contacts } from './contacts.js'
import { lists } from './lists.js'

/** The text a person saw when consenting, stored in full. Append-only (trigger). */
export const notices = pgTable(
  'notices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    key: text('key').notNull(),
    version: integer('version').notNull(),
    locale: localeEnum('locale').notNull(),
    text: text('text').notNull(),
    /** Hex SHA-256 of the UTF-8 text: proves the text was not altered later. */
    sha256: text('sha256').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('notices_key_version_key').on(t.key, t.version)],
)

/**
 * The consent ledger. Append-only: the database refuses DELETE, TRUNCATE and
 * every UPDATE but one, redaction — setting the personal columns (contact_id,
 * ip, user_agent, evidence) to null. The keyed address hash stays, so the
 * proof still names the address it was given for.
 */
export const consentEvents = pgTable(
  'consent_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    /** HMAC of the canonical address (as suppressions key it): the link to the person that outlives redaction. */
    addressHash: text('address_hash'),
    listId: uuid('list_id').references(() => lists.id),
    purpose: text('purpose').notNull(),
    type: consentEventTypeEnum('type').notNull(),
    basis: legalBasisEnum('basis').notNull(),
    source: consentSourceEnum('source').notNull(),
    noticeId: uuid('notice_id').references(() => notices.id),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /** Free text the actor gave as evidence (a form id, a ticket number). */
    evidence: text('evidence'),
    actorId: text('actor_id').notNull(),
    actorName: text('actor_name'),
    actorRole: roleEnum('actor_role'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('consent_events_contact_idx').on(t.contactId, t.seq),
    index('consent_events_contact_list_idx').on(t.contactId, t.listId, t.seq),
    index('consent_events_address_hash_idx').on(t.addressHash),
    // Objections are few among the events: an import asks, for a batch of people at once, which of them objected.
    index('consent_events_objected_hash_idx').on(t.addressHash).where(sql`${t.type} = 'objected'`),
    index('consent_events_objected_contact_idx').on(t.contactId).where(sql`${t.type} = 'objected'`),
  ],
)
