// The preference page as a service: what a person sees of their own mail
// (their lists and the public ones, course mail locked until when, wishes kept
// for later, offers they get as a customer, an objection, what happens to
// their data after a course) and what they can do about it, each through the
// service that owns it — the same rules as the API, with the person as the
// actor. The link in a message is the only credential: a token that does not
// verify is no page, and nothing changes. Knows nothing of HTTP or HTML.
import type { Database } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { Clock } from '../lib/clock.js'
import type { Config } from '../config.js'
import type { ContactService } from '../contacts/service.js'
import type { EnrollmentService } from '../courses/enrollment-service.js'
import type { DecisionService } from '../decision/service.js'
import { subscriberActor } from '../lib/actor.js'
import { NotFoundError, UnprocessableError } from '../lib/errors.js'
import { verifyLink } from '../lib/link-tokens.js'
import type { ListRow } from '../lists/queries.js'
import type { ListService } from '../lists/service.js'
import type { DataSubjectRequestService } from '../data-subject-requests/service.js'
import type { OptOutService } from '../subscriptions/opt-out.js'
import type { ChangeInput, SubscriptionService } from '../subscriptions/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import { ListKind, RequestType, type Locale } from '../vocabulary.js'

/** The text beside the join buttons: the notice a person sees when joining a list here, stored with their consent. */
export const JOIN_NOTICE: Record<Locale, { key: string; version: number; text: string }> = {
  nb: {
    key: 'preference-page-join.nb',
    version: 1,
    text: 'Når du melder deg på en liste her, samtykker du til å få e-post fra den. Du kan melde deg av når som helst, her eller med lenken nederst i hver e-post.',
  },
  en: {
    key: 'preference-page-join.en',
    version: 1,
    text: 'When you join a list here, you consent to receiving email from it. You can leave at any time, here or with the link at the bottom of every email.',
  },
}

/** Why a person left, when they choose to say: codes only, so nothing they type is kept about them. */
export const LEAVE_REASONS = ['too_many', 'not_relevant', 'never_signed_up', 'other'] as const
export type LeaveReason = (typeof LEAVE_REASONS)[number]

export type ListState = 'subscribed' | 'pending' | 'unsubscribed' | 'not_subscribed'

export interface PreferenceList {
  id: string
  name: string
  description: string | null
  kind: ListKind
  state: ListState
  /** Course mail: the person cannot leave before this (P3). */
  lockedUntil: Date | null
  /** A wish to leave kept while the course runs: carried out on this date. */
  leavesOn: Date | null
  /** The list the link came from. */
  fromLink: boolean
}

export interface PreferenceView {
  contactId: string
  email: string
  locale: Locale
  lists: PreferenceList[]
  /** An unsubscribe from everything is in force. */
  unsubscribedFromAll: boolean
  objectedToMarketing: boolean
  /** The marketing lists that may reach them now as an existing customer (the decision's answer); empty when they are no customer. */
  customerOffers: { id: string; name: string }[]
  /** Courses: the person's running and finished courses, and whether they asked to keep their data (P1). */
  courses: { name: string; endsAt: Date; running: boolean }[]
  keepDataAfterCourse: boolean
}

export type PreferenceAction =
  | { type: 'leave'; listId: string }
  | { type: 'join'; listId: string }
  | { type: 'leave-all' }
  | { type: 'object-marketing' }
  | { type: 'keep-data'; keep: boolean }
  | { type: 'request-copy' }
  | { type: 'leave-reason'; listId: string; reason: LeaveReason }

/** What an action did, for the page that answers it. */
export type PreferenceOutcome =
  | { type: 'left'; list: PreferenceList; changed: boolean }
  | { type: 'leave-kept'; list: PreferenceList; leavesOn: Date }
  | { type: 'joined'; list: PreferenceList; changed: boolean }
  | { type: 'left-all'; leftNow: string[]; courseMailUntil: { list: string; until: Date }[] }
  | { type: 'objected'; changed: boolean }
  | { type: 'keep-data'; keep: boolean }
  | { type: 'copy-requested'; dueAt: Date }
  | { type: 'reason-noted' }

export interface RequestContext {
  ip?: string
  userAgent?: string
  /** The language the page was shown in: the notice a join records is the one in this language. */
  locale: Locale
}

export function createPreferencePageService(deps: {
  db: Database
  clock: Clock
  config: Pick<Config, 'linkSigningKeys'>
  audit: AuditRecorder
  contacts: Pick<ContactService, 'requireContact' | 'recipientById'>
  lists: Pick<ListService, 'findListsByIds' | 'findOpenNonCourseLists'>
  subscriptions: Pick<SubscriptionService, 'subscriptionsOf' | 'deferredUnsubscribesOf' | 'subscribe' | 'confirm'>
  optOut: Pick<OptOutService, 'unsubscribeByLink' | 'unsubscribeAll' | 'objectToMarketing'>
  decisions: Pick<DecisionService, 'courseLockUntil' | 'existingCustomerLists'>
  enrollments: Pick<EnrollmentService, 'enrollmentsOf' | 'setKeepDataAfterCourse'>
  suppressions: Pick<SuppressionService, 'suppressionsOf'>
  dataSubjectRequests: Pick<DataSubjectRequestService, 'requestFromPage'>
}) {
  const { db, clock, config, audit, contacts, lists, subscriptions, optOut, decisions, enrollments, suppressions, dataSubjectRequests } = deps

  /** The contact and the list the token names, or null: a token that does not verify, or names what is gone. */
  async function resolve(token: string) {
    const scope = verifyLink(config.linkSigningKeys, 'unsubscribe', token)
    if (!scope) return null
    try {
      return { contact: await contacts.requireContact(db, scope.contactId), linkListId: scope.listId }
    } catch (error) {
      if (error instanceof NotFoundError) return null
      throw error
    }
  }

  async function view(token: string): Promise<PreferenceView | null> {
    const found = await resolve(token)
    if (!found) return null
    const { contact, linkListId } = found
    const now = clock.now()
    const held = await subscriptions.subscriptionsOf(db, contact.id)
    const open = (await lists.findOpenNonCourseLists(db)).filter((l) => l.public && l.kind !== ListKind.transactional)
    const theirs = await lists.findListsByIds(db, [...held.map((s) => s.listId), linkListId])
    const byId = new Map<string, ListRow>([...open, ...theirs].map((l) => [l.id, l]))
    const wishes = (await subscriptions.deferredUnsubscribesOf(db, contact.id)).filter((w) => !w.appliedAt)
    const shown: PreferenceList[] = []
    for (const list of byId.values()) {
      if (list.kind === ListKind.transactional) continue
      const subscription = held.find((s) => s.listId === list.id)
      // An archived list the person was never on is nothing to them.
      if (list.archivedAt && !subscription) continue
      const state: ListState = subscription ? (subscription.status === 'active' ? 'subscribed' : subscription.status) : 'not_subscribed'
      const lockedUntil =
        list.kind === ListKind.course && list.courseId && state === 'subscribed' ? await decisions.courseLockUntil(db, contact.id, list.courseId) : null
      const wish = wishes.find((w) => w.listId === list.id)
      shown.push({
        id: list.id,
        name: list.name,
        description: list.description,
        kind: list.kind,
        state,
        lockedUntil,
        leavesOn: wish && lockedUntil ? lockedUntil : null,
        fromLink: list.id === linkListId,
      })
    }
    // Course mail first, then the link's list, then by name.
    shown.sort((a, b) => Number(b.kind === 'course') - Number(a.kind === 'course') || Number(b.fromLink) - Number(a.fromLink) || a.name.localeCompare(b.name))

    const recipient = await contacts.recipientById(db, contact.id)
    const inForce = (await suppressions.suppressionsOf(db, recipient)).filter(
      (s) => !s.liftedAt && s.createdAt <= now && (!s.expiresAt || s.expiresAt > now),
    )
    const courses = await enrollments.enrollmentsOf(db, contact.id)
    const active = courses.filter(({ enrollment }) => enrollment.status !== 'cancelled')
    return {
      contactId: contact.id,
      email: contact.email,
      locale: contact.locale,
      lists: shown,
      unsubscribedFromAll: inForce.some((s) => s.scope === 'global' && s.reason === 'unsubscribe'),
      objectedToMarketing: inForce.some((s) => s.scope === 'purpose' && s.purpose === ListKind.marketing && s.reason === 'objection'),
      customerOffers: await decisions.existingCustomerLists(db, contact.id),
      courses: active.map(({ course, enrollment }) => ({
        name: course.name,
        endsAt: course.endsAt,
        running: enrollment.status === 'active' && course.endsAt > now,
      })),
      keepDataAfterCourse: active.some(({ enrollment }) => enrollment.keepDataAfterCourse),
    }
  }

  /** A list the page offers: one of the person's own, or a public one. Anything else is not on the page. */
  function listOnPage(page: PreferenceView, listId: string): PreferenceList {
    const list = page.lists.find((l) => l.id === listId)
    if (!list) throw new UnprocessableError('list_not_on_page', 'That list is not one you can choose here')
    return list
  }

  async function act(token: string, action: PreferenceAction, request: RequestContext): Promise<PreferenceOutcome | null> {
    const page = await view(token)
    if (!page) return null
    const actor = subscriberActor(page.contactId)
    const change: ChangeInput = { source: 'link', evidence: 'preference page', ip: request.ip, userAgent: request.userAgent }
    switch (action.type) {
      case 'leave': {
        const list = listOnPage(page, action.listId)
        const result = await optOut.unsubscribeByLink(list.id, page.contactId, change, actor)
        if (result.lockedUntil) return { type: 'leave-kept', list, leavesOn: result.lockedUntil }
        return { type: 'left', list, changed: result.changed }
      }
      case 'join': {
        const list = listOnPage(page, action.listId)
        if (list.kind !== ListKind.newsletter && list.kind !== ListKind.marketing) {
          throw new UnprocessableError('list_not_joinable', 'Course mail follows your enrollments; it cannot be joined here')
        }
        const notice = JOIN_NOTICE[request.locale]
        const joined = await subscriptions.subscribe(
          list.id,
          { contactId: page.contactId, source: 'link', evidence: 'preference page', consent: { given: true, notice: { ...notice, locale: request.locale }, ip: request.ip, userAgent: request.userAgent } },
          actor,
        )
        // Double opt-in asks whether the address is the person's: the link in their mail already showed it is.
        if (joined.subscription.status === 'pending') {
          await subscriptions.confirm(list.id, page.contactId, { ...change, evidence: 'joined from the preference page, reached by a link sent to the address' }, actor)
        }
        return { type: 'joined', list, changed: joined.changed }
      }
      case 'leave-all': {
        const result = await optOut.unsubscribeAll(page.contactId, change, actor)
        const nameOf = (listId: string) => page.lists.find((l) => l.id === listId)?.name ?? ''
        return {
          type: 'left-all',
          leftNow: result.effectiveNow.map((l) => nameOf(l.listId)),
          courseMailUntil: result.deferred.map((d) => ({ list: nameOf(d.listId), until: d.takesEffectAt })),
        }
      }
      case 'object-marketing':
        return { type: 'objected', ...(await optOut.objectToMarketing(page.contactId, change, actor)) }
      case 'keep-data':
        await enrollments.setKeepDataAfterCourse(page.contactId, action.keep, actor)
        return { type: 'keep-data', keep: action.keep }
      case 'request-copy': {
        // An access request (art. 15), due like any other; asking again while it is open answers the same one.
        const request = await dataSubjectRequests.requestFromPage(page.contactId, RequestType.access, actor)
        return { type: 'copy-requested', dueAt: request.dueAt }
      }
      case 'leave-reason':
        listOnPage(page, action.listId)
        await db.transaction((tx) =>
          audit.record(tx, actor, clock.now(), {
            action: 'subscription.leave_reason',
            entityType: 'list',
            entityId: action.listId,
            subjectId: page.contactId,
            changes: { reason: { from: null, to: action.reason } },
          }),
        )
        return { type: 'reason-noted' }
    }
  }

  return {
    /** What the page shows (a GET never changes anything: mail scanners follow links). */
    view,
    /** One choice made on the page. */
    act,
  }
}
export type PreferencePageService = ReturnType<typeof createPreferencePageService>
