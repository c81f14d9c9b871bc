import { Type } from 'typebox'
import { NullableString, NullableTimestamp, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'

export const TokenRevocation = Type.Object(
  {
    id: Uuid,
    jti: Type.Union([Type.String(), Type.Null()], { description: 'The one token revoked; null when a subject is' }),
    subject: Type.Union([Type.String(), Type.Null()], { description: 'Every token of this subject issued up to issuedUpTo is revoked' }),
    issuedUpTo: NullableTimestamp,
    reason: Type.String(),
    revokedAt: Timestamp,
    revokedById: Type.String(),
    revokedByName: NullableString,
  },
  { $id: 'TokenRevocation' },
)

const Reason = Type.String({ minLength: 3, maxLength: 1000, description: 'Why; kept with the revocation and in the audit log' })

export const RevokeTokenBody = Type.Union(
  [
    Type.Object(
      { jti: Type.String({ minLength: 1, maxLength: 200, description: 'The token id (its jti claim); `npm run token` prints it' }), reason: Reason },
      { additionalProperties: false },
    ),
    Type.Object(
      { subject: Type.String({ minLength: 1, maxLength: 200, description: 'Revoke every token of this subject (sub) issued until now' }), reason: Reason },
      { additionalProperties: false },
    ),
  ],
)

export const ListRevocationsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })
