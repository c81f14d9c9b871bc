// Keyset pagination cursors: an opaque token for "after this (time, id)".
// Keyset rather than offset so a page stays right while rows are added.
import { ValidationError } from './errors.js'
import { isStorableDate, UUID_PATTERN } from './formats.js'

export interface Cursor {
  at: Date
  id: string
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`, 'utf8').toString('base64url')
}

/**
 * Decodes a cursor; a forged or foreign one is a 400, never a database error:
 * its time must be one the database stores, its id a UUID.
 */
export function decodeCursor(token: string | undefined): Cursor | undefined {
  if (token === undefined) return undefined
  const [at, id, ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('|')
  const date = at ? new Date(at) : undefined
  if (!date || !isStorableDate(date) || id === undefined || !UUID_PATTERN.test(id) || rest.length > 0) {
    throw new ValidationError([{ field: 'querystring.cursor', message: 'is not a cursor this service issued' }])
  }
  return { at: date, id }
}

/** Given limit+1 rows, returns the page and the cursor for the next one. */
export function toPage<T>(rows: T[], limit: number, key: (row: T) => Cursor) {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(key(last)) : null }
}

/** A cursor for a table paged in the order its rows were written (a sequence number). */
export function encodeSequenceCursor(seq: number): string {
  return Buffer.from(`seq|${seq}`, 'utf8').toString('base64url')
}

/** Decodes a sequence cursor; a forged or foreign one is a 400. */
export function decodeSequenceCursor(token: string | undefined): number | undefined {
  if (token === undefined) return undefined
  const match = /^seq\|(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
  if (!match) throw new ValidationError([{ field: 'querystring.cursor', message: 'is not a cursor this service issued' }])
  return Number(match[1])
}

/**
 * A `from` (inclusive) – `to` (exclusive) filter from the query. Both passed
 * the date-time format, so they name storable instants; `from` after `to` is a 400.
 */
export function timeRange(query: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const from = query.from === undefined ? undefined : new Date(query.from)
  const to = query.to === undefined ? undefined : new Date(query.to)
  if (from && to && from.getTime() > to.getTime()) {
    throw new ValidationError([{ field: 'querystring.from', message: 'is after `to`' }], 'invalid_range')
  }
  return { from, to }
}
