// SQL for the audit log: append and read, nothing else (the table refuses the rest).
import { and, asc, eq } from 'drizzle-orm'
import type { Queryable } from '../../db/client.js'
import { auditEvents } from '../../db/schema/index.js'

export type AuditEventRow = typeof auditEvents.$inferSelect
export type NewAuditEvent = typeof auditEvents.$inferInsert

/** Appends one audit event. */
export async function insertAuditEvent(db: Queryable, event: NewAuditEvent): Promise<void> {
  await db.insert(auditEvents).values(event)
}

/** The audit trail of one entity, oldest first. */
export async function findAuditEventsForEntity(db: Queryable, entityType: string, entityId: string): Promise<AuditEventRow[]> {
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.entityType, entityType), eq(auditEvents.entityId, entityId)))
    .orderBy(asc(auditEvents.seq))
}
