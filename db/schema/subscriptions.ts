import { index, pgTable, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
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
  ],
)
