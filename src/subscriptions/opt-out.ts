// Opting out, and the course lock (P3): course mail cannot be opted out of
// while the person is enrolled. Whether a course list is locked, and until
// when, is the decision's answer for course mail (decide.ts) — never worked
// out here. A locked opt-out is refused for now, stored, and carried out once
// the decision no longer locks it; unsubscribe-all takes effect at once for
// every other list. Changes run with the contact locked.
import { pipelined, type Database, type Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { ConsentService } from '../consent/service.js'
import type { ContactRow } from '../contacts/queries.js'
import type { ContactService, Recipient } from '../contacts/service.js'
import type { DecisionService } from '../decision/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError } from '../lib/errors.js'
import type { Cursor } from '../lib/pagination.js'
import type { ListRow } from '../lists/queries.js'
import type { ListService } from '../lists/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import { LegalBasis, ListKind, SubscriptionStatus } from '../vocabulary.js'
import {
  findContactSubscriptions,
  findOpenDeferredUnsubscribePage,
  findOpenDeferredUnsubscribes,
  insertDeferredUnsubscribe,
  insertSubscription,
  lockSubscription,
  markDeferredUnsubscribeApplied,
  updateSubscriptionRow,
  type SubscriptionRow,
} from './queries.js'
import { announceDeferredAppliedIn, announceUnsubscribedIn } from './announce.js'
import { consentEventFor, type ChangeInput, type SubscriptionChange } from './service.js'

/** How many open wishes the sweep reads at a time: memory stays flat however many there are. */
const SWEEP_BATCH = 200

export function optOutLocked(lockedUntil: Date): ConflictError {
  return new ConflictError(
    'optout_locked_by_enrollment',
    'Course mail cannot be opted out of while enrolled; the wish is recorded and carried out when the enrollment ends',
    { lockedUntil: lockedUntil.toISOString() },
  )
}

/** Lists whose opt-out leaves a suppression behind (course and transactional mail are not opted out of). */
const SUPPRESSIBLE: ReadonlySet<string> = new Set([ListKind.newsletter, ListKind.marketing])

/** A link's opt-out: what changed, and the contact and list it was about. */
export interface LinkOptOut {
  contact: ContactRow
  list: ListRow
  /** False when nothing changed (already out, or the wish was already kept). */
  changed: boolean
  /** Set when the opt-out is deferred: a course list while enrolled (P3). */
  lockedUntil: Date | null
}

export interface UnsubscribeResult extends SubscriptionChange {
  /** Set when the opt-out is deferred: a course list while enrolled (P3). */
  lockedUntil: Date | null
}

export function createOptOutService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  contacts: Pick<ContactService, 'requireContact' | 'recipientOf'>
  lists: Pick<ListService, 'requireList' | 'findListsByIds'>
  consent: Pick<ConsentService, 'recordEvent'>
  suppressions: Pick<SuppressionService, 'suppressIn'>
  decisions: Pick<DecisionService, 'courseLockUntil'>
}) {
  const { db, clock, audit, contacts, lists, consent, suppressions, decisions } = deps

  /** Until when this person cannot leave this list, as the decision for course mail says; null: not locked. */
  async function lockedUntil(tx: Queryable, list: ListRow, contactId: string): Promise<Date | null> {
    if (list.kind !== ListKind.course || !list.courseId) return null
    return decisions.courseLockUntil(tx, contactId, list.courseId)
  }

  /**
   * Stores the wish when the list is locked and returns the lock's end, and
   * whether the wish is new (an open one is kept once); null when not locked.
   */
  async function deferIfLocked(tx: Queryable, list: ListRow, contactId: string, input: ChangeInput, actor: Actor, now = clock.now()) {
    const until = await lockedUntil(tx, list, contactId)
    if (!until) return null
    const kept = await insertDeferredUnsubscribe(tx, { contactId, listId: list.id, source: input.source, requestedAt: now, requestedById: actor.id })
    await audit.record(tx, actor, now, {
      action: 'subscription.unsubscribe_deferred',
      entityType: 'contact',
      entityId: contactId,
      subjectId: contactId,
      changes: { listId: list.id, lockedUntil: until.toISOString() },
    })
    return { until, kept }
  }

  /**
   * Unsubscribes at once: the status, the withdrawal in the ledger, and a list
   * suppression. The three touch different tables and none depends on what
   * another writes (the suppression's check reads grants; this writes a
   * withdrawal), so they are sent together; the suppression's own steps follow its lock.
   */
  async function unsubscribeNow(tx: Queryable, list: ListRow, existing: SubscriptionRow, recipient: Recipient, input: ChangeInput, actor: Actor, now = clock.now()) {
    const [subscription] = await pipelined([
      updateSubscriptionRow(tx, existing.id, { status: SubscriptionStatus.unsubscribed, updatedAt: now, unsubscribedAt: now }),
      consent.recordEvent(
        tx,
        actor,
        now,
        consentEventFor(input, {
          contactId: existing.contactId,
          listId: list.id,
          addressHash: recipient.addressHash,
          email: recipient.email,
          purpose: list.purpose,
          type: 'withdrawn',
          basis: list.basis,
        }),
      ),
      SUPPRESSIBLE.has(list.kind) ? suppressions.suppressIn(tx, actor, now, recipient, { scope: 'list', reason: 'unsubscribe', listId: list.id }) : null,
    ])
    return { subscription, changed: true }
  }

  /** Carries out the person's stored course-list opt-outs that nothing locks any more (the caller holds the contact locked); returns their lists. */
  async function applyDueDeferredIn(tx: Queryable, contact: ContactRow, actor: Actor): Promise<string[]> {
    const contactId = contact.id
    const wishes = await findOpenDeferredUnsubscribes(tx, contactId)
    const listsById = new Map((await lists.findListsByIds(tx, wishes.map((w) => w.listId))).map((l) => [l.id, l]))
    const applied: string[] = []
    const recipient = contacts.recipientOf(contact)
    for (const wish of wishes) {
      const list = listsById.get(wish.listId)!
      if (await lockedUntil(tx, list, contactId)) continue
      const existing = await lockSubscription(tx, contactId, list.id)
      const now = clock.now()
      if (existing && existing.status !== SubscriptionStatus.unsubscribed) {
        const input = { source: wish.source, evidence: `deferred opt-out of ${wish.requestedAt.toISOString()}` }
        await unsubscribeNow(tx, list, existing, recipient, input, actor, now)
      }
      await markDeferredUnsubscribeApplied(tx, wish.id, now)
      // Announced even when the person had left the list meanwhile: the receiver heard of the wish, and hears it is done.
      await announceDeferredAppliedIn(tx, now, recipient, list)
      applied.push(list.id)
    }
    return applied
  }

  /**
   * Unsubscribe from everything: every non-course list now, course lists when
   * the lock ends, and a global suppression so that no list the person is not
   * on (existing-customer marketing) reaches them either.
   */
  async function unsubscribeAllIn(tx: Queryable, contact: ContactRow, input: ChangeInput, actor: Actor) {
    const contactId = contact.id
    const effectiveNow: { listId: string; slug: string; kind: ListKind }[] = []
    const deferred: { listId: string; slug: string; courseId: string; takesEffectAt: Date }[] = []
    let newlyKept = false
    const recipient = contacts.recipientOf(contact)
    const subscriptions = await findContactSubscriptions(tx, contactId)
    const listsById = new Map((await lists.findListsByIds(tx, subscriptions.map((s) => s.listId))).map((l) => [l.id, l]))
    for (const subscription of subscriptions) {
      const list = listsById.get(subscription.listId)!
      if (subscription.status === SubscriptionStatus.unsubscribed || list.kind === ListKind.transactional) continue
      const held = await deferIfLocked(tx, list, contactId, input, actor)
      if (held) {
        deferred.push({ listId: list.id, slug: list.slug, courseId: list.courseId!, takesEffectAt: held.until })
        newlyKept ||= held.kept
        continue
      }
      await unsubscribeNow(tx, list, (await lockSubscription(tx, contactId, list.id))!, recipient, input, actor)
      effectiveNow.push({ listId: list.id, slug: list.slug, kind: list.kind })
    }
    const now = clock.now()
    const { suppression, created } = await suppressions.suppressIn(tx, actor, now, recipient, {
      scope: 'global',
      reason: 'unsubscribe',
      note: input.evidence ?? null,
    })
    if (created || effectiveNow.length > 0 || newlyKept) {
      const until = deferred.length > 0 ? new Date(Math.max(...deferred.map((d) => d.takesEffectAt.getTime()))) : null
      await announceUnsubscribedIn(tx, now, recipient, null, until ? { until, courseIds: deferred.map((d) => d.courseId) } : null)
    }
    return { effectiveNow, deferred, suppressionId: suppression.id }
  }

  /** An objection to marketing (art. 21) in the consent ledger: to the marketing purpose, on no list, against legitimate interest. */
  async function recordObjectionIn(tx: Queryable, actor: Actor, now: Date, person: { contactId: string; addressHash: string; email?: string }, input: ChangeInput) {
    await consent.recordEvent(
      tx,
      actor,
      now,
      consentEventFor(input, { ...person, listId: null, purpose: ListKind.marketing, type: 'objected', basis: LegalBasis.legitimateInterest }),
    )
  }

  /**
   * An objection to marketing (art. 21), from the person: in the consent
   * ledger and as a suppression for the marketing purpose, which no
   * existing-customer rule overrides. Repeating it changes nothing more.
   */
  async function objectToMarketingIn(tx: Queryable, contactId: string, input: ChangeInput, actor: Actor): Promise<{ changed: boolean }> {
    const recipient = contacts.recipientOf(await contacts.requireContact(tx, contactId, { lock: true }))
    const now = clock.now()
    const { created } = await suppressions.suppressIn(tx, actor, now, recipient, {
      scope: 'purpose',
      purpose: ListKind.marketing,
      reason: 'objection',
      note: input.evidence ?? null,
    })
    if (!created) return { changed: false }
    await recordObjectionIn(tx, actor, now, { contactId, addressHash: recipient.addressHash, email: recipient.email }, input)
    return { changed: true }
  }

  /**
   * A spam complaint (src/returns): no more newsletter or marketing mail — a
   * global suppression with reason complaint — and an objection in the
   * consent ledger with source complaint; course and transactional mail go
   * on (the person may be on a course). For an erased person, the suppression
   * by the keyed hash alone: there is no one left to record an event of.
   */
  async function recordComplaintIn(tx: Queryable, recipient: Recipient, evidence: string, actor: Actor): Promise<{ changed: boolean }> {
    // A message's contact is gone once erased (the column is set to null), so one named is there.
    const contact = recipient.contactId ? await contacts.requireContact(tx, recipient.contactId, { lock: true }) : undefined
    const now = clock.now()
    const { created } = await suppressions.suppressIn(tx, actor, now, { contactId: contact?.id ?? null, addressHash: recipient.addressHash, email: contact?.email }, {
      scope: 'global',
      reason: 'complaint',
      note: evidence,
    })
    if (!created || !contact) return { changed: created }
    await recordObjectionIn(tx, actor, now, { contactId: contact.id, addressHash: recipient.addressHash, email: contact.email }, { source: 'complaint', evidence })
    return { changed: true }
  }

  return {
    applyDueDeferredIn,
    recordComplaintIn,

    /** An enrollment puts the person on the course list, on the contract basis. */
    async enrollIn(tx: Queryable, contactId: string, list: ListRow, actor: Actor): Promise<void> {
      const now = clock.now()
      const existing = await lockSubscription(tx, contactId, list.id)
      if (existing?.status === SubscriptionStatus.active) return
      const fields = { status: SubscriptionStatus.active, source: 'enrollment' as const, updatedAt: now, confirmedAt: now, unsubscribedAt: null }
      if (existing) await updateSubscriptionRow(tx, existing.id, fields)
      else await insertSubscription(tx, { ...fields, contactId, listId: list.id, createdAt: now })
      await consent.recordEvent(tx, actor, now, {
        contactId,
        listId: list.id,
        purpose: list.purpose,
        type: 'granted',
        basis: LegalBasis.contract,
        source: 'enrollment',
      })
    },

    /**
     * Unsubscribes now, or — from a course list the decision locks (P3) —
     * records the wish, to be carried out when the lock ends, and answers
     * optout_locked_by_enrollment with until when.
     */
    async unsubscribe(listId: string, contactId: string, input: ChangeInput, actor: Actor): Promise<SubscriptionChange> {
      const result = await db.transaction(async (tx): Promise<UnsubscribeResult> => {
        const recipient = contacts.recipientOf(await contacts.requireContact(tx, contactId, { lock: true }))
        const list = await lists.requireList(tx, listId)
        const existing = await lockSubscription(tx, contactId, listId)
        if (!existing) throw new NotFoundError('Subscription', 'subscription_not_found')
        if (existing.status === SubscriptionStatus.unsubscribed) return { subscription: existing, changed: false, lockedUntil: null }
        const now = clock.now()
        const held = await deferIfLocked(tx, list, contactId, input, actor, now)
        if (held) {
          if (held.kept) await announceUnsubscribedIn(tx, now, recipient, list.id, { until: held.until, courseIds: [list.courseId!] })
          return { subscription: existing, changed: false, lockedUntil: held.until }
        }
        const change = await unsubscribeNow(tx, list, existing, recipient, input, actor, now)
        await announceUnsubscribedIn(tx, now, recipient, list.id, null)
        return { ...change, lockedUntil: null }
      })
      // Thrown after the transaction committed: the wish is kept.
      if (result.lockedUntil) throw optOutLocked(result.lockedUntil)
      return result
    },

    /**
     * Leaves one list from a link in a message (one-click, or the button on
     * the unsubscribe page): unsubscribes the subscription if there is one;
     * with none — marketing under the existing-customer rule — the list
     * suppression alone says no. From a locked course list the wish is kept
     * and `lockedUntil` says until when. Repeating it changes nothing more.
     * Answers with the contact and the list it read (the link's page shows
     * them); NotFoundError when either is gone.
     */
    async unsubscribeByLink(listId: string, contactId: string, input: ChangeInput, actor: Actor): Promise<LinkOptOut> {
      return db.transaction(async (tx) => {
        // Read once, sent together: the contact locked first, as every change of theirs locks it, then the subscription.
        const [contact, list, existing] = await pipelined([
          contacts.requireContact(tx, contactId, { lock: true }),
          lists.requireList(tx, listId),
          lockSubscription(tx, contactId, listId),
        ])
        const recipient = contacts.recipientOf(contact)
        const answer = (changed: boolean, lockedUntil: Date | null): LinkOptOut => ({ contact, list, changed, lockedUntil })
        const now = clock.now()
        if (existing && existing.status !== SubscriptionStatus.unsubscribed) {
          const held = await deferIfLocked(tx, list, contactId, input, actor, now)
          if (held) {
            if (held.kept) await announceUnsubscribedIn(tx, now, recipient, list.id, { until: held.until, courseIds: [list.courseId!] })
            return answer(false, held.until)
          }
          await unsubscribeNow(tx, list, existing, recipient, input, actor, now)
          await announceUnsubscribedIn(tx, now, recipient, list.id, null)
          return answer(true, null)
        }
        if (!SUPPRESSIBLE.has(list.kind)) return answer(false, null)
        const { created } = await suppressions.suppressIn(tx, actor, now, recipient, {
          scope: 'list',
          reason: 'unsubscribe',
          listId: list.id,
          note: input.evidence ?? null,
        })
        if (created) await announceUnsubscribedIn(tx, now, recipient, list.id, null)
        return answer(created, null)
      })
    },

    /** An objection to marketing (art. 21) in its own transaction. */
    objectToMarketing: (contactId: string, input: ChangeInput, actor: Actor): Promise<{ changed: boolean }> =>
      db.transaction((tx) => objectToMarketingIn(tx, contactId, input, actor)),

    objectToMarketingIn,

    unsubscribeAll: (contactId: string, input: ChangeInput, actor: Actor) =>
      db.transaction(async (tx) => {
        return unsubscribeAllIn(tx, await contacts.requireContact(tx, contactId, { lock: true }), input, actor)
      }),

    /**
     * Carries out every stored opt-out the decision no longer locks (the course
     * is over by date, or the enrollment ended). The periodic job calls this.
     * Reads the open wishes a batch at a time, and takes one transaction per
     * person, so one failure holds up no one else.
     */
    async applyDueDeferredUnsubscribes(actor: Actor): Promise<number> {
      let applied = 0
      let after: Cursor | undefined
      const checked = new Set<string>()
      for (;;) {
        const page = await findOpenDeferredUnsubscribePage(db, { after, limit: SWEEP_BATCH })
        for (const wish of page) {
          if (checked.has(wish.contactId)) continue
          checked.add(wish.contactId)
          applied += await db.transaction(async (tx) => {
            return (await applyDueDeferredIn(tx, await contacts.requireContact(tx, wish.contactId, { lock: true }), actor)).length
          })
        }
        if (page.length < SWEEP_BATCH) return applied
        after = { at: page.at(-1)!.requestedAt, id: page.at(-1)!.id }
      }
    },
  }
}
export type OptOutService = ReturnType<typeof createOptOutService>
