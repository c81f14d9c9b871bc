// Who acts, as the ledgers and the audit log record them: a person by their
// token or signed link, or the service itself; and who created a row.
import type { ActorRole } from '../vocabulary.js'

/** Who is acting: taken from the verified token (or a subscriber's signed link), recorded in ledgers and the audit log. */
export interface Actor {
  id: string
  name: string | null
  role: ActorRole
}

/** The service itself, acting on a schedule (a job carrying out what a person asked for earlier). */
export const systemActor: Actor = { id: 'system:scheduler', name: 'Samtykke scheduler', role: 'admin' }

/**
 * A person acting through a signed link in a message: the token proves the
 * link was ours and for them, nothing more. No name: the log and the audit
 * trail name the contact by id.
 */
export const subscriberActor = (contactId: string): Actor => ({ id: `subscriber:${contactId}`, name: null, role: 'subscriber' })

/** The columns that say who created a row (every table with createdById, createdByName, createdByRole), from the actor creating it. */
export const createdBy = (actor: Actor) => ({ createdById: actor.id, createdByName: actor.name, createdByRole: actor.role })

/** Who created a row, as an actor again: work carried out later (a campaign's fan-out) acts as the one who asked for it. */
export const creatorOf = (row: { createdById: string; createdByName: string | null; createdByRole: ActorRole }): Actor => ({
  id: row.createdById,
  name: row.createdByName,
  role: row.createdByRole,
})
