// Subscriptions: who is on which list. Every change appends a consent event
// and updates the subscription row in the same transaction (events plus a
// projection); the contact row is locked first so that changes to one person
// are serialised. Knows nothing of HTTP. Opting out, with the course lock, is
// opt-out.ts, and signup from web forms signup.ts: services of their own, as
// each needs one built after this (the decision; the send service).
import type { Database, Queryable } from '../../db/client.js'
import type { ConsentEventInput, ConsentInput, ConsentService } from '../consent/service.js'
import type { ContactService } from '../contacts/service.js'
import { isPersonsOwnAct } from '../decision/decide.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { newIds } from '../lib/ids.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import { requireOpen, type ListService } from '../lists/service.js'
import { LegalBasis, ListKind, SubscriptionStatus, type ConsentSource } from '../vocabulary.js'
import {
  deleteDeferredUnsubscribesOf,
  deleteSubscription,
  deleteSubscriptionsOf,
  findContactDeferredUnsubscribes,
  findContactSubscriptions,
  findListMembers,
  findStalePendingSubscriptions,
  findSubscription,
  findSubscriptionsByPairs,
  insertActiveSubscriptionsIfAbsent,
  insertSubscription,
  lockSubscription,
  updateSubscriptionRow,
  type SubscriptionRow,
} from './queries.js'

export interface SubscribeInput {
  contactId: string
  source: ConsentSource
  evidence?: string
  consent?: ConsentInput
}

export interface ChangeInput {
  source: ConsentSource
  evidence?: string
  ip?: string
  userAgent?: string
}

/**
 * The consent event of a change made through the API or a link: what the
 * event is, and where the change came from — its source, the connection's
 * address and browser, and its evidence, as the change states them.
 */
export function consentEventFor(input: ChangeInput, event: Omit<ConsentEventInput, 'source' | 'ip' | 'userAgent' | 'evidence'>): ConsentEventInput {
  return { ...event, source: input.source, ip: input.ip ?? null, userAgent: input.userAgent ?? null, evidence: input.evidence ?? null }
}

/** One person put on a list by an import, with the evidence of their consent from the file. */
export interface ImportedSubscription {
  contactId: string
  addressHash: string
  /** The address, for the consent.granted webhook event (endpoints allowed it); not stored with the grant. */
  email?: string
  list: { id: string; purpose: string }
  /** When they opted in, as the file says; unknown: the time of the import. */
  subscribedAt: Date | null
  ip: string | null
  evidence: string
}

export interface SubscriptionChange {
  subscription: SubscriptionRow
  /** False when the request changed nothing (it was already so). */
  changed: boolean
}

export function createSubscriptionService(deps: {
  db: Database
  clock: Clock
  contacts: Pick<ContactService, 'requireContact' | 'contactsByIds'>
  lists: Pick<ListService, 'requireList' | 'findListsByIds'>
  consent: Pick<ConsentService, 'recordEvent' | 'recordEventsIn' | 'resolveNotice' | 'latestGrantTo'>
}) {
  const { db, clock, contacts, lists, consent } = deps

  /** Locks the contact and loads the list: the start of every subscription change. */
  async function openChange(tx: Queryable, contactId: string, listId: string) {
    await contacts.requireContact(tx, contactId, { lock: true })
    return lists.requireList(tx, listId)
  }

  async function subscribeIn(tx: Queryable, listId: string, input: SubscribeInput, actor: Actor): Promise<SubscriptionChange> {
    const list = requireOpen(await openChange(tx, input.contactId, listId))
    if (list.kind === ListKind.course) {
      throw new ConflictError('course_list_managed_by_enrollments', 'Course lists follow enrollments: PUT /v1/enrollments/{id}')
    }
    if (input.source === 'enrollment') {
      throw new UnprocessableError('source_reserved', 'The source "enrollment" is recorded by enrollments only')
    }
    const existing = await lockSubscription(tx, input.contactId, listId)
    // An unsubscribe yields only to the person's own new consent (decide.ts), so nothing less re-opens the list.
    if (existing?.status === SubscriptionStatus.unsubscribed && !(input.consent && isPersonsOwnAct(input.source))) {
      throw new ConflictError(
        'explicit_consent_required',
        'This person unsubscribed; only their own new, explicit consent subscribes them again: ' +
          'source form or link, with consent.given and the notice they saw',
      )
    }
    if (list.basis === LegalBasis.consent && !input.consent) {
      throw new UnprocessableError('consent_required', 'This list stands on consent: send consent.given and the notice the person saw')
    }
    if (existing && existing.status !== SubscriptionStatus.unsubscribed && !input.consent) {
      return { subscription: existing, changed: false }
    }

    const now = clock.now()
    const notice = input.consent ? await consent.resolveNotice(tx, input.consent.notice, now) : null
    // The same consent again (same notice) to someone still on the list is no new evidence; a new notice version is.
    if (existing && existing.status !== SubscriptionStatus.unsubscribed && notice) {
      const latest = await consent.latestGrantTo(tx, input.contactId, listId)
      if (latest?.noticeId === notice.id) return { subscription: existing, changed: false }
    }
    // A fresh consent on a double opt-in list waits for confirmation; an active one stays active.
    const status =
      input.consent && list.doubleOptIn && existing?.status !== SubscriptionStatus.active
        ? SubscriptionStatus.pending
        : SubscriptionStatus.active
    const fields = {
      status,
      source: input.source,
      updatedAt: now,
      confirmedAt: status === SubscriptionStatus.active ? (existing?.confirmedAt ?? now) : null,
      unsubscribedAt: null,
    }
    const subscription = existing
      ? await updateSubscriptionRow(tx, existing.id, fields)
      : await insertSubscription(tx, { ...fields, contactId: input.contactId, listId, createdAt: now })
    await consent.recordEvent(tx, actor, now, {
      contactId: input.contactId,
      listId,
      purpose: list.purpose,
      type: 'granted',
      basis: input.consent ? LegalBasis.consent : list.basis,
      source: input.source,
      noticeId: notice?.id ?? null,
      ip: input.consent?.ip ?? null,
      userAgent: input.consent?.userAgent ?? null,
      evidence: input.evidence ?? null,
    })
    return { subscription, changed: true }
  }

  return {
    /** The contact's subscription on one list, if any. */
    subscriptionOf: (q: Queryable, contactId: string, listId: string) => findSubscription(q, contactId, listId),

    /** Every subscription of the contact, oldest first. */
    subscriptionsOf: (q: Queryable, contactId: string) => findContactSubscriptions(q, contactId),

    /** The contact's course-list opt-out wishes, carried out or not, oldest first. */
    deferredUnsubscribesOf: (q: Queryable, contactId: string) => findContactDeferredUnsubscribes(q, contactId),

    /** Retention: signups still unconfirmed that were made before `cutoff`; a page after `afterId`. */
    stalePending: (q: Queryable, cutoff: Date, afterId: string | null, limit: number) => findStalePendingSubscriptions(q, cutoff, afterId, limit),

    /** Retention: an unconfirmed signup goes. */
    deleteIn: (tx: Queryable, id: string) => deleteSubscription(tx, id),

    /** Erasure: the person's subscriptions and kept opt-out wishes go. */
    async eraseIn(tx: Queryable, contactId: string) {
      return { deferredUnsubscribes: await deleteDeferredUnsubscribesOf(tx, contactId), subscriptions: await deleteSubscriptionsOf(tx, contactId) }
    },

    subscribe: (listId: string, input: SubscribeInput, actor: Actor) => db.transaction((tx) => subscribeIn(tx, listId, input, actor)),

    /** The subscriptions of these (contact, list) pairs that exist, with their status. */
    subscriptionsByPairs: (q: Queryable, pairs: { contactId: string; listId: string }[]) => findSubscriptionsByPairs(q, pairs),

    /**
     * An import puts these people on their lists, set-wise, inside the
     * caller's transaction: an active subscription for each pair that has
     * none, and for each of those (and only those) a consent grant with
     * source import, the notice the import names and the file's evidence —
     * the event and the state it explains in one transaction. A pair that has
     * a subscription already, in whatever state, is left as it is: an import
     * is not the person's own act, so it never re-opens a list someone left
     * (the import checks that before; ON CONFLICT keeps it so against a
     * concurrent writer). Returns the pairs added, as `contactId:listId`.
     */
    async addImportedIn(tx: Queryable, rows: ImportedSubscription[], noticeId: string, actor: Actor): Promise<Set<string>> {
      const now = clock.now()
      const ids = newIds(rows.length)
      const inserted = await insertActiveSubscriptionsIfAbsent(
        tx,
        rows.map((r, i) => ({ id: ids[i]!, contactId: r.contactId, listId: r.list.id, confirmedAt: r.subscribedAt ?? now })),
        'import',
        now,
      )
      const added = new Set(inserted.map((p) => `${p.contactId}:${p.listId}`))
      await consent.recordEventsIn(
        tx,
        actor,
        now,
        rows
          .filter((r) => added.has(`${r.contactId}:${r.list.id}`))
          .map((r) => ({
            contactId: r.contactId,
            addressHash: r.addressHash,
            email: r.email,
            listId: r.list.id,
            purpose: r.list.purpose,
            type: 'granted' as const,
            basis: LegalBasis.consent,
            source: 'import' as const,
            noticeId,
            ip: r.ip,
            evidence: r.evidence,
            occurredAt: r.subscribedAt ?? now,
          })),
      )
      return added
    },

    /** One contact's subscription to one list, or subscription_not_found. */
    async getSubscription(listId: string, contactId: string): Promise<SubscriptionRow> {
      const subscription = await findSubscription(db, contactId, listId)
      if (!subscription) throw new NotFoundError('Subscription', 'subscription_not_found')
      return subscription
    },

    /** Double opt-in: the person confirmed the address; pending becomes active. */
    confirm(listId: string, contactId: string, input: ChangeInput, actor: Actor): Promise<SubscriptionChange> {
      return db.transaction(async (tx) => {
        const list = await openChange(tx, contactId, listId)
        const existing = await lockSubscription(tx, contactId, listId)
        if (!existing) throw new NotFoundError('Subscription', 'subscription_not_found')
        if (existing.status === SubscriptionStatus.active) return { subscription: existing, changed: false }
        if (existing.status !== SubscriptionStatus.pending) {
          throw new ConflictError('subscription_not_pending', 'Only a pending subscription can be confirmed')
        }
        const now = clock.now()
        const subscription = await updateSubscriptionRow(tx, existing.id, { status: SubscriptionStatus.active, confirmedAt: now, updatedAt: now })
        await consent.recordEvent(tx, actor, now, consentEventFor(input, { contactId, listId, purpose: list.purpose, type: 'confirmed', basis: LegalBasis.consent }))
        return { subscription, changed: true }
      })
    },

    /** A page of a list's members with their addresses. */
    async listMembers(listId: string, query: { status?: SubscriptionStatus; cursor?: string; limit?: number }) {
      await lists.requireList(db, listId)
      const limit = query.limit ?? 50
      const rows = await findListMembers(db, { listId, status: query.status, after: decodeCursor(query.cursor), limit: limit + 1 })
      const page = toPage(rows, limit, (s) => ({ at: s.createdAt, id: s.id }))
      const emails = new Map((await contacts.contactsByIds(db, page.items.map((s) => s.contactId))).map((c) => [c.id, c.email]))
      return { ...page, items: page.items.map((s) => ({ ...s, email: emails.get(s.contactId)! })) }
    },

    /** A contact's subscriptions, each with its list's slug and kind. */
    async contactSubscriptions(contactId: string) {
      await contacts.requireContact(db, contactId)
      const rows = await findContactSubscriptions(db, contactId)
      const byId = new Map((await lists.findListsByIds(db, rows.map((s) => s.listId))).map((l) => [l.id, l]))
      return rows.map((s) => ({ ...s, listSlug: byId.get(s.listId)!.slug, listKind: byId.get(s.listId)!.kind }))
    },
  }
}
export type SubscriptionService = ReturnType<typeof createSubscriptionService>
