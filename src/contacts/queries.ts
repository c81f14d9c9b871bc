// SQL for contacts. Unique violations on the email become ConflictError here, once.
import { and, asc, eq, ilike, inArray, or, sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { uniqueViolation } from '../../db/errors.js'
import { afterCursor } from '../../db/pagination.js'
import { contacts } from '../../db/schema/index.js'
import { ConflictError } from '../lib/errors.js'
import type { Cursor } from '../lib/pagination.js'

export type ContactRow = typeof contacts.$inferSelect
export type NewContact = typeof contacts.$inferInsert

function emailTaken(error: unknown): never {
  if (uniqueViolation(error) === 'contacts_email_lower_key') {
    throw new ConflictError('email_taken', 'A contact with this email address already exists')
  }
  throw error
}

/** Inserts a contact; a second contact with the same address (ignoring case) is a conflict. */
export async function insertContact(db: Queryable, contact: NewContact): Promise<ContactRow> {
  try {
    const [row] = await db.insert(contacts).values(contact).returning()
    return row!
  } catch (error) {
    emailTaken(error)
  }
}

/**
 * Inserts a contact unless the address is taken (ignoring case); returns
 * undefined then. ON CONFLICT, not a caught violation, so an open transaction survives.
 */
export async function insertContactIfAbsent(db: Queryable, contact: NewContact): Promise<ContactRow | undefined> {
  const [row] = await db.insert(contacts).values(contact).onConflictDoNothing().returning()
  return row
}

/** Updates the given fields of a contact and returns the new row. */
export async function updateContactRow(db: Queryable, id: string, patch: Partial<NewContact>): Promise<ContactRow> {
  try {
    const [row] = await db.update(contacts).set(patch).where(eq(contacts.id, id)).returning()
    return row!
  } catch (error) {
    emailTaken(error)
  }
}

/**
 * Holds these contacts shared until the transaction ends: a change to what a
 * person said (every opt-out and consent locks their contact row for update)
 * waits for it, and it waits for one in progress.
 */
export async function holdContacts(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return
  await db.select({ id: contacts.id }).from(contacts).where(inArray(contacts.id, ids)).orderBy(asc(contacts.id)).for('share')
}

export async function findContactById(db: Queryable, id: string): Promise<ContactRow | undefined> {
  const [row] = await db.select().from(contacts).where(eq(contacts.id, id))
  return row
}

/** Locks the contact row for the rest of the transaction (serialises changes to one person). */
export async function lockContactById(db: Queryable, id: string): Promise<ContactRow | undefined> {
  const [row] = await db.select().from(contacts).where(eq(contacts.id, id)).for('update')
  return row
}

/** Finds a contact by address, ignoring case (served by the lower(email) unique index). */
export async function findContactByEmail(db: Queryable, email: string): Promise<ContactRow | undefined> {
  const [row] = await db
    .select()
    .from(contacts)
    .where(sql`lower(${contacts.email}) = lower(${email})`)
  return row
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** A page of contacts in creation order, optionally by exact email or a text search. */
export async function listContactRows(
  db: Queryable,
  filter: { email?: string; q?: string; after?: Cursor; limit: number },
): Promise<ContactRow[]> {
  return db
    .select()
    .from(contacts)
    .where(
      and(
        filter.email ? sql`lower(${contacts.email}) = lower(${filter.email})` : undefined,
        filter.q ? or(ilike(contacts.email, likePattern(filter.q)), ilike(contacts.name, likePattern(filter.q))) : undefined,
        afterCursor(filter.after, contacts.createdAt, contacts.id),
      ),
    )
    .orderBy(asc(contacts.createdAt), asc(contacts.id))
    .limit(filter.limit)
}

/** The contacts with these ids. */
export async function findContactsByIds(db: Queryable, ids: string[]): Promise<ContactRow[]> {
  if (ids.length === 0) return []
  return db.select().from(contacts).where(inArray(contacts.id, ids))
}

/** Deletes the contact row (erasure); the rows that name it set their contact to null (foreign keys). */
export async function deleteContact(db: Queryable, id: string): Promise<boolean> {
  const deleted = await db.delete(contacts).where(eq(contacts.id, id)).returning({ id: contacts.id })
  return deleted.length > 0
}

/**
 * Of these addresses (stored form), those a contact has, ignoring case: each
 * address as given with its contact's id. With `hold`, the contacts are held
 * (FOR KEY SHARE) until the transaction ends, so a change to what one of them
 * said (which locks the contact for update) waits for it. One statement for a
 * whole batch: the addresses travel as one JSON parameter, served by the
 * lower(email) unique index.
 */
export async function findContactIdsByEmails(db: Queryable, emails: string[], hold: boolean): Promise<{ email: string; id: string }[]> {
  if (emails.length === 0) return []
  return selectRows(
    db,
    sql`select x.email, c.id from json_array_elements_text(${JSON.stringify(emails)}::json) as x(email)
        join contacts c on lower(c.email) = lower(x.email) ${hold ? sql`for key share of c` : sql``}`,
  )
}

/**
 * Inserts a contact for each address (stored form, each once) that none has,
 * in one statement; returns those inserted. The ids are the caller's
 * (time-ordered: a large batch lands at the end of the primary key's index). An address taken meanwhile
 * (ignoring case) is skipped by ON CONFLICT, so an open transaction survives.
 */
export async function insertContactsIfAbsent(
  db: Queryable,
  rows: { id: string; email: string; name: string | null }[],
  at: Date,
): Promise<{ email: string; id: string }[]> {
  if (rows.length === 0) return []
  return selectRows(
    db,
    sql`insert into contacts (id, email, name, created_at, updated_at)
        select x.id, x.email, x.name, ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz
        from json_to_recordset(${JSON.stringify(rows)}::json) as x(id uuid, email text, name text)
        on conflict do nothing
        returning email, id`,
  )
}
