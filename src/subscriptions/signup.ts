// Signup from the company's web forms and downloads (P2), and its double
// opt-in: the person's own act, recorded as consent with the notice they saw,
// the connection's address and browser. A double opt-in list sends a
// confirmation mail through the transactional send path, and the subscription
// stays pending — no list mail — until the person confirms with a POST from
// the link's page (a mail scanner's GET confirms nobody). The caller gets the
// same answer whether the address was known or not. Knows nothing of HTTP.
import type { Database } from '../../db/client.js'
import type { Config } from '../config.js'
import type { ConsentService } from '../consent/service.js'
import type { ContactService } from '../contacts/service.js'
import type { Actor } from '../lib/actor.js'
import { subscriberActor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { UnprocessableError } from '../lib/errors.js'
import { signLink, verifyLink } from '../lib/link-tokens.js'
import type { ListService } from '../lists/service.js'
import type { SendService } from '../sends/service.js'
import type { Locale } from '../vocabulary.js'
import type { SubscriptionService } from './service.js'

/** Who a signup form acts as: the person, not yet known by id. */
const signupActor: Actor = { id: 'subscriber:signup-form', name: 'Signup form', role: 'subscriber' }

export interface SignupInput {
  email: string
  name?: string
  /** Slugs of public newsletter or marketing lists. */
  lists: string[]
  /** The consent text the form showed, stored before (POST /v1/notices or a consent with its text). */
  notice: { key: string; version: number }
  locale?: Locale
  /** The connection's address (or the one a trusted proxy forwarded). */
  ip?: string
  userAgent?: string
}

/** What a confirmation link's page shows. */
export type ConfirmState = { state: 'pending' | 'confirmed' | 'expired'; listName: string; locale: Locale } | null

export function createSignupService(deps: {
  db: Database
  clock: Clock
  config: Pick<Config, 'linkSigningKeys' | 'publicBaseUrl' | 'signupConfirmDays'>
  contacts: Pick<ContactService, 'upsertContactIn' | 'requireContact'>
  lists: Pick<ListService, 'findSignupLists' | 'requireList' | 'signupConfirmationList'>
  consent: Pick<ConsentService, 'resolveNotice'>
  subscriptions: Pick<SubscriptionService, 'subscribe' | 'confirm' | 'subscriptionOf'>
  sends: Pick<SendService, 'send'>
}) {
  const { db, clock, config, contacts, lists, consent, subscriptions, sends } = deps
  const confirmDays = config.signupConfirmDays

  /** The subscription a confirmation link is for, and whether it can still be confirmed. */
  async function confirmation(token: string) {
    const scope = verifyLink(config.linkSigningKeys, 'confirm', token)
    if (!scope) return null
    const subscription = await subscriptions.subscriptionOf(db, scope.contactId, scope.listId)
    if (!subscription) return null
    const contact = await contacts.requireContact(db, scope.contactId)
    const list = await lists.requireList(db, scope.listId)
    const ageDays = (clock.now().getTime() - subscription.updatedAt.getTime()) / 86_400_000
    const state =
      subscription.status === 'active' ? 'confirmed' : subscription.status === 'pending' && ageDays <= confirmDays ? 'pending' : 'expired'
    return { scope, state, listName: list.name, locale: contact.locale } as const
  }

  return {
    /**
     * Subscribes the address to each list with the person's consent; for a
     * double opt-in list, pending, with a confirmation mail. Refuses only what
     * says nothing about the address: an address that is not one, a list that
     * takes no signups, a notice never stored.
     */
    async signup(input: SignupInput): Promise<void> {
      const slugs = [...new Set(input.lists)]
      const found = await lists.findSignupLists(db, slugs)
      if (slugs.length === 0 || found.length !== slugs.length) {
        throw new UnprocessableError('signup_list_unknown', 'Name one or more public newsletter or marketing lists by slug')
      }
      await consent.resolveNotice(db, input.notice, clock.now())
      const contact = await db.transaction((tx) =>
        contacts.upsertContactIn(tx, { email: input.email, name: input.name, ...(input.locale ? { locale: input.locale } : {}) }, signupActor, 'body.email'),
      )
      for (const list of found) {
        const { subscription, changed } = await subscriptions.subscribe(
          list.id,
          { contactId: contact.id, source: 'form', evidence: 'signup form', consent: { given: true, notice: input.notice, ip: input.ip, userAgent: input.userAgent } },
          signupActor,
        )
        if (subscription.status !== 'pending' || !changed) continue
        const confirmations = await lists.signupConfirmationList(signupActor)
        const token = signLink(config.linkSigningKeys, 'confirm', { contactId: contact.id, listId: list.id })
        await sends.send(
          {
            template: 'double-opt-in',
            kind: 'transactional',
            contactId: contact.id,
            listId: confirmations.id,
            locale: input.locale ?? contact.locale,
            data: { name: contact.name ?? '', signupList: list.name, confirmUrl: `${config.publicBaseUrl}/confirm/${token}` },
            // One confirmation mail per signup of this subscription.
            idempotencyKey: `confirm:${subscription.id}:${subscription.updatedAt.getTime()}`,
          },
          signupActor,
        )
      }
    },

    /** What the confirmation link's page shows; null for a link that is not one. The GET changes nothing. */
    async confirmationState(token: string): Promise<ConfirmState> {
      const found = await confirmation(token)
      return found && { state: found.state, listName: found.listName, locale: found.locale }
    },

    /** The person confirms (the button on the link's page). */
    async confirm(token: string, request: { ip?: string; userAgent?: string }): Promise<ConfirmState> {
      const found = await confirmation(token)
      if (!found) return null
      if (found.state !== 'pending') return { state: found.state, listName: found.listName, locale: found.locale }
      const { contactId, listId } = found.scope
      await subscriptions.confirm(
        listId,
        contactId,
        { source: 'link', evidence: 'double opt-in confirmation link', ip: request.ip, userAgent: request.userAgent },
        subscriberActor(contactId),
      )
      return { state: 'confirmed', listName: found.listName, locale: found.locale }
    },
  }
}
export type SignupService = ReturnType<typeof createSignupService>
