// JSON-schema pieces shared by every module's routes: ids, timestamps,
// pagination and the problem document. These are the OpenAPI spec too.
import { Type, type Static, type TSchema } from 'typebox'
import { ErrorCode } from './errors.js'

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
    type: Type.String({ description: 'about:blank: the status and the code say what happened' }),
    title: Type.String({ description: 'The HTTP status in words' }),
    status: Type.Integer(),
    code: enumOf(ErrorCode, { description: 'Stable, machine-readable: what to match on' }),
    detail: Type.Optional(Type.String({ description: 'What went wrong, for a person' })),
    instance: Type.Optional(Type.String({ description: 'The path of the request' })),
    requestId: Type.String({ description: 'Quote it when asking about the request: the log has the rest' }),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String({ description: 'e.g. body.email' }), message: Type.String() }), {
        description: 'Each field at fault (400)',
      }),
    ),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
)

/** What each error status means here, as the spec describes it. */
const ERROR_STATUS_TEXT: Record<number, string> = {
  400: 'The request is not valid; `errors` names the fields at fault',
  401: 'No valid bearer token (WWW-Authenticate says why)',
  403: 'The token’s role may not do this',
  404: 'Not found',
  409: 'Conflicts with what is stored',
  413: 'The body is larger than the limit',
  415: 'The body is not application/json',
  422: 'Well-formed, but the rules refuse it',
  429: 'Too many requests; Retry-After says when to come back',
}

/** A response entry for an error status: a problem document (RFC 9457). */
export const problemResponse = (status: number) =>
  Type.Unsafe({
    description: ERROR_STATUS_TEXT[status] ?? 'Problem details (RFC 9457)',
    content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
  })

/**
 * Response entries for the error statuses the route itself can answer (404,
 * 409, 422). Those every route of a kind can answer — 400 and 429 for all,
 * 401 and 403 with roles, 413 and 415 with a body — are added to each route
 * by the openapi plugin.
 */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, problemResponse(status)]))
}

/** A schema named by its $id (its name in the spec's components), referenced by that name, with what it is here. */
export function ref<T extends TSchema & { $id?: string }>(schema: T, description?: string) {
  if (!schema.$id) throw new Error('ref() needs a schema with an $id')
  return Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#`, ...(description ? { description } : {}) })
}

export const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'Opaque cursor from a previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
}

/** A named page of a named item schema. */
export function Page<T extends TSchema & { $id?: string }>(name: string, item: T) {
  return Type.Object(
    {
      items: Type.Array(ref(item)),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last' }),
    },
    { $id: name, description: `A page of ${item.$id} items, in order` },
  )
}

/** A named list (not paged) of a named item schema. */
export function ListOf<T extends TSchema & { $id?: string }>(name: string, item: T) {
  return Type.Object({ items: Type.Array(ref(item)) }, { $id: name, description: `Every ${item.$id}, in order` })
}

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })
