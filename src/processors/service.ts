// Telling third parties (P9): when a person is erased or rectified, every
// processor in the register gets a notice. A webhook processor's notice is an
// HMAC-signed POST, delivered by the periodic job and retried with backoff
// (1, 2, 4 … minutes, at most six hours apart) until it is taken or has
// failed MAX_ATTEMPTS times; a manual processor's notice is a task staff mark
// done. The notice names the person by the processor's own payment references
// and the keyed address hash; a rectification's current values are read at
// delivery. Knows nothing of HTTP routes; it is an HTTP client.
import { createHmac } from 'node:crypto'
import type { Database, Queryable } from '../../db/client.js'
import type { AuditRecorder } from '../audit/service.js'
import type { ContactService } from '../contacts/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { ConflictError, NotFoundError } from '../lib/errors.js'
import { exponentialBackoff, postOnce } from '../lib/outbound-post.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import type { Processor } from '../register/register.js'
import type { RegisterService } from '../register/service.js'
import { claimDueNotices, findNotice, findNoticesAbout, findNoticesOfRequests, insertNotices, listNoticeRows, updateNotice, type NoticeRow } from './queries.js'

export const MAX_ATTEMPTS = 10
const MINUTE = 60_000
/** How long a claimed notice is left to its worker before another may try. */
const LEASE_MS = 5 * MINUTE
const CLAIM_BATCH = 20

export type NoticeType = 'erasure' | 'rectification'

/** The wait before the next attempt after `attempts` failed ones. */
export const backoffMs = (attempts: number) => exponentialBackoff(attempts, MINUTE, 6 * 60 * MINUTE)

/** The signature header: HMAC-SHA256 of `<timestamp>.<body>` under the processor's secret (as Stripe and others sign webhooks). */
export function signature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

export function createProcessorService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder
  register: RegisterService
  /** The HMAC secret of each webhook processor, from the environment variable the register names. */
  secrets: Record<string, string>
  contacts: Pick<ContactService, 'requireContact'>
  fetch?: typeof fetch
}) {
  const { db, clock, audit, register, secrets, contacts } = deps

  const processorOf = (id: string): Processor | undefined => register.processingRegister.processors.find((p) => p.id === id)

  /** What the processor is told: what happened, and how they know the person. */
  async function payloadOf(notice: NoticeRow) {
    // A contact erased since has no current values to tell.
    const contact =
      notice.type === 'rectification' && notice.contactId
        ? await contacts.requireContact(db, notice.contactId).catch((error) => {
            if (error instanceof NotFoundError) return null
            throw error
          })
        : null
    return {
      id: notice.id,
      type: notice.type,
      requestId: notice.requestId,
      occurredAt: notice.createdAt.toISOString(),
      controller: register.controller,
      subject: {
        paymentReferences: notice.paymentReferences,
        addressHash: notice.addressHash,
        ...(contact ? { current: { email: contact.email, name: contact.name, phone: contact.phone, address: contact.address } } : {}),
      },
    }
  }

  /** One attempt at one claimed notice; the row says how it went. */
  async function attempt(notice: NoticeRow): Promise<NoticeRow> {
    const processor = processorOf(notice.processorId)
    const now = () => clock.now()
    if (!processor || processor.notify.type !== 'webhook') {
      return updateNotice(db, notice.id, { status: 'failed', lastError: 'the processor is no longer a webhook processor in the register', updatedAt: now() })
    }
    const body = JSON.stringify(await payloadOf(notice))
    const timestamp = Math.floor(now().getTime() / 1000)
    const { error } = await postOnce(
      processor.notify.url,
      body,
      { 'x-samtykke-notice': notice.id, 'x-samtykke-signature': signature(secrets[processor.id] ?? '', timestamp, body) },
      { fetch: deps.fetch },
    )
    const attempts = notice.attempts + 1
    if (!error) {
      return updateNotice(db, notice.id, { status: 'delivered', attempts, deliveredAt: now(), nextAttemptAt: null, lastError: null, paymentReferences: [], updatedAt: now() })
    }
    if (attempts >= MAX_ATTEMPTS) return updateNotice(db, notice.id, { status: 'failed', attempts, nextAttemptAt: null, lastError: error, updatedAt: now() })
    return updateNotice(db, notice.id, { attempts, nextAttemptAt: new Date(now().getTime() + backoffMs(attempts)), lastError: error, updatedAt: now() })
  }

  return {
    /**
     * Writes a notice for every processor in the register, in the caller's
     * transaction (with the erasure or rectification it reports).
     */
    async noticeIn(
      tx: Queryable,
      input: { type: NoticeType; requestId: string | null; contactId: string | null; addressHash: string; paymentReferences: string[] },
    ): Promise<NoticeRow[]> {
      const now = clock.now()
      return insertNotices(
        tx,
        register.processingRegister.processors.map((processor) => ({
          processorId: processor.id,
          type: input.type,
          method: processor.notify.type,
          status: processor.notify.type === 'webhook' ? 'pending' : 'manual',
          requestId: input.requestId,
          contactId: input.contactId,
          addressHash: input.addressHash,
          paymentReferences: input.paymentReferences,
          nextAttemptAt: processor.notify.type === 'webhook' ? now : null,
          createdAt: now,
          updatedAt: now,
        })),
      )
    },

    /** The periodic job: one attempt at every notice that is due. Returns how each went. */
    async deliverDue(): Promise<{ delivered: number; retrying: number; failed: number }> {
      const now = clock.now()
      const claimed = await claimDueNotices(db, now, new Date(now.getTime() + LEASE_MS), CLAIM_BATCH)
      const counts = { delivered: 0, retrying: 0, failed: 0 }
      for (const notice of claimed) {
        const after = await attempt(notice)
        if (after.status === 'delivered') counts.delivered++
        else if (after.status === 'failed') counts.failed++
        else counts.retrying++
      }
      return counts
    },

    /** Every notice about a person (the access export). */
    noticesAbout: (q: Queryable, recipient: { contactId: string; addressHash: string }) => findNoticesAbout(q, recipient.contactId, recipient.addressHash),

    /** The notices a request caused, for the request's page. */
    noticesOf: (q: Queryable, requestIds: string[]) => findNoticesOfRequests(q, requestIds),

    async listNotices(query: { open?: boolean; status?: string; cursor?: string; limit: number }) {
      const rows = await listNoticeRows(db, { ...query, after: decodeCursor(query.cursor) })
      return toPage(rows, query.limit, (r) => ({ at: r.createdAt, id: r.id }))
    },

    /** Staff have told a manual processor (or given up retrying a webhook and told them by hand). */
    markDone(id: string, note: string, actor: Actor): Promise<NoticeRow> {
      return db.transaction(async (tx) => {
        const notice = await findNotice(tx, id, true)
        if (!notice) throw new NotFoundError('Processor notice', 'processor_notice_not_found')
        if (notice.status === 'delivered' || notice.status === 'done') throw new ConflictError('notice_closed', `The notice was ${notice.status} already`)
        const now = clock.now()
        const done = await updateNotice(tx, id, { status: 'done', doneById: actor.id, doneByName: actor.name, paymentReferences: [], nextAttemptAt: null, updatedAt: now })
        await audit.record(tx, actor, now, { action: 'processor_notice.done', entityType: 'processor_notice', entityId: id, changes: { note } })
        return done
      })
    },

    /** Staff ask for another round of attempts at a failed webhook notice. */
    retry(id: string, actor: Actor): Promise<NoticeRow> {
      return db.transaction(async (tx) => {
        const notice = await findNotice(tx, id, true)
        if (!notice) throw new NotFoundError('Processor notice', 'processor_notice_not_found')
        if (notice.status !== 'failed' || notice.method !== 'webhook') throw new ConflictError('notice_not_failed', 'Only a failed webhook notice is retried')
        const now = clock.now()
        const again = await updateNotice(tx, id, { status: 'pending', attempts: 0, nextAttemptAt: now, updatedAt: now })
        await audit.record(tx, actor, now, { action: 'processor_notice.retried', entityType: 'processor_notice', entityId: id })
        return again
      })
    },
  }
}
export type ProcessorService = ReturnType<typeof createProcessorService>
