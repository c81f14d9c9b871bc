// SQL for messages and for the answers given to idempotency keys. Both are
// written once (triggers); erasure alone may clear a message's personal columns.
import { and, asc, eq, inArray, isNotNull, lt, or } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { messages, sendRequests } from '../../db/schema/index.js'

export type MessageRow = typeof messages.$inferSelect
export type NewMessageRow = typeof messages.$inferInsert
export type SendRequestRow = typeof sendRequests.$inferSelect

export async function insertMessage(db: Queryable, row: NewMessageRow): Promise<MessageRow> {
  const [inserted] = await db.insert(messages).values(row).returning()
  return inserted!
}

export async function findMessageById(db: Queryable, id: string): Promise<MessageRow | undefined> {
  const [row] = await db.select().from(messages).where(eq(messages.id, id))
  return row
}

/** Every message to a contact, oldest first (the access export). */
export async function findMessagesOfContact(db: Queryable, contactId: string): Promise<MessageRow[]> {
  return db.select().from(messages).where(eq(messages.contactId, contactId)).orderBy(asc(messages.createdAt), asc(messages.id))
}

export async function findMessagesByIds(db: Queryable, ids: string[]): Promise<MessageRow[]> {
  if (ids.length === 0) return []
  return db.select().from(messages).where(inArray(messages.id, ids))
}

export async function findSendRequest(db: Queryable, clientId: string, idempotencyKey: string): Promise<SendRequestRow | undefined> {
  const [row] = await db
    .select()
    .from(sendRequests)
    .where(and(eq(sendRequests.clientId, clientId), eq(sendRequests.idempotencyKey, idempotencyKey)))
  return row
}

/**
 * Records the answer to a key; undefined when the key was answered first by
 * another request (which waited on this row's lock, then found it taken).
 */
export async function insertSendRequest(db: Queryable, row: SendRequestRow): Promise<SendRequestRow | undefined> {
  const [inserted] = await db.insert(sendRequests).values(row).onConflictDoNothing().returning()
  return inserted
}

/** Erasure: the messages keep their kind, template, list and the keyed address hash; the address and the values go. Returns their ids. */
export async function redactMessagesOf(db: Queryable, contactId: string): Promise<string[]> {
  const rows = await db
    .update(messages)
    .set({ contactId: null, toAddress: null, data: null })
    .where(eq(messages.contactId, contactId))
    .returning({ id: messages.id })
  return rows.map((r) => r.id)
}

/** Retention: messages made before `cutoff` lose the contact, the address and the values. Returns how many. */
export async function redactMessagesBefore(db: Queryable, cutoff: Date): Promise<number> {
  const rows = await db
    .update(messages)
    .set({ contactId: null, toAddress: null, data: null })
    .where(and(lt(messages.createdAt, cutoff), or(isNotNull(messages.contactId), isNotNull(messages.toAddress), isNotNull(messages.data))))
    .returning({ id: messages.id })
  return rows.length
}
