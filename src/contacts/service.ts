// Contacts: the people we may write to. Owns address validation on the way in,
// rectification with an audit trail, lookups, and who a message goes to as
// suppressions know people (the contact and the keyed hash of the address).
// Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { diffFields } from '../lib/diff.js'
import { addressHash, parseEmail, storedAddressHash } from '../lib/email.js'
import { NotFoundError, ValidationError } from '../lib/errors.js'
import { newIds } from '../lib/ids.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import type { Locale } from '../vocabulary.js'
import {
  deleteContact,
  findContactByEmail,
  findContactIdsByEmails,
  findContactById,
  findContactsByIds,
  holdContacts,
  insertContact,
  insertContactIfAbsent,
  insertContactsIfAbsent,
  listContactRows,
  lockContactById,
  updateContactRow,
  type ContactRow,
} from './queries.js'

/** Attributes are free-form but bounded: they are stored on every contact row. */
export const MAX_ATTRIBUTES_BYTES = 16 * 1024

export interface ContactFields {
  name?: string | null
  phone?: string | null
  address?: string | null
  locale?: Locale
  attributes?: Record<string, unknown>
}

export interface NewContactInput extends ContactFields {
  email: string
}

/** Who a message goes to, as suppressions and ledgers know people: the contact, if any, and the keyed hash of the address. */
export interface Recipient {
  contactId: string | null
  addressHash: string
  /**
   * The address, where the caller read it: only for webhook events about the
   * person (src/webhooks), which hand it on to endpoints allowed it. Never
   * logged, never stored beside the hash.
   */
  email?: string
}

function validEmail(input: string, field: string) {
  const parsed = parseEmail(input)
  if (!parsed.ok) throw new ValidationError([{ field, message: parsed.message }], 'invalid_email')
  return parsed
}

function checkAttributes(attributes: Record<string, unknown> | undefined, field = 'body.attributes') {
  if (attributes && Buffer.byteLength(JSON.stringify(attributes)) > MAX_ATTRIBUTES_BYTES) {
    throw new ValidationError([{ field, message: `is larger than ${MAX_ATTRIBUTES_BYTES} bytes` }], 'attributes_too_large')
  }
}

/** The contact's own fields, trimmed; an empty string clears a field. Never the address. */
function cleanFields(input: ContactFields): ContactFields {
  const trim = (v: string | null | undefined) => (typeof v === 'string' ? v.trim() || null : v)
  return { name: trim(input.name), phone: trim(input.phone), address: trim(input.address), locale: input.locale, attributes: input.attributes }
}

/** Of the given fields, those the contact has no value for yet: what a system that is not staff may fill in. */
function emptyFieldsFilled(contact: ContactRow, fields: ContactFields): Pick<ContactFields, 'name' | 'phone' | 'address'> {
  const filled: Pick<ContactFields, 'name' | 'phone' | 'address'> = {}
  for (const field of ['name', 'phone', 'address'] as const) {
    if (contact[field] === null && fields[field]) filled[field] = fields[field]
  }
  return filled
}

export function createContactService({ db, clock, pepper, audit }: { db: Database; clock: Clock; pepper: string; audit: AuditRecorder }) {
  /** The contact named by id, or contact_not_found; with `lock`, locked for the rest of the transaction. */
  async function requireContact(q: Queryable, id: string, options: { lock?: boolean } = {}): Promise<ContactRow> {
    const contact = options.lock ? await lockContactById(q, id) : await findContactById(q, id)
    if (!contact) throw new NotFoundError('Contact', 'contact_not_found')
    return contact
  }

  /** The recipient an address is: the contact with it if there is one, and its keyed hash either way. */
  async function recipientByEmail(q: Queryable, email: string, field = 'body.email'): Promise<Recipient> {
    const parsed = validEmail(email, field)
    const contact = await findContactByEmail(q, parsed.email)
    return { contactId: contact?.id ?? null, addressHash: addressHash(parsed.canonical, pepper), email: parsed.email }
  }

  const recipientOf = (contact: ContactRow): Recipient => ({ contactId: contact.id, addressHash: storedAddressHash(contact.email, pepper), email: contact.email })

  /** Creates a contact inside an open transaction. */
  async function createContactIn(tx: Queryable, input: NewContactInput, actor: Actor): Promise<ContactRow> {
    const { email } = validEmail(input.email, 'body.email')
    checkAttributes(input.attributes)
    const now = clock.now()
    const contact = await insertContact(tx, { ...cleanFields(input), email, createdAt: now, updatedAt: now })
    await audit.record(tx, actor, now, {
      action: 'contact.created',
      entityType: 'contact',
      entityId: contact.id,
      subjectId: contact.id,
      changes: diffFields({}, { ...cleanFields(input), email }),
    })
    return contact
  }

  return {
    requireContact,

    /** Holds the contacts shared for the transaction: a handover to SMTP and a change to what they said never overlap. */
    holdForHandover: (tx: Queryable, ids: string[]) => holdContacts(tx, ids),

    /** The recipient a contact is. */
    async recipientById(q: Queryable, contactId: string): Promise<Recipient> {
      return recipientOf(await requireContact(q, contactId))
    },

    /** The recipient a contact already read is (no query). */
    recipientOf,

    /** The keyed hash an address would be suppressed under, or null when it is no address (a report naming someone, checked against the message it is about). */
    addressHashOf(email: string): string | null {
      const parsed = parseEmail(email)
      return parsed.ok ? addressHash(parsed.canonical, pepper) : null
    },

    /** Erasure: the contact row goes; rows that named it keep only the keyed address hash. */
    deleteIn: (tx: Queryable, id: string) => deleteContact(tx, id),

    /** Who a request names: a contact (by id) or an address that may belong to no contact; exactly one of them. */
    async recipientNamed(q: Queryable, by: { email?: string; contactId?: string }, field: string): Promise<Recipient> {
      if (by.email !== undefined && by.contactId !== undefined) {
        throw new ValidationError([{ field, message: 'names the person twice: send email or contactId, not both' }], 'recipient_ambiguous')
      }
      if (by.email === undefined && by.contactId === undefined) {
        throw new ValidationError([{ field, message: 'must name the person by email or by contactId' }], 'recipient_required')
      }
      return by.contactId ? recipientOf(await requireContact(q, by.contactId)) : recipientByEmail(q, by.email!, `${field}.email`)
    },

    /** The recipient an address is: the contact with it if there is one, and its keyed hash either way. */
    recipientByEmail,

    /**
     * Finds the contact with this address or creates it, inside an open
     * transaction. Used by the course system's enrollments, where the address is
     * the key: it may create a contact and fill fields that are empty, but never
     * overwrites or clears one (rectification is staff's, through updateContact).
     * A field it fills is recorded in the audit log as a rectification by it.
     */
    async upsertContactIn(tx: Queryable, input: NewContactInput, actor: Actor, emailField = 'body.contact.email'): Promise<ContactRow> {
      const { email } = validEmail(input.email, emailField)
      const fields = cleanFields(input)
      const existing = await findContactByEmail(tx, email)
      if (!existing) {
        const now = clock.now()
        const created = await insertContactIfAbsent(tx, { ...fields, email, createdAt: now, updatedAt: now })
        if (created) {
          await audit.record(tx, actor, now, {
            action: 'contact.created',
            entityType: 'contact',
            entityId: created.id,
            subjectId: created.id,
            changes: diffFields({}, { ...fields, email }),
          })
          return requireContact(tx, created.id, { lock: true })
        }
      }
      // Someone else created it meanwhile, or it existed: lock it, then fill what is empty.
      const before = await requireContact(tx, (existing ?? (await findContactByEmail(tx, email)))!.id, { lock: true })
      const filled = emptyFieldsFilled(before, fields)
      const changes = diffFields(before, filled)
      if (Object.keys(changes).length === 0) return before
      const now = clock.now()
      const after = await updateContactRow(tx, before.id, { ...filled, updatedAt: now })
      await audit.record(tx, actor, now, { action: 'contact.rectified', entityType: 'contact', entityId: before.id, subjectId: before.id, changes })
      return after
    },

    /** The contacts with these ids (those that exist). */
    contactsByIds: (q: Queryable, ids: string[]) => findContactsByIds(q, ids),

    /**
     * A batch of addresses (stored form, as parseEmail gives it) to their
     * contacts' ids, ignoring case; with `hold`, those contacts are held for
     * the transaction against a concurrent change to what they said.
     */
    async contactIdsByEmails(q: Queryable, emails: string[], options: { hold?: boolean } = {}): Promise<Map<string, string>> {
      return new Map((await findContactIdsByEmails(q, emails, options.hold ?? false)).map((c) => [c.email, c.id]))
    },

    /**
     * Creates a contact for each of these addresses that has none, inside an
     * open transaction, and returns every one's id (made meanwhile by someone
     * else included). For imports: the addresses were parsed already, and the
     * import's own audit entry counts the contacts it made rather than one
     * entry each.
     */
    async createContactsIn(tx: Queryable, rows: { email: string; name: string | null }[]): Promise<{ ids: Map<string, string>; created: number }> {
      const fresh = newIds(rows.length)
      const inserted = await insertContactsIfAbsent(tx, rows.map((r, i) => ({ ...r, id: fresh[i]! })), clock.now())
      const ids = new Map(inserted.map((c) => [c.email, c.id]))
      const missed = rows.filter((r) => !ids.has(r.email)).map((r) => r.email)
      for (const { email, id } of await findContactIdsByEmails(tx, missed, false)) ids.set(email, id)
      return { ids, created: inserted.length }
    },

    getContact: (id: string) => requireContact(db, id),

    createContact: (input: NewContactInput, actor: Actor) => db.transaction((tx) => createContactIn(tx, input, actor)),

    async listContacts(query: { cursor?: string; limit?: number; email?: string; q?: string }) {
      const limit = query.limit ?? 50
      const rows = await listContactRows(db, {
        email: query.email?.trim(),
        q: query.q?.trim() || undefined,
        after: decodeCursor(query.cursor),
        limit: limit + 1,
      })
      return toPage(rows, limit, (c) => ({ at: c.createdAt, id: c.id }))
    },

    /** Rectification (GDPR art. 16): changes the given fields, audits what changed. */
    async updateContact(id: string, patch: Partial<NewContactInput>, actor: Actor): Promise<ContactRow> {
      checkAttributes(patch.attributes)
      const email = patch.email === undefined ? undefined : validEmail(patch.email, 'body.email').email
      return db.transaction(async (tx) => {
        const before = await requireContact(tx, id, { lock: true })
        const fields = { ...cleanFields(patch), ...(email === undefined ? {} : { email }) }
        const changes = diffFields(before, fields)
        if (Object.keys(changes).length === 0) return before
        const now = clock.now()
        const after = await updateContactRow(tx, id, { ...fields, updatedAt: now })
        await audit.record(tx, actor, now, { action: 'contact.updated', entityType: 'contact', entityId: id, subjectId: id, changes })
        return after
      })
    },
  }
}
export type ContactService = ReturnType<typeof createContactService>
