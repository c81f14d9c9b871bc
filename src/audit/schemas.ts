import { Type } from 'typebox'
import { enumOf, Timestamp, Uuid } from '../lib/schemas.js'
import { Role } from '../vocabulary.js'

export const AuditEvent = Type.Object(
  {
    id: Uuid,
    actorId: Type.String(),
    actorName: Type.Union([Type.String(), Type.Null()]),
    actorRole: enumOf(Role),
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

export const AuditQuery = Type.Object(
  {
    entityType: Type.String({ pattern: '^[a-z_]{1,50}$', description: 'contact, list, course, enrollment, suppression, token_revocation…' }),
    entityId: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
)
