import type { Role } from '../../db/schema/index.js'

/** Who is acting: taken from the verified token, recorded in ledgers and the audit log. */
export interface Actor {
  id: string
  name: string | null
  role: Role
}
