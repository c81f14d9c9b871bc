// The audit log: which staff member or client changed what, and when. Other
// services record inside their own transaction, so a change and its entry
// commit together or not at all. An entry names the fields that changed; the
// values, which are personal data, are kept beside it with the person they are
// about, where an erasure can redact them and leave the entry standing.
import type { Queryable } from '../../db/client.js'
import type { Actor } from '../lib/actor.js'
import type { FieldChange } from '../lib/diff.js'
import { findAuditEventsForEntity, insertAuditEvent } from './queries.js'

export interface AuditEntry {
  action: string
  entityType: string
  entityId: string
  /** What changed: field by field (from, to), or plain values of a new record. */
  changes?: Record<string, FieldChange | unknown>
  /** The contact whose personal data the values are, if any: erasure redacts by it. */
  subjectId?: string | null
}

export function createAuditService({ db }: { db: Queryable }) {
  return {
    /** Appends an entry in the caller's transaction. */
    async record(q: Queryable, actor: Actor, at: Date, entry: AuditEntry): Promise<void> {
      const changes = entry.changes && Object.keys(entry.changes).length > 0 ? entry.changes : null
      await insertAuditEvent(
        q,
        {
          actorId: actor.id,
          actorName: actor.name,
          actorRole: actor.role,
          action: entry.action,
          entityType: entry.entityType,
          entityId: entry.entityId,
          changedFields: changes ? Object.keys(changes) : [],
          occurredAt: at,
        },
        changes ? { contactId: entry.subjectId ?? null, changes: changes as Record<string, FieldChange> } : null,
      )
    },

    /** The trail of one entity, oldest first; `changes` is null once redacted. */
    async entityTrail(entityType: string, entityId: string) {
      const rows = await findAuditEventsForEntity(db, entityType, entityId)
      return rows.map(({ event, changes }) => ({ ...event, changes }))
    },
  }
}
export type AuditService = ReturnType<typeof createAuditService>
/** What other services use of the audit log. */
export type AuditRecorder = Pick<AuditService, 'record'>
