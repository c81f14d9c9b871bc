// The audit log: which staff member or client changed what, and when.
// Other services call recordAudit inside their own transaction, so a change
// and its audit entry commit together or not at all.
import type { Queryable } from '../../db/client.js'
import type { Actor } from '../lib/actor.js'
import { findAuditEventsForEntity, insertAuditEvent } from './queries.js'

export interface AuditEntry {
  action: string
  entityType: string
  entityId: string
  changes?: Record<string, unknown>
}

export async function recordAudit(db: Queryable, actor: Actor, at: Date, entry: AuditEntry): Promise<void> {
  await insertAuditEvent(db, {
    actorId: actor.id,
    actorName: actor.name,
    actorRole: actor.role,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    changes: entry.changes ?? null,
    occurredAt: at,
  })
}

/** Field-by-field difference between two versions of a record, for the audit log. */
export function diffFields(before: object, after: object): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {}
  const old = before as Record<string, unknown>
  for (const [field, value] of Object.entries(after)) {
    if (value === undefined) continue
    if (JSON.stringify(old[field]) !== JSON.stringify(value)) changes[field] = { from: old[field] ?? null, to: value }
  }
  return changes
}

export function createAuditService({ db }: { db: Queryable }) {
  return {
    listEntityAudit: (entityType: string, entityId: string) => findAuditEventsForEntity(db, entityType, entityId),
  }
}
export type AuditService = ReturnType<typeof createAuditService>
