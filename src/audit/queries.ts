// SQL for the audit log: append and read. The entries refuse every change; the
// personal values beside them allow only redaction (both by trigger).
import { randomUUID } from 'node:crypto'
import { and, asc, eq, exists, gt, gte, lt, or, sql, type SQL } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { auditEvents, auditPersonalValues } from '../../db/schema/index.js'

export type NewAuditEvent = typeof auditEvents.$inferInsert
export type NewAuditValues = Omit<typeof auditPersonalValues.$inferInsert, 'auditEventId'>

/**
 * Appends one entry and, when it has any, the values of its changes. The
 * entry's id is made here (a random UUID, as the column's default makes), so
 * nothing is read back. The values are written after the entry, never sent
 * with it: on the pool rather than a transaction the two would go out on
 * different connections, and the values' foreign key could find no entry yet.
 */
export async function insertAuditEvent(db: Queryable, event: NewAuditEvent, values: NewAuditValues | null): Promise<void> {
  const id = event.id ?? randomUUID()
  await db.insert(auditEvents).values({ ...event, id })
  if (values) await db.insert(auditPersonalValues).values({ ...values, auditEventId: id })
}

export interface AuditFilter {
  entityType?: string
  entityId?: string
  actorId?: string
  action?: string
  /** Entries about this contact: the contact itself, or with values about them. */
  contactId?: string
  from?: Date
  to?: Date
  /** Entries written after the one with this sequence number. */
  afterSeq?: number
  limit: number
}

/** Entries with personal values about this contact. */
function aboutContact(db: Queryable, contactId: string): SQL {
  return exists(
    db
      .select({ one: sql`1` })
      .from(auditPersonalValues)
      .where(and(eq(auditPersonalValues.auditEventId, auditEvents.id), eq(auditPersonalValues.contactId, contactId))),
  )
}

/**
 * A page of entries in the order they were written, each with the values of
 * its change (null once redacted); every filter optional. Served by
 * (entity_type, entity_id, seq), (actor_id, seq) and (seq).
 */
export async function findAuditEvents(db: Queryable, filter: AuditFilter) {
  return db
    .select({ event: auditEvents, changes: auditPersonalValues.changes })
    .from(auditEvents)
    .leftJoin(auditPersonalValues, eq(auditPersonalValues.auditEventId, auditEvents.id))
    .where(
      and(
        filter.entityType ? eq(auditEvents.entityType, filter.entityType) : undefined,
        filter.entityId ? eq(auditEvents.entityId, filter.entityId) : undefined,
        filter.actorId ? eq(auditEvents.actorId, filter.actorId) : undefined,
        filter.action ? eq(auditEvents.action, filter.action) : undefined,
        filter.contactId
          ? or(and(eq(auditEvents.entityType, 'contact'), eq(auditEvents.entityId, filter.contactId)), aboutContact(db, filter.contactId))
          : undefined,
        filter.from ? gte(auditEvents.occurredAt, filter.from) : undefined,
        filter.to ? lt(auditEvents.occurredAt, filter.to) : undefined,
        filter.afterSeq !== undefined ? gt(auditEvents.seq, filter.afterSeq) : undefined,
      ),
    )
    .orderBy(asc(auditEvents.seq))
    .limit(filter.limit)
}

/** Erasure: the values of every entry about the person are set to null; the entries (who did what, when, to which fields) stay. */
export async function redactValuesAbout(db: Queryable, contactId: string): Promise<number> {
  const rows = await db
    .update(auditPersonalValues)
    .set({ contactId: null, changes: null })
    .where(eq(auditPersonalValues.contactId, contactId))
    .returning({ id: auditPersonalValues.auditEventId })
  return rows.length
}
