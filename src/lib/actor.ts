import type { Role } from '../vocabulary.js'

/** Who is acting: taken from the verified token, recorded in ledgers and the audit log. */
export interface Actor {
  id: string
  name: string | null
  role: Role
}

/** The service itself, acting on a schedule (a job carrying out what a person asked for earlier). */
export const systemActor: Actor = { id: 'system:scheduler', name: 'Samtykke scheduler', role: 'admin' }
