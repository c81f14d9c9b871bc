import { sql } from 'drizzle-orm'
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { contacts } from './contacts.js'
import { roleEnum, suppressionReasonEnum, suppressionScopeEnum } from './enums.js'
import { lists } from './lists.js'

/**
 * Who must not be written to. Keyed by the contact and by a keyed hash of the
 * address (HMAC-SHA256 with the configured pepper), so a suppression outlives
 * the contact and an import cannot bring anyone back. Rows are never deleted;
 * lifting one sets `lifted_*`, with an audit event; erasure may set the
 * personal columns (contact_id, note) to null (trigger).
 */
export const suppressions = pgTable(
  'suppressions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    contactId: uuid('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    addressHash: text('address_hash').notNull(),
    scope: suppressionScopeEnum('scope').notNull(),
    reason: suppressionReasonEnum('reason').notNull(),
    listId: uuid('list_id').references(() => lists.id),
    purpose: text('purpose'),
    note: text('note'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    createdById: text('created_by_id').notNull(),
    createdByName: text('created_by_name'),
    createdByRole: roleEnum('created_by_role'),
    liftedAt: timestamp('lifted_at', { withTimezone: true, mode: 'date' }),
    liftedById: text('lifted_by_id'),
    liftedByName: text('lifted_by_name'),
    liftReason: text('lift_reason'),
  },
  (t) => [
    index('suppressions_address_hash_idx').on(t.addressHash),
    index('suppressions_contact_idx').on(t.contactId),
    index('suppressions_created_at_id_idx').on(t.createdAt, t.id),
    check('suppressions_list_scope', sql`(${t.scope} = 'list') = (${t.listId} is not null)`),
    check('suppressions_purpose_scope', sql`(${t.scope} = 'purpose') = (${t.purpose} is not null)`),
    check('suppressions_lift_reason', sql`${t.liftedAt} is null or ${t.liftReason} is not null`),
  ],
)
