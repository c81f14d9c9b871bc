// The unsubscribe link in every message, as a service: what a signed link is
// for (one contact, one list), and leaving that list through it — one-click
// (RFC 8058) or the page's button — through the same opt-out service the API
// uses. A token that does not verify, or names what is no longer there, is
// simply no link: null, and nothing changes. Knows nothing of HTTP.
import type { Database } from '../../db/client.js'
import type { Config } from '../config.js'
import type { ContactService } from '../contacts/service.js'
import type { DecisionService } from '../decision/service.js'
import { subscriberActor } from '../lib/actor.js'
import { NotFoundError } from '../lib/errors.js'
import { verifyLink } from '../lib/link-tokens.js'
import type { ListService } from '../lists/service.js'
import type { OptOutService } from '../subscriptions/opt-out.js'
import type { Locale } from '../vocabulary.js'

/** What a valid link shows: whose list, in which language, and for course lists until when mail continues. */
export interface LinkView {
  locale: Locale
  listName: string
  kind: 'course' | 'newsletter' | 'marketing' | 'transactional'
  /** Course lists: the person cannot leave before this time (P3). */
  lockedUntil: Date | null
}

export interface LinkUnsubscribe extends LinkView {
  /** False when nothing changed (already out, or the wish was already kept). */
  changed: boolean
}

export function createUnsubscribeLinkService(deps: {
  db: Database
  config: Pick<Config, 'linkSigningKeys'>
  contacts: Pick<ContactService, 'requireContact'>
  lists: Pick<ListService, 'requireList'>
  decisions: Pick<DecisionService, 'courseLockUntil'>
  optOut: Pick<OptOutService, 'unsubscribeByLink'>
}) {
  const { db, config, contacts, lists, decisions, optOut } = deps

  /** What `use` answers for the link's contact and list; null for a token that does not verify or names what is gone. */
  async function withLink<T>(token: string, use: (scope: { contactId: string; listId: string }) => Promise<T>): Promise<T | null> {
    const scope = verifyLink(config.linkSigningKeys, 'unsubscribe', token)
    if (!scope) return null
    try {
      return await use(scope)
    } catch (error) {
      if (error instanceof NotFoundError) return null
      throw error
    }
  }

  function view(token: string): Promise<LinkView | null> {
    return withLink(token, async (scope) => {
      const contact = await contacts.requireContact(db, scope.contactId)
      const list = await lists.requireList(db, scope.listId)
      const lockedUntil = list.kind === 'course' && list.courseId ? await decisions.courseLockUntil(db, contact.id, list.courseId) : null
      return { locale: contact.locale, listName: list.name, kind: list.kind, lockedUntil }
    })
  }

  return {
    /** What the link's page shows (a GET never changes anything: mail scanners follow links). */
    view,

    /** Leaves the link's list; repeating it is harmless. */
    unsubscribe(token: string, request: { via: 'one-click' | 'page'; ip?: string; userAgent?: string }): Promise<LinkUnsubscribe | null> {
      // The contact and the list are read in the opt-out's transaction, once: what the answer shows comes back from it.
      return withLink(token, async (scope) => {
        const { contact, list, changed, lockedUntil } = await optOut.unsubscribeByLink(
          scope.listId,
          scope.contactId,
          {
            source: 'link',
            evidence: request.via === 'one-click' ? 'one-click unsubscribe (RFC 8058)' : 'unsubscribe page',
            ip: request.ip,
            userAgent: request.userAgent,
          },
          subscriberActor(scope.contactId),
        )
        return { locale: contact.locale, listName: list.name, kind: list.kind, lockedUntil, changed }
      })
    },
  }
}
export type UnsubscribeLinkService = ReturnType<typeof createUnsubscribeLinkService>
