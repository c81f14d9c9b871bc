// Ids the service makes itself: uuidv7, time-ordered, so rows of the large
// append-only tables (ledger, messages, delivery events) land at the end of
// their indexes instead of all over them. PostgreSQL 15 has no uuidv7().
import { randomBytes } from 'node:crypto'
import { v7 } from 'uuid'

export const newId = (): string => v7()

/**
 * `count` ids at once, from one draw of randomness: an import's batch makes
 * thousands, and a draw per id (what `newId` does) costs more than the rest
 * of making it.
 */
export function newIds(count: number): string[] {
  const random = randomBytes(16 * count)
  return Array.from({ length: count }, (_, i) => v7({ random: random.subarray(16 * i, 16 * i + 16) }))
}
