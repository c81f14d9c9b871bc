// The consent ledger: append-only events (granted, confirmed, withdrawn,
// objected) and the notices people saw, stored in full with their SHA-256.
// Other services append events through recordEvent inside their own
// transaction, so the event and the state it explains commit together. Each
// event carries the keyed hash of the person's address beside the contact, so
// the proof still names the address once the contact is erased. Each grant,
// withdrawal and objection is announced in the webhook outbox in the same
// transaction (issue 29): this is the one writer of the ledger, so none is missed.
import { createHash } from 'node:crypto'
import type { Database, Queryable } from '../../db/client.js'
import type { ContactService } from '../contacts/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { newIds } from '../lib/ids.js'
import type { ConsentEventType, ConsentSource, LegalBasis, Locale } from '../vocabulary.js'
import type { WebhookEventInput } from '../webhooks/events.js'
import { recordWebhookEvent, recordWebhookEvents } from '../webhooks/record.js'
import {
  findConsentGrantsOfContacts,
  findConsentGrantsSince,
  findConsentHistory,
  findContactConsentEvents,
  findLatestGrantToList,
  findNoticeById,
  findNoticeByKeyVersion,
  findNoticesByIds,
  findNoticeVersions,
  findObjectors,
  insertConsentEvent,
  insertConsentEvents,
  insertNotice,
  redactConsentEventsOf,
  type ConsentEventRow,
  type NoticeRow,
} from './queries.js'

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

export interface NoticeInput {
  key: string
  version: number
  locale?: Locale
  text: string
}

/** A notice named by id, or by key and version (with its text, stored on first use). */
export type NoticeReference = { id: string } | { key: string; version: number; text?: string; locale?: Locale }

/** The explicit affirmative act a consent must carry: `given: true` is required by the schema. */
export interface ConsentInput {
  given: true
  notice: NoticeReference
  ip?: string
  userAgent?: string
}

export interface ConsentEventInput {
  contactId: string
  /** The keyed hash of the contact's address, when the caller has it already (saves reading the contact). */
  addressHash?: string
  /** The contact's address, when the caller has it: the webhook event carries it to endpoints allowed it. Not stored in the ledger. */
  email?: string
  listId: string | null
  purpose: string
  type: ConsentEventType
  basis: LegalBasis
  source: ConsentSource
  noticeId?: string | null
  ip?: string | null
  userAgent?: string | null
  evidence?: string | null
}

/**
 * Stores a notice version, or returns the stored one when the same text was
 * stored before. The same key and version with another text is refused: a
 * version, once shown to people, never changes.
 */
async function storeNotice(tx: Queryable, input: NoticeInput, at: Date): Promise<{ notice: NoticeRow; created: boolean }> {
  const sha256 = sha256Hex(input.text)
  const inserted = await insertNotice(tx, { ...input, locale: input.locale ?? 'nb', sha256, createdAt: at })
  if (inserted) return { notice: inserted, created: true }
  const existing = (await findNoticeByKeyVersion(tx, input.key, input.version))!
  if (existing.sha256 !== sha256) {
    throw new ConflictError('notice_version_exists', `Notice ${input.key} version ${input.version} exists with another text; publish a new version`)
  }
  return { notice: existing, created: false }
}

type AnnouncedEvent = { id: string; contactId: string; listId: string | null; purpose: string; type: ConsentEventType; source: ConsentSource }

/**
 * Announces a ledger event in the webhook outbox, in the transaction that
 * wrote it (issue 29): a grant, a withdrawal, an objection (whoever records
 * it: opt-out, a complaint, an enrollment's declined offer, a request). Every
 * writer of the ledger comes through here, so none is missed. A confirmation
 * of a double opt-in is not an event of its own.
 */
function announcementOf(event: AnnouncedEvent, email: string | undefined): WebhookEventInput | null {
  const { contactId } = event
  if (event.type === 'objected') return { type: 'objection.recorded', contactId, email, data: { purpose: event.purpose, source: event.source } }
  if (event.type === 'granted' || event.type === 'withdrawn') {
    return {
      type: event.type === 'granted' ? 'consent.granted' : 'consent.withdrawn',
      contactId,
      email,
      data: { consentEventId: event.id, listId: event.listId, purpose: event.purpose, source: event.source },
    }
  }
  return null
}

async function announceIn(tx: Queryable, at: Date, event: AnnouncedEvent, email: string | undefined) {
  const announcement = announcementOf(event, email)
  if (announcement) await recordWebhookEvent(tx, at, announcement)
}

export function createConsentService(deps: { db: Database; clock: Clock; contacts: Pick<ContactService, 'requireContact' | 'recipientById'> }) {
  const { db, clock, contacts } = deps

  return {
    /** Appends an event in the caller's transaction, with the keyed hash of the person's address. */
    async recordEvent(tx: Queryable, actor: Actor, at: Date, input: ConsentEventInput): Promise<ConsentEventRow> {
      const { email: given, ...fields } = input
      const recipient = input.addressHash === undefined ? await contacts.recipientById(tx, input.contactId) : { addressHash: input.addressHash, email: given }
      const row = await insertConsentEvent(tx, { ...fields, addressHash: recipient.addressHash, actorId: actor.id, actorName: actor.name, actorRole: actor.role, occurredAt: at })
      await announceIn(tx, at, { ...row, contactId: input.contactId }, given ?? recipient.email)
      return row
    },

    /**
     * Appends many events in the caller's transaction, each with its keyed
     * address hash and its own time (an import's: when the person opted in,
     * as the file says). They are announced as of `at`, when they were
     * recorded: a delivery is retried for three days from its event's time,
     * which a consent given years ago would have used up before the first try.
     */
    async recordEventsIn(tx: Queryable, actor: Actor, at: Date, events: (ConsentEventInput & { addressHash: string; occurredAt: Date })[]): Promise<void> {
      const ids = newIds(events.length)
      await insertConsentEvents(
        tx,
        events.map(({ email: _email, ...event }) => event),
        ids,
        actor,
      )
      // Three statements for the whole batch, not three per event (the ledger's time of each is in the event it names).
      const announcements = events.flatMap((event, i) => {
        const announcement = announcementOf({ ...event, id: ids[i]! }, event.email)
        return announcement ? [{ at, event: announcement }] : []
      })
      await recordWebhookEvents(tx, at, announcements)
    },

    /** Of these people (by keyed address hash or contact id), those who objected: the hashes and contact ids of their objections. */
    async objectorsAmong(q: Queryable, addressHashes: string[], contactIds: string[]): Promise<{ addressHashes: Set<string>; contactIds: Set<string> }> {
      const rows = await findObjectors(q, addressHashes, contactIds)
      return {
        addressHashes: new Set(rows.flatMap((r) => (r.addressHash ? [r.addressHash] : []))),
        contactIds: new Set(rows.flatMap((r) => (r.contactId ? [r.contactId] : []))),
      }
    },

    /** Resolves the notice a consent names; refuses one that was never stored or whose text differs. */
    async resolveNotice(tx: Queryable, reference: NoticeReference, at: Date): Promise<NoticeRow> {
      if ('id' in reference) {
        const notice = await findNoticeById(tx, reference.id)
        if (!notice) throw new UnprocessableError('notice_not_found', 'The consent names a notice that is not stored')
        return notice
      }
      if (reference.text !== undefined) {
        return (await storeNotice(tx, { key: reference.key, version: reference.version, text: reference.text, locale: reference.locale }, at)).notice
      }
      const notice = await findNoticeByKeyVersion(tx, reference.key, reference.version)
      if (!notice) {
        throw new UnprocessableError('notice_not_found', `Notice ${reference.key} version ${reference.version} is not stored; send its text`)
      }
      return notice
    },

    /** Every event of a contact, oldest first (the decision reads which bear on a list). */
    eventsOf: (q: Queryable, contactId: string) => findContactConsentEvents(q, contactId),

    /** Erasure: the person's events keep what proof needs and the keyed address hash. */
    redactIn: (tx: Queryable, contactId: string) => redactConsentEventsOf(tx, contactId),

    /** The notices with these ids: what the person was shown when they consented. */
    noticesByIds: (q: Queryable, ids: string[]) => findNoticesByIds(q, ids),

    /** The contact's consent grants to lists made after `since`, oldest first. */
    grantsSince: (q: Queryable, contactId: string, since: Date) => findConsentGrantsSince(q, contactId, since),

    /** The contact's latest consent grant to one list, if any. */
    latestGrantTo: (q: Queryable, contactId: string, listId: string) => findLatestGrantToList(q, contactId, listId),

    /** Every consent grant to a list of these contacts, oldest first. */
    grantsOf: (q: Queryable, contactIds: string[]) => findConsentGrantsOfContacts(q, contactIds),

    publishNotice: (input: NoticeInput) => db.transaction((tx) => storeNotice(tx, input, clock.now())),

    async getNotice(id: string): Promise<NoticeRow> {
      const notice = await findNoticeById(db, id)
      if (!notice) throw new NotFoundError('Notice', 'notice_not_found')
      return notice
    },

    listNoticeVersions: (key: string) => findNoticeVersions(db, key),

    /** A contact's consent history, oldest first, with the notice of each event. */
    async consentHistory(contactId: string, q: Queryable = db) {
      await contacts.requireContact(q, contactId)
      const rows = await findConsentHistory(q, contactId)
      return rows.map(({ event, notice }) => ({ ...event, notice: notice?.id ? notice : null }))
    },
  }
}
export type ConsentService = ReturnType<typeof createConsentService>
