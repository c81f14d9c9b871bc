// The access export (GDPR art. 15) and portability (art. 20): one document
// with everything the service holds about a person — profile, subscriptions,
// consent history with the notices they saw, enrollments, kept opt-out
// wishes, suppressions, every message with its decisions and delivery
// events, their data-subject requests and the audit entries about them —
// and, from the processing register, the purposes, legal bases, categories,
// recipients and retention that apply to them. Each part is read through the
// service that owns its table. Reading an export is itself audited.
import type { Database } from '../../db/client.js'
import type { AuditRecorder, AuditService } from '../audit/service.js'
import type { ConsentService } from '../consent/service.js'
import type { ContactService } from '../contacts/service.js'
import type { EnrollmentService } from '../courses/enrollment-service.js'
import type { DeliveryService } from '../delivery/service.js'
import type { LedgerService } from '../ledger/service.js'
import type { Actor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import type { ListService } from '../lists/service.js'
import type { ReturnService } from '../returns/service.js'
import type { ProcessorService } from '../processors/service.js'
import type { Purpose } from '../register/register.js'
import type { RegisterService } from '../register/service.js'
import type { SendService } from '../sends/service.js'
import { messageStatus } from '../sends/service.js'
import type { SubscriptionService } from '../subscriptions/service.js'
import type { SuppressionService } from '../suppressions/service.js'
import type { Locale } from '../vocabulary.js'
import type { WebhookOutbox } from './erasure.js'
import type { DataSubjectRequestService } from './service.js'

/** Register purposes that apply whenever the service holds proof about the person (consent or send decisions). */
const PROOF_PURPOSE = 'proof'
/** The register purpose course enrollments serve. */
const COURSE_PURPOSE = 'course'

export function createExportService(deps: {
  db: Database
  clock: Clock
  audit: AuditRecorder & Pick<AuditService, 'entriesAbout'>
  register: RegisterService
  contacts: Pick<ContactService, 'requireContact' | 'recipientOf'>
  lists: Pick<ListService, 'findListsByIds'>
  subscriptions: Pick<SubscriptionService, 'subscriptionsOf' | 'deferredUnsubscribesOf'>
  consent: Pick<ConsentService, 'eventsOf' | 'noticesByIds'>
  enrollments: Pick<EnrollmentService, 'enrollmentsOf'>
  suppressions: Pick<SuppressionService, 'suppressionsOf'>
  sends: Pick<SendService, 'messagesTo'>
  ledger: Pick<LedgerService, 'decisionsAbout'>
  delivery: Pick<DeliveryService, 'eventsOf'>
  dataSubjectRequests: Pick<DataSubjectRequestService, 'requestsOf'>
  processors: Pick<ProcessorService, 'noticesAbout'>
  returns: Pick<ReturnService, 'reportsAbout'>
  webhooks: Pick<WebhookOutbox, 'eventsOf' | 'deliveriesOf'>
}) {
  const { db, clock, audit, register, contacts, lists, subscriptions, consent, enrollments, suppressions, sends, ledger, delivery, dataSubjectRequests, processors, returns, webhooks } = deps

  /** What the register says about one purpose, in the person's language, with its processors named. */
  function purposeFor(purpose: Purpose, locale: Locale) {
    const categories = new Map(register.processingRegister.dataCategories.map((c) => [c.id, c.name[locale]]))
    const subjects = new Map(register.processingRegister.dataSubjects.map((s) => [s.id, s.name[locale]]))
    const processors = new Map(register.processingRegister.processors.map((p) => [p.id, p]))
    return {
      id: purpose.id,
      name: purpose.name[locale],
      description: purpose.description[locale],
      legalBasis: purpose.legalBasis,
      dataSubjects: purpose.dataSubjects.map((id) => subjects.get(id) ?? id),
      dataCategories: purpose.dataCategories.map((id) => categories.get(id) ?? id),
      recipients: purpose.recipients.map((id) => {
        const processor = processors.get(id)
        return { id, name: processor?.name ?? id, role: processor?.role[locale] ?? null }
      }),
      retention: purpose.retention.text[locale],
    }
  }

  return {
    /** Everything held about a contact, with what the register says applies; the export is audited. */
    async exportContact(contactId: string, actor: Actor) {
      return db.transaction(async (tx) => {
        const contact = await contacts.requireContact(tx, contactId)
        const recipient = contacts.recipientOf(contact)
        const [subscriptionRows, deferred, events, enrollmentRows, suppressionRows, messageRows, decisions, requestRows, auditEntries, notices, reports, webhookEvents, webhookDeliveries] = [
          await subscriptions.subscriptionsOf(tx, contactId),
          await subscriptions.deferredUnsubscribesOf(tx, contactId),
          await consent.eventsOf(tx, contactId),
          await enrollments.enrollmentsOf(tx, contactId),
          await suppressions.suppressionsOf(tx, recipient),
          await sends.messagesTo(tx, contactId),
          await ledger.decisionsAbout(tx, contactId),
          await dataSubjectRequests.requestsOf(tx, contactId),
          await audit.entriesAbout(tx, contactId),
          await processors.noticesAbout(tx, { contactId, addressHash: recipient.addressHash }),
          await returns.reportsAbout(tx, recipient.addressHash),
          await webhooks.eventsOf(tx, contactId),
          await webhooks.deliveriesOf(tx, contactId),
        ]
        const listIds = [...new Set([...subscriptionRows.map((s) => s.listId), ...messageRows.flatMap((m) => (m.listId ? [m.listId] : []))])]
        const listsById = new Map((await lists.findListsByIds(tx, listIds)).map((l) => [l.id, l]))
        const noticeIds = [...new Set(events.flatMap((e) => (e.noticeId ? [e.noticeId] : [])))]
        const noticesById = new Map((await consent.noticesByIds(tx, noticeIds)).map((n) => [n.id, n]))
        const deliveryEvents = await delivery.eventsOf(
          tx,
          messageRows.map((m) => m.id),
        )

        const listSummary = (id: string | null) => {
          const list = id ? listsById.get(id) : undefined
          return list ? { id: list.id, slug: list.slug, name: list.name, kind: list.kind, purpose: list.purpose } : null
        }
        const purposeIds = new Set<string>([
          ...subscriptionRows.map((s) => listsById.get(s.listId)?.purpose ?? ''),
          ...events.map((e) => e.purpose),
          ...(enrollmentRows.length > 0 ? [COURSE_PURPOSE] : []),
          ...(events.length > 0 || decisions.length > 0 ? [PROOF_PURPOSE] : []),
        ])
        const applying = register.processingRegister.purposes.filter((p) => purposeIds.has(p.id))
        const recipientsUsed = new Set(applying.flatMap((p) => p.recipients))
        const now = clock.now()
        await audit.record(tx, actor, now, { action: 'contact.exported', entityType: 'contact', entityId: contactId, subjectId: contactId })

        return {
          generatedAt: now,
          locale: contact.locale,
          controller: register.controller,
          contact,
          subscriptions: subscriptionRows.map((s) => ({ ...s, list: listSummary(s.listId) })),
          consentEvents: events.map((e) => {
            const notice = e.noticeId ? noticesById.get(e.noticeId) : undefined
            return { ...e, notice: notice ? { key: notice.key, version: notice.version, locale: notice.locale, text: notice.text } : null }
          }),
          enrollments: enrollmentRows.map(({ enrollment, course }) => ({
            ...enrollment,
            course: { id: course.id, name: course.name, category: course.category, startsAt: course.startsAt, endsAt: course.endsAt },
          })),
          deferredUnsubscribes: deferred,
          suppressions: suppressionRows,
          messages: messageRows.map((m) => {
            const own = decisions.filter((d) => d.messageId === m.id)
            const ownEvents = deliveryEvents.filter((e) => e.messageId === m.id)
            return {
              ...m,
              list: listSummary(m.listId),
              status: messageStatus(own, ownEvents),
              decisions: own,
              deliveryEvents: ownEvents,
            }
          }),
          requests: requestRows,
          processorNotices: notices,
          returnReports: reports,
          webhookEvents: webhookEvents.map((e) => ({
            id: e.id,
            type: e.type,
            data: e.data,
            email: e.email,
            occurredAt: e.occurredAt,
            deliveries: webhookDeliveries
              .filter((d) => d.eventId === e.id)
              .map((d) => ({ endpointId: d.endpointId, status: d.status, attempts: d.attempts, lastStatusCode: d.lastStatusCode, deliveredAt: d.deliveredAt })),
          })),
          auditEntries,
          processing: {
            registerVersion: register.processingRegister.version,
            purposes: applying.map((p) => purposeFor(p, contact.locale)),
            recipients: register.processingRegister.processors
              .filter((p) => recipientsUsed.has(p.id))
              .map((p) => ({ id: p.id, name: p.name, role: p.role[contact.locale] })),
            security: register.processingRegister.security[contact.locale],
          },
        }
      })
    },
  }
}
export type ExportService = ReturnType<typeof createExportService>
export type ContactExport = Awaited<ReturnType<ExportService['exportContact']>>
