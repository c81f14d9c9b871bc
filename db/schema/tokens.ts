import { sql } from 'drizzle-orm'
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { roleEnum } from './enums.js'

/**
 * Revoked bearer tokens: one token by its `jti`, or every token of a subject
 * issued up to a moment. Every request's token is checked against this table,
 * so a revocation holds on every instance at once. Append-only (trigger).
 */
export const tokenRevocations = pgTable(
  'token_revocations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jti: text('jti'),
    subject: text('subject'),
    /** With `subject`: tokens of that subject issued at or before this time are revoked. */
    issuedUpTo: timestamp('issued_up_to', { withTimezone: true, mode: 'date' }),
    reason: text('reason').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedById: text('revoked_by_id').notNull(),
    revokedByName: text('revoked_by_name'),
    revokedByRole: roleEnum('revoked_by_role'),
  },
  (t) => [
    uniqueIndex('token_revocations_jti_key').on(t.jti),
    index('token_revocations_subject_idx').on(t.subject, t.issuedUpTo),
    index('token_revocations_revoked_at_id_idx').on(t.revokedAt, t.id),
    check(
      'token_revocations_one_target',
      sql`(${t.jti} is not null and ${t.subject} is null and ${t.issuedUpTo} is null)
       or (${t.jti} is null and ${t.subject} is not null and ${t.issuedUpTo} is not null)`,
    ),
  ],
)
