// What the JSON-schema formats `uuid` and `date-time` mean in this service.
// ajv-formats follows the RFCs, which admit values PostgreSQL or JavaScript
// then refuse: `urn:uuid:…`, a leap second (23:59:60), the year 0000. Here a
// value passes its format only when the database stores it and JavaScript
// reads it back as the same thing, so no valid request can fail deeper down.
import type { Ajv } from 'ajv'
import { fullFormats } from 'ajv-formats/dist/formats.js'

/** A UUID as PostgreSQL's uuid type and every client write it: 8-4-4-4-12 hex digits, nothing around it. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The instants this service stores. Before 1900 PostgreSQL writes local-mean-
 * time offsets and two-digit years that JavaScript misreads; after 9999
 * neither side writes four-digit years. No course, consent or send is outside.
 */
export const EARLIEST_TIMESTAMP = new Date('1900-01-01T00:00:00.000Z')
export const LATEST_TIMESTAMP = new Date('9999-12-31T23:59:59.999Z')

/** A Date this service can store and read back unchanged. */
export function isStorableDate(date: Date): boolean {
  const time = date.getTime()
  return !Number.isNaN(time) && time >= EARLIEST_TIMESTAMP.getTime() && time <= LATEST_TIMESTAMP.getTime()
}

const rfc3339DateTime = fullFormats['date-time'] as { validate: (text: string) => boolean }

/** An RFC 3339 date-time that names one real, storable instant (no leap second, no year 0000). */
export function isTimestampText(text: string): boolean {
  return rfc3339DateTime.validate(text) && isStorableDate(new Date(text))
}

/** Gives an ajv instance (with ajv-formats added) this service's stricter `uuid` and `date-time`. */
export function addStrictFormats(ajv: Ajv): void {
  ajv.addFormat('uuid', UUID_PATTERN)
  ajv.addFormat('date-time', { type: 'string', validate: isTimestampText })
}
