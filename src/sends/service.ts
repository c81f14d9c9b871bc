// Single sends: one message from a template to one person — decided,
// recorded in the send ledger, and queued for delivery in one transaction.
// An idempotency key makes a retried request return the first answer and
// never queue twice, also when both arrive at once. Knows nothing of HTTP.
import { createHash } from 'node:crypto'
import type { Database, Queryable } from '../../db/client.js'
import type { Config } from '../config.js'
import type { ContactService } from '../contacts/service.js'
import { checkKindForActor, type DecisionAnswer } from '../decision/service.js'
import type { DeliveryService } from '../delivery/service.js'
import type { LedgerService } from '../ledger/service.js'
import { createdBy, type Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import { parseEmail } from '../lib/email.js'
import { ConflictError, NotFoundError, UnprocessableError } from '../lib/errors.js'
import { newId } from '../lib/ids.js'
import type { TemplateService } from '../templates/service.js'
import { Locale, MessageStatus, Role, type MessageKind } from '../vocabulary.js'
import {
  findMessageById,
  findMessagesByIds,
  findMessagesOfContact,
  findSendRequest,
  insertMessage,
  insertSendRequest,
  redactMessagesBefore,
  redactMessagesOf,
  type MessageRow,
} from './queries.js'

export type { MessageRow }

export interface SendInput {
  template: string
  templateVersion?: number
  email?: string
  contactId?: string
  kind: MessageKind
  courseId?: string
  listId?: string
  locale?: Locale
  data?: Record<string, unknown>
  idempotencyKey: string
}

/** What a send is answered with, the first time and every time its key comes again. */
export interface SendAnswer {
  messageId: string
  status: typeof MessageStatus.queued | typeof MessageStatus.blocked
  decision: DecisionAnswer
}

/** Another request with the same key committed first: its answer is the answer. */
class KeyTakenMeanwhile extends Error {}

/** JSON with keys in one order, so the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

const requestHashOf = ({ idempotencyKey: _key, ...request }: SendInput) =>
  createHash('sha256').update(canonicalJson(request)).digest('hex')

export interface SendDeps {
  db: Database
  clock: Clock
  config: Pick<Config, 'publicBaseUrl'>
  contacts: Pick<ContactService, 'requireContact'>
  templates: Pick<TemplateService, 'resolveTemplate' | 'checkData' | 'requireTemplate'>
  ledger: Pick<LedgerService, 'recordSendDecision' | 'decisionsOf'>
  delivery: Pick<DeliveryService, 'enqueue' | 'notify' | 'eventsOf' | 'queueEntryOf'>
}

export function createSendService({ db, clock, config, contacts, templates, ledger, delivery }: SendDeps) {
  /** Message-IDs are ours: the message id at the service's own host. */
  const messageIdHost = new URL(config.publicBaseUrl).hostname

  /** The first answer to this key, or a 409 when the key came with another request. */
  function replay(stored: { requestHash: string; answer: unknown }, requestHash: string): SendAnswer {
    if (stored.requestHash !== requestHash) {
      throw new ConflictError('idempotency_key_reused', 'This idempotencyKey was used for another request; use a new key for a new message')
    }
    return stored.answer as SendAnswer
  }

  async function sendIn(tx: Queryable, input: SendInput, requestHash: string, actor: Actor): Promise<SendAnswer> {
    const template = await templates.resolveTemplate(tx, input.template, input.templateVersion)
    if (template.kind !== input.kind) {
      throw new UnprocessableError('template_kind_mismatch', `Template ${template.name} makes ${template.kind} mail, not ${input.kind}`)
    }
    const data = input.data ?? {}
    templates.checkData(template, data)

    const messageId = newId()
    const { outcome } = await ledger.recordSendDecision(
      {
        messageId,
        stage: 'enqueue',
        email: input.email,
        contactId: input.contactId,
        kind: input.kind,
        listId: input.listId,
        courseId: input.courseId,
        template: { id: template.id, kind: template.kind },
        templateVersion: `${template.name}@${template.version}`,
      },
      tx,
    )
    const { answer, recipient } = outcome
    const contact = recipient.contactId ? await contacts.requireContact(tx, recipient.contactId) : null
    const address = input.email !== undefined ? (parseEmail(input.email) as { email: string }).email : contact!.email
    const now = clock.now()
    // A blocked message keeps no address and no data: it will never need them.
    await insertMessage(tx, {
      id: messageId,
      kind: input.kind,
      templateId: template.id,
      listId: outcome.listId,
      courseId: input.courseId ?? null,
      contactId: recipient.contactId,
      toAddress: answer.allowed ? address : null,
      addressHash: recipient.addressHash,
      locale: input.locale ?? contact?.locale ?? Locale.nb,
      data: answer.allowed ? data : null,
      headerMessageId: `<${messageId}@${messageIdHost}>`,
      createdAt: now,
      ...createdBy(actor),
    })
    if (answer.allowed) await delivery.enqueue(tx, messageId)

    const sendAnswer: SendAnswer = { messageId, status: answer.allowed ? MessageStatus.queued : MessageStatus.blocked, decision: answer }
    const stored = await insertSendRequest(tx, {
      clientId: actor.id,
      idempotencyKey: input.idempotencyKey,
      requestHash,
      messageId,
      // Through JSON, so the stored answer and this one are the same text (dates as strings).
      answer: JSON.parse(JSON.stringify(sendAnswer)),
      createdAt: now,
    })
    if (!stored) throw new KeyTakenMeanwhile()
    return sendAnswer
  }

  return {
    /**
     * Sends one message: checks the template and the data, decides, records
     * the decision, and queues the message when allowed — or, for a key
     * already answered, returns that answer (`replayed`) and does nothing.
     */
    async send(input: SendInput, actor: Actor): Promise<{ answer: SendAnswer; replayed: boolean }> {
      checkKindForActor(actor, input.kind)
      const requestHash = requestHashOf(input)
      const earlier = await findSendRequest(db, actor.id, input.idempotencyKey)
      if (earlier) return { answer: replay(earlier, requestHash), replayed: true }
      try {
        const answer = await db.transaction((tx) => sendIn(tx, input, requestHash, actor))
        if (answer.status === MessageStatus.queued) delivery.notify()
        return { answer, replayed: false }
      } catch (error) {
        if (!(error instanceof KeyTakenMeanwhile)) throw error
        // Everything this request wrote is rolled back; the winner's answer stands.
        const winner = await findSendRequest(db, actor.id, input.idempotencyKey)
        return { answer: replay(winner!, requestHash), replayed: true }
      }
    },

    messageById: (q: Queryable, id: string) => findMessageById(q, id),

    /** A delivery batch's messages, in one read (in no particular order). */
    messagesByIds: (q: Queryable, ids: string[]) => findMessagesByIds(q, ids),

    /** Retention: messages older than `cutoff` keep only the keyed address hash. */
    redactBeforeIn: (tx: Queryable, cutoff: Date) => redactMessagesBefore(tx, cutoff),

    /** Erasure: the person's messages lose the address and the values; returns their ids. */
    redactMessagesIn: (tx: Queryable, contactId: string) => redactMessagesOf(tx, contactId),

    /** Every message to a contact (the access export). */
    messagesTo: (q: Queryable, contactId: string) => findMessagesOfContact(q, contactId),

    /**
     * One message with its whole story: the decisions (when queued, and at
     * delivery) and what happened at delivery. The course system sees only
     * the messages it sent.
     */
    async getMessage(id: string, actor: Actor) {
      const message = await findMessageById(db, id)
      if (!message || (actor.role === Role.courseSystem && message.createdById !== actor.id)) {
        throw new NotFoundError('Message', 'message_not_found')
      }
      const template = await templates.requireTemplate(db, message.templateId)
      const decisions = await ledger.decisionsOf(db, [id])
      const events = await delivery.eventsOf(db, [id])
      const queued = await delivery.queueEntryOf(db, id)
      return {
        id: message.id,
        kind: message.kind,
        status: messageStatus(decisions, events),
        template: { id: template.id, name: template.name, version: template.version },
        contactId: message.contactId,
        to: message.toAddress,
        listId: message.listId,
        courseId: message.courseId,
        campaignId: message.campaignId,
        locale: message.locale,
        headerMessageId: message.headerMessageId,
        createdAt: message.createdAt,
        createdById: message.createdById,
        createdByName: message.createdByName,
        nextAttemptAt: queued?.dueAt ?? null,
        attempts: queued?.attempts ?? events.filter((e) => ATTEMPT_OUTCOMES.has(e.type)).length,
        decisions,
        events,
      }
    },
  }
}
export type SendService = ReturnType<typeof createSendService>

/** The events that end an attempt at the SMTP server (the rest say what happened around the attempts). */
const ATTEMPT_OUTCOMES: ReadonlySet<string> = new Set(['accepted', 'deferred', 'failed', 'bounced'])

/** What each event says of where a message is; the events a report adds later that leave it where it was are not here. */
const STATUS_OF_EVENT: Partial<Record<string, MessageStatus>> = {
  accepted: MessageStatus.sent,
  deferred: MessageStatus.deferred,
  failed: MessageStatus.failed,
  bounced: MessageStatus.bounced,
  blocked: MessageStatus.blocked,
  expired: MessageStatus.expired,
  cancelled: MessageStatus.cancelled,
  requeued: MessageStatus.queued,
  interrupted: MessageStatus.queued,
  // Refused for policy by the recipient's side after our relay took it: it failed.
  policy_blocked: MessageStatus.failed,
  // delivered, soft_bounced and complained leave a sent message sent.
}

/** Where a message is: blocked by any decision, else as its latest delivery event that says so, else still queued. */
export function messageStatus(decisions: { decision: string }[], events: { type: string }[]): MessageStatus {
  if (decisions.some((d) => d.decision === 'blocked')) return MessageStatus.blocked
  for (let i = events.length - 1; i >= 0; i--) {
    const status = STATUS_OF_EVENT[events[i]!.type]
    if (status) return status
  }
  return MessageStatus.queued
}
