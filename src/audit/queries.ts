// SQL for the audit log: append and read. The entries refuse every change; the
// personal values beside them allow only redaction (both by trigger).
import { and, asc, eq } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { auditEvents, auditPersonalValues } from '../../db/schema/index.js'

export type NewAuditEvent = typeof auditEvents.$inferInsert
export type NewAuditValues = Omit<typeof auditPersonalValues.$inferInsert, 'auditEventId'>

/** Appends one entry and, when it has any, the values of its changes. */
export async function insertAuditEvent(db: Queryable, event: NewAuditEvent, values: NewAuditValues | null): Promise<void> {
  const [row] = await db.insert(auditEvents).values(event).returning({ id: auditEvents.id })
  if (values) await db.insert(auditPersonalValues).values({ ...values, auditEventId: row!.id })
}

/** The audit trail of one entity, oldest first, with the values of each change (null once redacted). */
export async function findAuditEventsForEntity(db: Queryable, entityType: string, entityId: string) {
  return db
    .select({ event: auditEvents, changes: auditPersonalValues.changes })
    .from(auditEvents)
    .leftJoin(auditPersonalValues, eq(auditPersonalValues.auditEventId, auditEvents.id))
    .where(and(eq(auditEvents.entityType, entityType), eq(auditEvents.entityId, entityId)))
    .orderBy(asc(auditEvents.seq))
}
