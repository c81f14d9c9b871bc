import { Type } from 'typebox'
import { NullableString, NullableTimestamp, Page, PageQuery, Timestamp, Uuid } from '../lib/schemas.js'

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
  {
    $id: 'RevocationRequest',
    description: 'One token by its jti, or every token of a subject issued until now',
    examples: [{ jti: '9f0c2b1e-7d4a-4c3b-8e2f-1a5d6c7b8e90', reason: 'Laptop stolen' }],
  },
)

export const ListRevocationsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const TokenRevocationPage = Page('TokenRevocationPage', TokenRevocation)

/** The named schemas of this module (the spec's components). */
export const tokenSchemas = [TokenRevocation, RevokeTokenBody, TokenRevocationPage]
