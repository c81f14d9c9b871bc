// The keyset condition every paginated query shares: rows strictly after the cursor.
import { sql, type AnyColumn, type SQL } from 'drizzle-orm'
import type { Cursor } from '../src/lib/pagination.js'

/**
 * `(at, id) > (cursor.at, cursor.id)` as one row comparison, not the
 * equivalent `at > x or (at = x and id > y)`: PostgreSQL uses a row
 * comparison as an index condition and starts the scan at the cursor, while
 * the OR form is only a filter and reads every row before it on each page.
 */
export function afterCursor(cursor: Cursor | undefined, at: AnyColumn, id: AnyColumn): SQL | undefined {
  if (!cursor) return undefined
  return sql`(${at}, ${id}) > (${cursor.at.toISOString()}::timestamptz, ${cursor.id}::uuid)`
}
