// The keyset condition every paginated query shares: rows strictly after the cursor.
import { and, eq, gt, or, type AnyColumn, type SQL } from 'drizzle-orm'
import type { Cursor } from '../src/lib/pagination.js'

export function afterCursor(cursor: Cursor | undefined, at: AnyColumn, id: AnyColumn): SQL | undefined {
  if (!cursor) return undefined
  return or(gt(at, cursor.at), and(eq(at, cursor.at), gt(id, cursor.id)))
}
