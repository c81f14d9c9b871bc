// The audit log: which staff member or client changed what, and when. Other
// services record inside their own transaction, so a change and its entry
// commit together or not at all. An entry names the fields that changed; the
// values, which are personal data, are kept beside it with the person they are
// about, where an erasure can redact them and leave the entry standing.
import type { Queryable } from '../../db/client.js'
import type { Actor } from '../lib/actor.js'
import type { FieldChange } from '../lib/diff.js'
import { decodeSequenceCursor, encodeSequenceCursor, timeRange } from '../lib/pagination.js'
import { findAuditEvents, insertAuditEvent, redactValuesAbout } from './queries.js'

export interface AuditEntry {
  action: string
  entityType: string
  entityId: string
  /** What changed: field by field (from, to), or plain values of a new record. */
  changes?: Record<string, FieldChange | unknown>
  /** The contact whose personal data the values are, if any: erasure redacts by it. */
  subjectId?: string | null
}

export interface AuditQuery {
  entityType?: string
  entityId?: string
  actorId?: string
  action?: string
  contactId?: string
  /** occurredAt at or after this time. */
  from?: string
  /** occurredAt before this time. */
  to?: string
  cursor?: string
  limit?: number
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

    /** When the contact with this id was erased, if it was (its contact.erased entry). */
    async erasureOf(q: Queryable, contactId: string): Promise<Date | null> {
      const [row] = await findAuditEvents(q, { entityType: 'contact', entityId: contactId, action: 'contact.erased', limit: 1 })
      return row?.event.occurredAt ?? null
    },

    /** Erasure: the values of every entry about the person go; the entries stay. */
    redactAbout: (tx: Queryable, contactId: string) => redactValuesAbout(tx, contactId),

    /** Every entry about a contact (the contact itself and every change about them), oldest first: the access export. */
    async entriesAbout(q: Queryable, contactId: string) {
      const entries: (Awaited<ReturnType<typeof findAuditEvents>>[number]['event'] & { changes: Record<string, FieldChange> | null })[] = []
      for (let afterSeq: number | undefined; ; ) {
        const rows = await findAuditEvents(q, { contactId, afterSeq, limit: 1000 })
        entries.push(...rows.map(({ event, changes }) => ({ ...event, changes })))
        if (rows.length < 1000) return entries
        afterSeq = rows.at(-1)!.event.seq
      }
    },

    /** A page of entries in the order they were written, filtered; `changes` is null once redacted. */
    async listAudit(query: AuditQuery) {
      const { from, to } = timeRange(query)
      const limit = query.limit ?? 50
      const rows = await findAuditEvents(db, { ...query, from, to, afterSeq: decodeSequenceCursor(query.cursor), limit: limit + 1 })
      const items = rows.slice(0, limit).map(({ event, changes }) => ({ ...event, changes }))
      return { items, nextCursor: rows.length > limit ? encodeSequenceCursor(items.at(-1)!.seq) : null }
    },
  }
}
export type AuditService = ReturnType<typeof createAuditService>
/** What other services use of the audit log. */
export type AuditRecorder = Pick<AuditService, 'record'>
