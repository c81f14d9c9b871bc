// Opting out, and the course lock (P3): course mail cannot be opted out of
// while the person is enrolled. Such a wish is refused for now, stored, and
// carried out when the enrollment ends; unsubscribe-all takes effect at once
// for every other list. Runs inside the caller's transaction, contact locked.
import type { Queryable } from '../../db/client.js'
import { LegalBasis, ListKind, SubscriptionStatus } from '../../db/schema/index.js'
import { recordAudit } from '../audit/service.js'
import { recordConsentEvent } from '../consent/service.js'
import { findContactById } from '../contacts/queries.js'
import { findActiveEnrollmentsInCourse } from '../courses/queries.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { storedAddressHash } from '../lib/email.js'
import { ConflictError } from '../lib/errors.js'
import { findListById, type ListRow } from '../lists/queries.js'
import { suppressIn } from '../suppressions/service.js'
import {
  findContactSubscriptions,
  findOpenDeferredUnsubscribes,
  insertDeferredUnsubscribe,
  insertSubscription,
  lockSubscription,
  markDeferredUnsubscribeApplied,
  updateSubscriptionRow,
  type SubscriptionRow,
} from './queries.js'
import type { ChangeInput } from './service.js'

export function optOutLocked(lockedUntil: Date): ConflictError {
  return new ConflictError(
    'optout_locked_by_enrollment',
    'Course mail cannot be opted out of while enrolled; the wish is recorded and carried out when the enrollment ends',
    { lockedUntil: lockedUntil.toISOString() },
  )
}

/** Lists whose opt-out leaves a suppression behind (course and transactional mail are not opted out of). */
const SUPPRESSIBLE: ReadonlySet<string> = new Set([ListKind.newsletter, ListKind.marketing])

export function createOptOut({ clock, pepper }: { clock: Clock; pepper: string }) {
  async function recipientOf(tx: Queryable, contactId: string) {
    const contact = (await findContactById(tx, contactId))!
    return { contactId, addressHash: storedAddressHash(contact.email, pepper) }
  }

  /** The end of the course lock on this list for this person, or null when not locked. */
  async function lockedUntil(tx: Queryable, list: ListRow, contactId: string, now: Date): Promise<Date | null> {
    if (list.kind !== ListKind.course || !list.courseId) return null
    const active = await findActiveEnrollmentsInCourse(tx, contactId, list.courseId, now)
    return active.reduce<Date | null>((latest, a) => (!latest || a.endsAt > latest ? a.endsAt : latest), null)
  }

  /** Stores the wish when the list is locked and returns the lock's end; null when not locked. */
  async function deferIfLocked(tx: Queryable, list: ListRow, contactId: string, input: ChangeInput, actor: Actor): Promise<Date | null> {
    const now = clock.now()
    const until = await lockedUntil(tx, list, contactId, now)
    if (!until) return null
    await insertDeferredUnsubscribe(tx, { contactId, listId: list.id, source: input.source, requestedAt: now, requestedById: actor.id })
    await recordAudit(tx, actor, now, {
      action: 'subscription.unsubscribe_deferred',
      entityType: 'contact',
      entityId: contactId,
      changes: { listId: list.id, lockedUntil: until.toISOString() },
    })
    return until
  }

  /** Unsubscribes at once: the status, the withdrawal in the ledger, and a list suppression. */
  async function unsubscribeNow(tx: Queryable, list: ListRow, existing: SubscriptionRow, input: ChangeInput, actor: Actor) {
    const now = clock.now()
    const subscription = await updateSubscriptionRow(tx, existing.id, { status: SubscriptionStatus.unsubscribed, updatedAt: now, unsubscribedAt: now })
    await recordConsentEvent(tx, actor, now, {
      contactId: existing.contactId,
      listId: list.id,
      purpose: list.purpose,
      type: 'withdrawn',
      basis: list.basis,
      source: input.source,
      ip: input.ip ?? null,
      userAgent: input.userAgent ?? null,
      evidence: input.evidence ?? null,
    })
    if (SUPPRESSIBLE.has(list.kind)) {
      await suppressIn(tx, actor, now, await recipientOf(tx, existing.contactId), { scope: 'list', reason: 'unsubscribe', listId: list.id })
    }
    return { subscription, changed: true }
  }

  return {
    deferIfLocked,
    unsubscribeNow,

    /** An enrollment puts the person on the course list, on the contract basis. */
    async enrollIn(tx: Queryable, contactId: string, list: ListRow, actor: Actor): Promise<void> {
      const now = clock.now()
      const existing = await lockSubscription(tx, contactId, list.id)
      if (existing?.status === SubscriptionStatus.active) return
      const fields = { status: SubscriptionStatus.active, source: 'enrollment' as const, updatedAt: now, confirmedAt: now, unsubscribedAt: null }
      if (existing) await updateSubscriptionRow(tx, existing.id, fields)
      else await insertSubscription(tx, { ...fields, contactId, listId: list.id, createdAt: now })
      await recordConsentEvent(tx, actor, now, {
        contactId,
        listId: list.id,
        purpose: list.purpose,
        type: 'granted',
        basis: LegalBasis.contract,
        source: 'enrollment',
      })
    },

    /** Carries out the stored course-list opt-outs whose lock has ended. */
    async applyDueDeferredIn(tx: Queryable, contactId: string, actor: Actor): Promise<string[]> {
      const applied: string[] = []
      for (const { deferred } of await findOpenDeferredUnsubscribes(tx, contactId)) {
        const list = (await findListById(tx, deferred.listId))!
        if (await lockedUntil(tx, list, contactId, clock.now())) continue
        const existing = await lockSubscription(tx, contactId, list.id)
        if (existing && existing.status !== SubscriptionStatus.unsubscribed) {
          await unsubscribeNow(tx, list, existing, { source: deferred.source, evidence: `deferred opt-out of ${deferred.requestedAt.toISOString()}` }, actor)
        }
        await markDeferredUnsubscribeApplied(tx, deferred.id, clock.now())
        applied.push(list.id)
      }
      return applied
    },

    /**
     * Unsubscribe from everything: every non-course list now, course lists at
     * the end of the enrollment, and a global suppression so that no list the
     * person is not on (existing-customer marketing) reaches them either.
     */
    async unsubscribeAllIn(tx: Queryable, contactId: string, input: ChangeInput, actor: Actor) {
      const effectiveNow: { listId: string; slug: string; kind: ListKind }[] = []
      const deferred: { listId: string; slug: string; courseId: string; takesEffectAt: Date }[] = []
      for (const { subscription } of await findContactSubscriptions(tx, contactId)) {
        const list = (await findListById(tx, subscription.listId))!
        if (subscription.status === SubscriptionStatus.unsubscribed || list.kind === ListKind.transactional) continue
        const until = await deferIfLocked(tx, list, contactId, input, actor)
        if (until) {
          deferred.push({ listId: list.id, slug: list.slug, courseId: list.courseId!, takesEffectAt: until })
          continue
        }
        await unsubscribeNow(tx, list, (await lockSubscription(tx, contactId, list.id))!, input, actor)
        effectiveNow.push({ listId: list.id, slug: list.slug, kind: list.kind })
      }
      const { suppression } = await suppressIn(tx, actor, clock.now(), await recipientOf(tx, contactId), {
        scope: 'global',
        reason: 'unsubscribe',
        note: input.evidence ?? null,
      })
      return { effectiveNow, deferred, suppressionId: suppression.id }
    },
  }
}
