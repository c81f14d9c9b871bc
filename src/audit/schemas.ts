import { Type } from 'typebox'
import { enumOf, Page, PageQuery, Timestamp, TimestampInput, Uuid } from '../lib/schemas.js'
import { ActorRole } from '../vocabulary.js'

export const AuditEvent = Type.Object(
  {
    id: Uuid,
    actorId: Type.String(),
    actorName: Type.Union([Type.String(), Type.Null()]),
    actorRole: enumOf(ActorRole),
    action: Type.String({ description: 'What was done, e.g. contact.updated' }),
    entityType: Type.String(),
    entityId: Type.String(),
    changedFields: Type.Array(Type.String(), { description: 'The names of the fields that changed' }),
    changes: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description: 'The values of the change; null when there were none, or once an erasure redacted them',
    }),
    occurredAt: Timestamp,
  },
  { $id: 'AuditEvent' },
)

const auditFilters = {
  actorId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Who: the actor's subject, e.g. staff:kari-nordmann" })),
  action: Type.Optional(Type.String({ pattern: '^[a-z_]{1,50}\\.[a-z_]{1,50}$', description: 'What, e.g. contact.updated' })),
  from: Type.Optional(TimestampInput),
  to: Type.Optional(TimestampInput),
}

export const AuditQuery = Type.Object(
  {
    ...PageQuery,
    entityType: Type.Optional(Type.String({ pattern: '^[a-z_]{1,50}$', description: 'contact, list, course, enrollment, suppression, token_revocation…' })),
    entityId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    ...auditFilters,
  },
  { additionalProperties: false },
)

export const ContactAuditQuery = Type.Object({ ...PageQuery, ...auditFilters }, { additionalProperties: false })

export const AuditPage = Page('AuditPage', AuditEvent)

/** The named schemas of this module (the spec's components). */
export const auditSchemas = [AuditEvent, AuditPage]
