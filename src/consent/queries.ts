// SQL for the consent ledger and notices. Inserts and reads only: the
// database refuses updates and deletes of both tables.
import { and, asc, desc, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm'
import { selectRows, type Queryable } from '../../db/client.js'
import { consentEvents, notices } from '../../db/schema/index.js'

export type ConsentEventRow = typeof consentEvents.$inferSelect
export type NewConsentEvent = typeof consentEvents.$inferInsert
export type NoticeRow = typeof notices.$inferSelect
export type NewNotice = typeof notices.$inferInsert

/** Appends one event to the consent ledger. */
export async function insertConsentEvent(db: Queryable, event: NewConsentEvent): Promise<ConsentEventRow> {
  const [row] = await db.insert(consentEvents).values(event).returning()
  return row!
}

/**
 * Appends many events in one statement (an import's batch): the rows travel
 * as one JSON parameter rather than a parameter per column per row. The ids
 * are the caller's (time-ordered: the batch lands at the end of the index).
 */
export async function insertConsentEvents(
  db: Queryable,
  events: (Omit<NewConsentEvent, 'actorId' | 'actorName' | 'actorRole'> & { addressHash: string; occurredAt: Date })[],
  ids: string[],
  actor: { id: string; name: string | null; role: NewConsentEvent['actorRole'] },
): Promise<void> {
  if (events.length === 0) return
  // One object per row, its id first; JSON writes the Dates as ISO 8601. The actor is the same for all: a parameter.
  const rows = JSON.stringify(events.map((e, i) => Object.assign({ id: ids[i] }, e)))
  await db.execute(sql`
    insert into consent_events (id, contact_id, address_hash, list_id, purpose, type, basis, source, notice_id, ip, user_agent, evidence, actor_id, actor_name, actor_role, occurred_at)
    select x.id, x."contactId", x."addressHash", x."listId", x.purpose, x.type, x.basis, x.source, x."noticeId", x.ip, x."userAgent", x.evidence,
           ${actor.id}, ${actor.name}, ${actor.role ?? null}::actor_role, x."occurredAt"
    from json_to_recordset(${rows}::json) as x(
      id uuid, "contactId" uuid, "addressHash" text, "listId" uuid, purpose text, type consent_event_type, basis legal_basis, source consent_source,
      "noticeId" uuid, ip text, "userAgent" text, evidence text, "occurredAt" timestamptz)`)
}

/** A PostgreSQL array literal of values that need no quoting (hex hashes, UUIDs). */
const plainArray = (values: string[]) => `{${values.join(',')}}`

/**
 * Of these people (by keyed address hash or contact), those the ledger holds
 * an objection of — the hash outlives an erased contact. One statement for a
 * batch; `= any(array)` is an index condition on the partial indexes of
 * objections, which stay small however long the ledger grows.
 */
export async function findObjectors(db: Queryable, addressHashes: string[], contactIds: string[]): Promise<{ addressHash: string | null; contactId: string | null }[]> {
  if (addressHashes.length === 0 && contactIds.length === 0) return []
  return selectRows(
    db,
    sql`select address_hash as "addressHash", contact_id as "contactId" from consent_events
          where type = 'objected' and address_hash = any(${plainArray(addressHashes)}::text[])
        union
        select address_hash, contact_id from consent_events
          where type = 'objected' and contact_id = any(${plainArray(contactIds)}::uuid[])`,
  )
}

/** A contact's whole consent history, oldest first, with the notice each event names. */
export async function findConsentHistory(db: Queryable, contactId: string) {
  return db
    .select({ event: consentEvents, notice: { id: notices.id, key: notices.key, version: notices.version, sha256: notices.sha256 } })
    .from(consentEvents)
    .leftJoin(notices, eq(notices.id, consentEvents.noticeId))
    .where(eq(consentEvents.contactId, contactId))
    .orderBy(asc(consentEvents.seq))
}

/** Every consent event of a contact, oldest first: what the decision reads about them. */
export async function findContactConsentEvents(db: Queryable, contactId: string): Promise<ConsentEventRow[]> {
  return db.select().from(consentEvents).where(eq(consentEvents.contactId, contactId)).orderBy(asc(consentEvents.seq))
}

/** The contact's consent grants (basis consent, to a list) made after this time, oldest first. */
export async function findConsentGrantsSince(db: Queryable, contactId: string, since: Date): Promise<ConsentEventRow[]> {
  return db
    .select()
    .from(consentEvents)
    .where(
      and(
        eq(consentEvents.contactId, contactId),
        eq(consentEvents.type, 'granted'),
        eq(consentEvents.basis, 'consent'),
        isNotNull(consentEvents.listId),
        gt(consentEvents.occurredAt, since),
      ),
    )
    .orderBy(asc(consentEvents.seq))
}

/** The contact's latest consent grant (basis consent) to one list, if any. */
export async function findLatestGrantToList(db: Queryable, contactId: string, listId: string): Promise<ConsentEventRow | undefined> {
  const [row] = await db
    .select()
    .from(consentEvents)
    .where(
      and(
        eq(consentEvents.contactId, contactId),
        eq(consentEvents.listId, listId),
        eq(consentEvents.type, 'granted'),
        eq(consentEvents.basis, 'consent'),
      ),
    )
    .orderBy(desc(consentEvents.seq))
    .limit(1)
  return row
}

/** The consent grants (basis consent, to a list) of these contacts, oldest first. */
export async function findConsentGrantsOfContacts(db: Queryable, contactIds: string[]): Promise<ConsentEventRow[]> {
  if (contactIds.length === 0) return []
  return db
    .select()
    .from(consentEvents)
    .where(
      and(
        inArray(consentEvents.contactId, contactIds),
        eq(consentEvents.type, 'granted'),
        eq(consentEvents.basis, 'consent'),
        isNotNull(consentEvents.listId),
      ),
    )
    .orderBy(asc(consentEvents.seq))
}

/** Inserts a notice; returns undefined when that key and version exist already. */
// ON CONFLICT rather than catching the violation: inside a transaction a failed
// statement would abort everything after it.
export async function insertNotice(db: Queryable, notice: NewNotice): Promise<NoticeRow | undefined> {
  const [row] = await db.insert(notices).values(notice).onConflictDoNothing({ target: [notices.key, notices.version] }).returning()
  return row
}

export async function findNoticeById(db: Queryable, id: string): Promise<NoticeRow | undefined> {
  const [row] = await db.select().from(notices).where(eq(notices.id, id))
  return row
}

/** The notices with these ids (those a person's consent events name). */
export async function findNoticesByIds(db: Queryable, ids: string[]): Promise<NoticeRow[]> {
  if (ids.length === 0) return []
  return db.select().from(notices).where(inArray(notices.id, ids))
}

export async function findNoticeByKeyVersion(db: Queryable, key: string, version: number): Promise<NoticeRow | undefined> {
  const [row] = await db.select().from(notices).where(and(eq(notices.key, key), eq(notices.version, version)))
  return row
}

/** Every version of one notice, oldest first. */
export async function findNoticeVersions(db: Queryable, key: string): Promise<NoticeRow[]> {
  return db.select().from(notices).where(eq(notices.key, key)).orderBy(asc(notices.version))
}

/** Erasure: the events keep what proof needs (type, purpose, basis, source, time, the keyed address hash); the rest is set to null. */
export async function redactConsentEventsOf(db: Queryable, contactId: string): Promise<number> {
  const rows = await db
    .update(consentEvents)
    .set({ contactId: null, ip: null, userAgent: null, evidence: null })
    .where(eq(consentEvents.contactId, contactId))
    .returning({ id: consentEvents.id })
  return rows.length
}
