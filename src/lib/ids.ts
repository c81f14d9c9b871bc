// Ids the service makes itself: uuidv7, time-ordered, so rows of the large
// append-only tables (ledger, messages, delivery events) land at the end of
// their indexes instead of all over them. PostgreSQL 15 has no uuidv7().
import { v7 } from 'uuid'

export const newId = (): string => v7()
