// JSON-schema pieces shared by every module's routes: ids, timestamps,
// pagination and the problem document. These are the OpenAPI spec too.
import { Type, type TSchema } from 'typebox'

/** A closed set of src/vocabulary.ts as a JSON-schema string enum (one `enum`, so errors name the allowed values). */
export const enumOf = <T extends Record<string, string>>(set: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[keyof T]>({ type: 'string', enum: Object.values(set), ...options })

export const Uuid = Type.String({ format: 'uuid' })
/** A timestamp going out: services hand Dates, the serializer writes ISO 8601. */
export const Timestamp = Type.Unsafe<Date>({ type: 'string', format: 'date-time' })
export const NullableTimestamp = Type.Unsafe<Date | null>({ type: ['string', 'null'], format: 'date-time' })
/** A timestamp coming in, as ISO 8601 text. */
export const TimestampInput = Type.String({ format: 'date-time' })
export const NullableString = Type.Union([Type.String(), Type.Null()])

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable, machine-readable error code' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
)

// Errors go out as application/problem+json (RFC 9457), and the spec says so.
const problemResponse = Type.Unsafe({
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
})

/** Response entries for the error statuses a route can answer. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const all = new Set([400, 401, 403, 429, ...statuses])
  return Object.fromEntries([...all].sort().map((status) => [status, problemResponse]))
}

export const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'Opaque cursor from a previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
}

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last' }),
  })
}

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })
