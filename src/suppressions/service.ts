// Suppressions: who must not be written to, and in what scope. Keyed by the
// contact and by a keyed address hash, so they outlive the contact. Staff add
// them; admins lift what staff or the system decided (manual blocks, bounces).
// What the person said (unsubscribe, objection, complaint, erasure) is never
// lifted: only the person's own new consent speaks over it (decision/decide.ts).
import type { Database, Queryable } from '../../db/client.js'
import { recordAudit } from '../audit/service.js'
import { hasConsentGrantSince } from '../consent/queries.js'
import { findContactByEmail } from '../contacts/queries.js'
import { requireContact, validEmail } from '../contacts/service.js'
import { PERSONS_OWN_WORD } from '../decision/decide.js'
import { SuppressionScope, type SuppressionReason } from '../decision/types.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { addressHash, storedAddressHash } from '../lib/email.js'
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../lib/errors.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import { requireList } from '../lists/service.js'
import {
  findSameActiveSuppression,
  findSuppressionById,
  insertSuppression,
  listSuppressionRows,
  lockRecipientSuppressions,
  updateSuppressionRow,
  type SuppressionRow,
} from './queries.js'

export interface Recipient {
  contactId: string | null
  addressHash: string
}

export interface SuppressInput {
  scope: SuppressionScope
  reason: SuppressionReason
  listId?: string | null
  purpose?: string | null
  note?: string | null
  expiresAt?: Date | null
}

/** A suppression written, or the identical one already in force; `created` says which. */
export interface SuppressionWrite {
  suppression: SuppressionRow
  created: boolean
}

/**
 * Writes a suppression inside an open transaction, or returns the identical
 * one already in force (same scope, reason, list and purpose, lasting at least
 * as long). Other services (unsubscribes, enrollments) call this. Writers for
 * one person take turns, so the same suppression sent twice at once is one row.
 * An identical one that a later consent may speak over (see overriddenByConsent
 * in decision/decide.ts) is not in force in the same way: a new objection after
 * a new consent must count, so then a new row is written.
 */
export async function suppressIn(tx: Queryable, actor: Actor, now: Date, recipient: Recipient, input: SuppressInput): Promise<SuppressionWrite> {
  await lockRecipientSuppressions(tx, recipient.addressHash)
  const shape = { scope: input.scope, reason: input.reason, listId: input.listId ?? null, purpose: input.purpose ?? null }
  const expiresAt = input.expiresAt ?? null
  const same = await findSameActiveSuppression(tx, recipient, shape, now)
  const lastsLongEnough = same && (same.expiresAt === null || (expiresAt !== null && same.expiresAt.getTime() >= expiresAt.getTime()))
  const consentedSince = same && recipient.contactId ? await hasConsentGrantSince(tx, recipient.contactId, same.createdAt) : false
  if (same && lastsLongEnough && !consentedSince) return { suppression: same, created: false }
  const row = await insertSuppression(tx, {
    ...shape,
    contactId: recipient.contactId,
    addressHash: recipient.addressHash,
    note: input.note ?? null,
    expiresAt,
    createdAt: now,
    createdById: actor.id,
    createdByName: actor.name,
    createdByRole: actor.role,
  })
  await recordAudit(tx, actor, now, {
    action: 'suppression.created',
    entityType: 'suppression',
    entityId: row.id,
    changes: { ...shape, contactId: recipient.contactId, expiresAt: row.expiresAt },
  })
  return { suppression: row, created: true }
}

export interface CreateSuppressionInput extends SuppressInput {
  email?: string
  contactId?: string
}

export function createSuppressionService({ db, clock, pepper }: { db: Database; clock: Clock; pepper: string }) {
  /** Who a request names: a contact (by id) or an address that may belong to no contact. */
  async function resolveRecipient(tx: Queryable, by: { email?: string; contactId?: string }): Promise<Recipient> {
    if ((by.email === undefined) === (by.contactId === undefined)) {
      throw new ValidationError([{ field: 'body', message: 'name the person by exactly one of email and contactId' }], 'recipient_required')
    }
    if (by.contactId) {
      const contact = await requireContact(tx, by.contactId)
      return { contactId: contact.id, addressHash: storedAddressHash(contact.email, pepper) }
    }
    const parsed = validEmail(by.email!)
    const contact = await findContactByEmail(tx, parsed.email)
    return { contactId: contact?.id ?? null, addressHash: addressHash(parsed.canonical, pepper) }
  }

  async function checkShape(tx: Queryable, input: SuppressInput, now: Date) {
    if (input.reason === 'erasure') {
      throw new UnprocessableError('reason_reserved', 'Erasure suppressions are written by erasure requests only')
    }
    if ((input.scope === SuppressionScope.list) !== Boolean(input.listId)) {
      throw new UnprocessableError('list_scope_needs_list', 'Scope "list" needs listId, and only it takes one')
    }
    if ((input.scope === SuppressionScope.purpose) !== Boolean(input.purpose)) {
      throw new UnprocessableError('purpose_scope_needs_purpose', 'Scope "purpose" needs purpose, and only it takes one')
    }
    if (input.listId) await requireList(tx, input.listId)
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
      throw new UnprocessableError('expiry_in_past', 'expiresAt must be in the future')
    }
  }

  return {
    resolveRecipient,

    /** Adds a suppression; the same one written again (at once or later) returns the one in force, `created: false`. */
    createSuppression(input: CreateSuppressionInput, actor: Actor): Promise<SuppressionWrite> {
      return db.transaction(async (tx) => {
        const now = clock.now()
        await checkShape(tx, input, now)
        const recipient = await resolveRecipient(tx, input)
        return suppressIn(tx, actor, now, recipient, input)
      })
    },

    async getSuppression(id: string): Promise<SuppressionRow> {
      const row = await findSuppressionById(db, id)
      if (!row) throw new NotFoundError('Suppression', 'suppression_not_found')
      return row
    },

    /** Admins lift what staff or the system decided, with a reason; what the person said is theirs to undo. */
    liftSuppression(id: string, reason: string, actor: Actor): Promise<SuppressionRow> {
      return db.transaction(async (tx) => {
        const row = await findSuppressionById(tx, id, true)
        if (!row) throw new NotFoundError('Suppression', 'suppression_not_found')
        if (PERSONS_OWN_WORD.has(row.reason)) {
          throw new ConflictError(
            'suppression_not_liftable',
            `A suppression for ${row.reason} records what the person said; staff never lift it, only the person's own new consent speaks over it`,
          )
        }
        if (row.liftedAt) throw new ConflictError('suppression_already_lifted', 'This suppression was lifted already')
        const now = clock.now()
        const lifted = await updateSuppressionRow(tx, id, { liftedAt: now, liftedById: actor.id, liftedByName: actor.name, liftReason: reason })
        await recordAudit(tx, actor, now, { action: 'suppression.lifted', entityType: 'suppression', entityId: id, changes: { reason } })
        return lifted
      })
    },

    async listSuppressions(query: {
      contactId?: string
      email?: string
      scope?: SuppressionScope
      reason?: SuppressionReason
      active?: boolean
      cursor?: string
      limit?: number
    }) {
      const limit = query.limit ?? 50
      const byPerson = query.contactId !== undefined || query.email !== undefined
      const rows = await listSuppressionRows(db, {
        recipient: byPerson ? await resolveRecipient(db, query) : undefined,
        scope: query.scope,
        reason: query.reason,
        activeAt: query.active ? clock.now() : undefined,
        after: decodeCursor(query.cursor),
        limit: limit + 1,
      })
      return toPage(rows, limit, (s) => ({ at: s.createdAt, id: s.id }))
    },
  }
}
export type SuppressionService = ReturnType<typeof createSuppressionService>
