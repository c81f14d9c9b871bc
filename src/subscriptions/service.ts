// Subscriptions: who is on which list. Every change appends a consent event
// and updates the subscription row in the same transaction (events plus a
// projection); the contact row is locked first so that changes to one person
// are serialised. Knows nothing of HTTP.
import type { Database, Queryable } from '../../db/client.js'
import { LegalBasis, ListKind, SubscriptionStatus, type ConsentSource } from '../../db/schema/index.js'
import { recordConsentEvent, resolveNotice, type ConsentInput } from '../consent/service.js'
import { requireContact } from '../contacts/service.js'
import { isPersonsOwnAct } from '../decision/decide.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { requireList } from '../lists/service.js'
import { createOptOut, optOutLocked } from './opt-out.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import type { ListRow } from '../lists/queries.js'
import {
  findContactsWithDueDeferredUnsubscribes,
  findContactSubscriptions,
  findListMembers,
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

export interface SubscriptionChange {
  subscription: SubscriptionRow
  /** False when the request changed nothing (it was already so). */
  changed: boolean
}

export interface UnsubscribeResult extends SubscriptionChange {
  /** Set when the opt-out is deferred: a course list while enrolled (P3). */
  lockedUntil: Date | null
}

/** Locks the contact and loads the list: the start of every subscription change. */
export async function openChange(tx: Queryable, contactId: string, listId: string): Promise<ListRow> {
  await requireContact(tx, contactId, { lock: true })
  return requireList(tx, listId)
}

export function createSubscriptionService({ db, clock, pepper }: { db: Database; clock: Clock; pepper: string }) {
  const optOut = createOptOut({ clock, pepper })

  async function subscribeIn(tx: Queryable, listId: string, input: SubscribeInput, actor: Actor): Promise<SubscriptionChange> {
    const list = await openChange(tx, input.contactId, listId)
    if (list.archivedAt) throw new ConflictError('list_archived', 'The list is archived')
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
    const notice = input.consent ? await resolveNotice(tx, input.consent.notice, now) : null
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
    await recordConsentEvent(tx, actor, now, {
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

  /**
   * Unsubscribes now, or — from a course list while enrolled (P3) — records
   * the wish to be carried out when the enrollment ends and says until when.
   */
  async function unsubscribeIn(tx: Queryable, listId: string, contactId: string, input: ChangeInput, actor: Actor): Promise<UnsubscribeResult> {
    const list = await openChange(tx, contactId, listId)
    const existing = await lockSubscription(tx, contactId, listId)
    if (!existing) throw new NotFoundError('Subscription', 'subscription_not_found')
    if (existing.status === SubscriptionStatus.unsubscribed) return { subscription: existing, changed: false, lockedUntil: null }
    const lockedUntil = await optOut.deferIfLocked(tx, list, contactId, input, actor)
    if (lockedUntil) return { subscription: existing, changed: false, lockedUntil }
    return { ...(await optOut.unsubscribeNow(tx, list, existing, input, actor)), lockedUntil: null }
  }

  return {
    subscribeIn,
    unsubscribeIn,

    subscribe: (listId: string, input: SubscribeInput, actor: Actor) => db.transaction((tx) => subscribeIn(tx, listId, input, actor)),

    /** Unsubscribes; a locked course list answers optout_locked_by_enrollment once the wish is stored. */
    async unsubscribe(listId: string, contactId: string, input: ChangeInput, actor: Actor): Promise<SubscriptionChange> {
      const result = await db.transaction((tx) => unsubscribeIn(tx, listId, contactId, input, actor))
      if (result.lockedUntil) throw optOutLocked(result.lockedUntil)
      return result
    },

    unsubscribeAll: (contactId: string, input: ChangeInput, actor: Actor) =>
      db.transaction(async (tx) => {
        await requireContact(tx, contactId, { lock: true })
        return optOut.unsubscribeAllIn(tx, contactId, input, actor)
      }),

    enrollIn: optOut.enrollIn,
    applyDueDeferredIn: optOut.applyDueDeferredIn,

    /**
     * Carries out every course-list opt-out whose lock has ended (the course
     * is over by date, or the enrollment ended): the periodic job calls this.
     * One transaction per person, so one failure holds up no one else.
     */
    async applyDueDeferredUnsubscribes(actor: Actor): Promise<number> {
      let applied = 0
      for (const contactId of await findContactsWithDueDeferredUnsubscribes(db, clock.now())) {
        applied += await db.transaction(async (tx) => {
          await requireContact(tx, contactId, { lock: true })
          return (await optOut.applyDueDeferredIn(tx, contactId, actor)).length
        })
      }
      return applied
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
        await recordConsentEvent(tx, actor, now, {
          contactId,
          listId,
          purpose: list.purpose,
          type: 'confirmed',
          basis: LegalBasis.consent,
          source: input.source,
          ip: input.ip ?? null,
          userAgent: input.userAgent ?? null,
          evidence: input.evidence ?? null,
        })
        return { subscription, changed: true }
      })
    },

    async listMembers(listId: string, query: { status?: SubscriptionStatus; cursor?: string; limit?: number }) {
      await requireList(db, listId)
      const limit = query.limit ?? 50
      const rows = await findListMembers(db, { listId, status: query.status, after: decodeCursor(query.cursor), limit: limit + 1 })
      const page = toPage(rows, limit, (r) => ({ at: r.subscription.createdAt, id: r.subscription.id }))
      return { ...page, items: page.items.map((r) => ({ ...r.subscription, email: r.email })) }
    },

    async contactSubscriptions(contactId: string) {
      await requireContact(db, contactId)
      const rows = await findContactSubscriptions(db, contactId)
      return rows.map((r) => ({ ...r.subscription, listSlug: r.listSlug, listKind: r.listKind }))
    },
  }
}
export type SubscriptionService = ReturnType<typeof createSubscriptionService>
