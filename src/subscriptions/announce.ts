// The webhook events of opting out (issue 29): an unsubscribe, now or kept
// for a course's end (P3), and a kept one carried out (objections are the
// consent ledger's to announce, as every one passes it). Each is
// written in the transaction of the change it reports, through the outbox's
// one entrance (src/webhooks/record.ts); what the change is, is opt-out.ts's.
import type { Queryable } from '../../db/client.js'
import type { Recipient } from '../contacts/service.js'
import type { ListRow } from '../lists/queries.js'
import { recordWebhookEvent } from '../webhooks/record.js'

/** A deferred opt-out: when the lock ends, and the course system's ids of the courses that hold it. */
export interface Deferral {
  until: Date
  courseIds: string[]
}

/** subscription.unsubscribed: one list (`listId`) or every list (null), at once or deferred by a course lock. */
export async function announceUnsubscribedIn(tx: Queryable, at: Date, recipient: Recipient, listId: string | null, deferral: Deferral | null): Promise<void> {
  await recordWebhookEvent(tx, at, {
    type: 'subscription.unsubscribed',
    contactId: recipient.contactId,
    email: recipient.email,
    data: {
      scope: listId ? 'list' : 'all',
      listId,
      deferred: deferral !== null,
      deferredUntil: deferral?.until.toISOString() ?? null,
      courseIds: deferral ? [...new Set(deferral.courseIds)].sort() : [],
    },
  })
}

/** unsubscribe.deferred_applied: a kept course-list opt-out carried out once the lock ended. */
export async function announceDeferredAppliedIn(tx: Queryable, at: Date, recipient: Recipient, list: ListRow): Promise<void> {
  await recordWebhookEvent(tx, at, {
    type: 'unsubscribe.deferred_applied',
    contactId: recipient.contactId,
    email: recipient.email,
    data: { listId: list.id, courseId: list.courseId },
  })
}
