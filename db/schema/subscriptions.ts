import { sql } from 'drizzle-orm'
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { consentSourceEnum, subscriptionStatusEnum } from './enums.js'
import { contacts } from './contacts.js'
import { lists } from './lists.js'

/**
 * The current state of a contact on a list: a projection of the consent
 * ledger, changed only in the same transaction as the event that explains it.
 */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    listId: uuid('list_id').notNull().references(() => lists.id),
    status: subscriptionStatusEnum('status').notNull(),
    source: consentSourceEnum('source').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true, mode: 'date' }),
    unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('subscriptions_contact_list_key').on(t.contactId, t.listId),
    index('subscriptions_list_status_idx').on(t.listId, t.status, t.createdAt, t.id),
    // A list's members in creation order without a status filter: the page is read off this index, not sorted.
    index('subscriptions_list_created_idx').on(t.listId, t.createdAt, t.id),
    // A campaign's fan-out walks a list's members in contact order (keyset batches).
    index('subscriptions_list_contact_idx').on(t.listId, t.contactId),
  ],
)

/**
 * An opt-out from a course list asked for while the person was enrolled (P3):
 * refused for now, kept, and carried out when the enrollment ends. Owned by
 * the subscriptions module, like the subscriptions it changes.
 */
export const deferredUnsubscribes = pgTable(
  'deferred_unsubscribes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    contactId: uuid('contact_id').notNull().references(() => contacts.id),
    listId: uuid('list_id').notNull().references(() => lists.id),
    source: consentSourceEnum('source').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }).notNull(),
    requestedById: text('requested_by_id').notNull(),
    appliedAt: timestamp('applied_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // One open wish per person and list: asking twice is one wish.
    uniqueIndex('deferred_unsubscribes_open_key').on(t.contactId, t.listId).where(sql`${t.appliedAt} is null`),
    // The sweep pages through the open wishes in this order.
    index('deferred_unsubscribes_open_idx').on(t.requestedAt, t.id).where(sql`${t.appliedAt} is null`),
  ],
)
