// Suppressions: who must not be written to, and in what scope. Keyed by the
// contact and by a keyed address hash, so they outlive the contact. Staff add
// them; admins lift what staff or the system decided (manual blocks, bounces).
// What the person said (unsubscribe, objection, complaint, erasure) is never
// lifted: only the person's own new consent speaks over it — decide.ts says
// which, and this module asks it. Moving suppressions between instances is a
// service of its own over this one (./transfer.ts, its file ./transfer-format.ts).
import { randomUUID } from 'node:crypto'
import { pipelined, type Database, type Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { ConsentService } from '../consent/service.js'
import type { ContactService, Recipient } from '../contacts/service.js'
import { isOverriddenOnSomeList, isSuperseded, PERSONS_OWN_WORD } from '../decision/decide.js'
import { toConsentEventFacts, toListFacts, toSuppressionFacts } from '../decision/facts.js'
import { createdBy, type Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import type { ListService } from '../lists/service.js'
import { SuppressionReason, SuppressionScope } from '../vocabulary.js'
import { recordWebhookEvent } from '../webhooks/record.js'
import {
  findSameActiveSuppression,
  findSuppressionById,
  findSuppressionsForMany,
  findSuppressionsForRecipient,
  holdRecipientSuppressions,
  insertSuppression,
  listSuppressionRows,
  lockRecipientSuppressions,
  redactSuppressionsOf,
  updateSuppressionRow,
  type SuppressionRow,
} from './queries.js'

/** Reasons only data-subject requests write: an erasure, and a restriction of processing (art. 18). */
const RESERVED_REASONS: ReadonlySet<SuppressionReason> = new Set([SuppressionReason.erasure, SuppressionReason.restriction])

export interface SuppressInput {
  scope: SuppressionScope
  reason: SuppressionReason
  listId?: string | null
  purpose?: string | null
  note?: string | null
  expiresAt?: Date | null
  /** When it was said, if before now: a suppression carried over from another instance keeps its time. */
  since?: Date
}

/** A suppression written, or the identical one already in force; `created` says which. */
export interface SuppressionWrite {
  suppression: SuppressionRow
  created: boolean
}

export interface CreateSuppressionInput extends SuppressInput {
  email?: string
  contactId?: string
}

/** suppression.added or .lifted in the webhook outbox, in the transaction of the change (issue 29). */
function announceIn(tx: Queryable, at: Date, type: 'suppression.added' | 'suppression.lifted', row: SuppressionRow, email: string | undefined) {
  return recordWebhookEvent(tx, at, {
    type,
    contactId: row.contactId,
    email,
    data: { suppressionId: row.id, scope: row.scope, reason: row.reason, listId: row.listId, purpose: row.purpose },
  })
}

export function createSuppressionService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  contacts: Pick<ContactService, 'recipientNamed'>
  lists: Pick<ListService, 'requireList' | 'findListsByIds'>
  consent: Pick<ConsentService, 'grantsSince' | 'grantsOf'>
}) {
  const { db, clock, audit, contacts, lists, consent } = deps

  /**
   * Whether the person consented, after this suppression, to a list it covers
   * in a way the decision hears over it: then the same suppression written
   * again is a new act (a new objection after a new consent must count).
   */
  async function spokenOverSince(tx: Queryable, recipient: Recipient, same: SuppressionRow): Promise<boolean> {
    if (!recipient.contactId) return false
    const grants = await consent.grantsSince(tx, recipient.contactId, same.createdAt)
    if (grants.length === 0) return false
    const byId = new Map((await lists.findListsByIds(tx, grants.map((g) => g.listId!))).map((l) => [l.id, toListFacts(l)]))
    return isOverriddenOnSomeList(
      toSuppressionFacts(same),
      grants.map((g) => ({ grant: toConsentEventFacts(g), list: byId.get(g.listId!)! })),
    )
  }

  /** The consent grants of the people these suppressions name, each with the facts of its list, by contact. */
  async function grantsByContact(q: Queryable, rows: SuppressionRow[]) {
    const grants = await consent.grantsOf(q, [...new Set(rows.flatMap((s) => (s.contactId ? [s.contactId] : [])))])
    const listsById = new Map((await lists.findListsByIds(q, [...new Set(grants.map((g) => g.listId!))])).map((l) => [l.id, toListFacts(l)]))
    const byContact = new Map<string, { grant: ReturnType<typeof toConsentEventFacts>; list: ReturnType<typeof toListFacts> }[]>()
    for (const g of grants) {
      byContact.set(g.contactId!, [...(byContact.get(g.contactId!) ?? []), { grant: toConsentEventFacts(g), list: listsById.get(g.listId!)! }])
    }
    return byContact
  }

  /**
   * Writes a suppression inside an open transaction, or returns the identical
   * one already in force (same scope, reason, list and purpose, lasting at
   * least as long, and not spoken over since). Writers for one person take
   * turns, so the same suppression sent twice at once is one row.
   */
  async function suppressIn(tx: Queryable, actor: Actor, now: Date, recipient: Recipient, input: SuppressInput): Promise<SuppressionWrite> {
    await lockRecipientSuppressions(tx, recipient.addressHash)
    const shape = { scope: input.scope, reason: input.reason, listId: input.listId ?? null, purpose: input.purpose ?? null }
    const expiresAt = input.expiresAt ?? null
    // Read only once the lock is held (not sent with it): under READ COMMITTED it then sees what the last holder committed.
    const same = await findSameActiveSuppression(tx, recipient, shape, now)
    const lastsLongEnough = same && (same.expiresAt === null || (expiresAt !== null && same.expiresAt.getTime() >= expiresAt.getTime()))
    if (same && lastsLongEnough && !(await spokenOverSince(tx, recipient, same))) return { suppression: same, created: false }
    // The id made here (random, as the column's default), so the row and its audit entry are sent together.
    const id = randomUUID()
    const [row] = await pipelined([
      insertSuppression(tx, {
        ...shape,
        id,
        contactId: recipient.contactId,
        addressHash: recipient.addressHash,
        note: input.note ?? null,
        expiresAt,
        createdAt: input.since ?? now,
        ...createdBy(actor),
      }),
      audit.record(tx, actor, now, {
        action: 'suppression.created',
        entityType: 'suppression',
        entityId: id,
        subjectId: recipient.contactId,
        changes: { ...shape, contactId: recipient.contactId, expiresAt },
      }),
    ])
    await announceIn(tx, now, 'suppression.added', row, recipient.email)
    return { suppression: row, created: true }
  }

  /** Lifts a suppression once, with the reason, audited (in the caller's transaction). */
  async function liftIn(tx: Queryable, row: SuppressionRow, reason: string, actor: Actor): Promise<SuppressionRow> {
    if (row.liftedAt) throw new ConflictError('suppression_already_lifted', 'This suppression was lifted already')
    const now = clock.now()
    const lifted = await updateSuppressionRow(tx, row.id, { liftedAt: now, liftedById: actor.id, liftedByName: actor.name, liftReason: reason })
    await audit.record(tx, actor, now, { action: 'suppression.lifted', entityType: 'suppression', entityId: row.id, subjectId: row.contactId, changes: { reason } })
    // The address for endpoints allowed it: the contact's (a redacted suppression names none, and is announced without).
    const email = row.contactId ? (await contacts.recipientNamed(tx, { contactId: row.contactId }, 'suppression')).email : undefined
    await announceIn(tx, now, 'suppression.lifted', lifted, email)
    return lifted
  }

  async function checkShape(tx: Queryable, input: SuppressInput, now: Date) {
    if (RESERVED_REASONS.has(input.reason)) {
      throw new UnprocessableError('reason_reserved', `${input.reason} suppressions are written by data-subject requests only (/v1/requests)`)
    }
    if ((input.scope === SuppressionScope.list) !== Boolean(input.listId)) {
      throw new UnprocessableError('list_scope_needs_list', 'Scope "list" needs listId, and only it takes one')
    }
    if ((input.scope === SuppressionScope.purpose) !== Boolean(input.purpose)) {
      throw new UnprocessableError('purpose_scope_needs_purpose', 'Scope "purpose" needs purpose, and only it takes one')
    }
    if (input.listId) await lists.requireList(tx, input.listId)
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
      throw new UnprocessableError('expiry_in_past', 'expiresAt must be in the future')
    }
  }

  return {
    suppressIn,

    /** Holds the addresses' suppression locks shared for the transaction: a handover to SMTP and a new suppression never overlap. */
    holdForHandover: (tx: Queryable, addressHashes: string[]) => holdRecipientSuppressions(tx, addressHashes),

    /** Erasure: the person's suppressions lose the contact and their notes; they go on blocking by the keyed hash. */
    redactIn: (tx: Queryable, recipient: { contactId: string; addressHash: string }) => redactSuppressionsOf(tx, recipient.contactId, recipient.addressHash),

    /** Every suppression of a person (by contact or address hash), lifted and expired ones included, oldest first. */
    suppressionsOf: (q: Queryable, recipient: Recipient) => findSuppressionsForRecipient(q, recipient),

    /** Every suppression of any of these people (by keyed address hash or contact id), lifted and expired ones included: a batch at once (imports). */
    suppressionsOfMany: (q: Queryable, addressHashes: string[], contactIds: string[]) => findSuppressionsForMany(q, addressHashes, contactIds),

    /** Adds a suppression; the same one written again (at once or later) returns the one in force, `created: false`. */
    createSuppression(input: CreateSuppressionInput, actor: Actor): Promise<SuppressionWrite> {
      return db.transaction(async (tx) => {
        const now = clock.now()
        await checkShape(tx, input, now)
        const recipient = await contacts.recipientNamed(tx, input, 'body')
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
        if (row.reason === SuppressionReason.restriction) {
          throw new ConflictError('suppression_not_liftable', 'A restriction is lifted through the request that made it (POST /v1/requests/{id}/lift-restriction)')
        }
        return liftIn(tx, row, reason, actor)
      })
    },

    /** Lifts a suppression inside the caller's transaction (a restriction, from its request); refuses one lifted already. */
    async liftByIdIn(tx: Queryable, id: string, reason: string, actor: Actor): Promise<SuppressionRow> {
      const row = await findSuppressionById(tx, id, true)
      if (!row) throw new NotFoundError('Suppression', 'suppression_not_found')
      return liftIn(tx, row, reason, actor)
    },

    /**
     * A page of suppressions in creation order. `active` keeps those in force
     * as the decision sees them: not lifted, not expired, and not superseded
     * by the person's own newer consent (decide.ts isSuperseded). Such a page
     * may hold fewer than `limit` items; `nextCursor` still goes on from the
     * last row read.
     */
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
        recipient: byPerson ? await contacts.recipientNamed(db, query, 'querystring') : undefined,
        scope: query.scope,
        reason: query.reason,
        activeAt: query.active ? clock.now() : undefined,
        after: decodeCursor(query.cursor),
        limit: limit + 1,
      })
      const page = toPage(rows, limit, (s) => ({ at: s.createdAt, id: s.id }))
      if (!query.active) return page
      const grants = await grantsByContact(db, page.items)
      const inForce = page.items.filter((s) => !(s.contactId && isSuperseded(toSuppressionFacts(s), grants.get(s.contactId) ?? [])))
      return { ...page, items: inForce }
    },
  }
}
export type SuppressionService = ReturnType<typeof createSuppressionService>
