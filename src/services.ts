// Composition root: builds each domain's service once, and hands each only the
// functions of the others it uses (a Pick<> of their type), so this file is
// the real dependency graph. Read top to bottom: nothing uses a service built
// below it.
import type { Database, Queryable } from '../db/client.js'
import { createAuditService } from './audit/service.js'
import { createCampaignService } from './campaigns/service.js'
import type { Config } from './config.js'
import { createConsentService } from './consent/service.js'
import { createContactService } from './contacts/service.js'
import { createEnrollmentService } from './courses/enrollment-service.js'
import { createImportService } from './imports/service.js'
import { createCourseService } from './courses/service.js'
import { createDecisionService } from './decision/service.js'
import { createDeliveryService } from './delivery/service.js'
import { createLedgerService } from './ledger/service.js'
import type { Clock } from './lib/clock.js'
import type { MetricsRecorder } from './operations/recorder.js'
import { createListService } from './lists/service.js'
import { createPreferencePageService } from './pages/preferences.js'
import { createUnsubscribeLinkService } from './pages/unsubscribe.js'
import { createProcessorService } from './processors/service.js'
import { createRegisterService } from './register/service.js'
import { createErasureService } from './data-subject-requests/erasure.js'
import { createExportService } from './data-subject-requests/export.js'
import { createRetentionService } from './data-subject-requests/retention.js'
import { createDataSubjectRequestService } from './data-subject-requests/service.js'
import { createSendService } from './sends/service.js'
import { createOptOutService } from './subscriptions/opt-out.js'
import { createSignupService } from './subscriptions/signup.js'
import { createSubscriptionService } from './subscriptions/service.js'
import { createSuppressionService } from './suppressions/service.js'
import { createSuppressionTransferService } from './suppressions/transfer.js'
import { pepperFingerprint } from './suppressions/transfer-format.js'
import { createReportIntakeService, visitSubscribeUrl } from './returns/intake.js'
import { createReturnService } from './returns/service.js'
import { createTemplateService } from './templates/service.js'
import { createTokenService } from './tokens/service.js'
import { tokenSettings } from './tokens/settings.js'
import { createWebhookDelivery } from './webhooks/delivery.js'
import { listWebhookDeliveriesOfContact, listWebhookEvents } from './webhooks/queries.js'
import { forgetWebhookEmails } from './webhooks/record.js'
import { createWebhookService } from './webhooks/service.js'

/**
 * `metrics`: where the services count the work they do in this process (src/operations/metrics.ts).
 * `engine`: the database's, for what may run side by side on it (PGlite has one connection).
 */
export function createServices({
  db,
  config,
  clock,
  metrics,
  engine,
}: {
  db: Database
  config: Config
  clock: Clock
  metrics: MetricsRecorder
  engine: 'pglite' | 'postgres'
}) {
  const register = createRegisterService(config)
  const audit = createAuditService({ db })
  // Webhooks first: the domain services record their events through src/webhooks/record.ts in their own transactions.
  // The outbox keeps a person's events (by contact id) and, for endpoints allowed it, their address: the export and erasure reach it here.
  const webhooks = {
    ...createWebhookService({ db, clock, audit, allowHttpLoopback: config.webhookAllowHttpLoopback }),
    ...createWebhookDelivery({ db, clock, audit, controller: register.controller }),
    forgetEmailsIn: forgetWebhookEmails,
    eventsOf: (q: Queryable, contactId: string) => listWebhookEvents(q, { contactId }),
    deliveriesOf: listWebhookDeliveriesOfContact,
  }
  const contacts = createContactService({ db, clock, pepper: config.suppressionPepper, audit })
  const lists = createListService({ db, clock, audit, register: register.processingRegister })
  const consent = createConsentService({ db, clock, contacts })
  const courses = createCourseService({ db, clock, audit, lists })
  const subscriptions = createSubscriptionService({ db, clock, contacts, lists, consent })
  const suppressions = createSuppressionService({ db, clock, audit, contacts, lists, consent })
  const suppressionTransfer = createSuppressionTransferService({ db, clock, audit, lists, suppressions, pepperFingerprint: pepperFingerprint(config.suppressionPepper) })
  const imports = createImportService({ db, clock, pepper: config.suppressionPepper, importDir: config.importDir, importMaxBytes: config.importMaxBytes, audit, contacts, lists, consent, subscriptions, suppressions })
  const decisions = createDecisionService({ db, clock, config, contacts, lists, consent, courses, subscriptions, suppressions })
  const optOut = createOptOutService({ db, clock, audit, contacts, lists, consent, suppressions, decisions })
  const enrollments = createEnrollmentService({ db, clock, audit, contacts, consent, courses, lists, optOut, suppressions })
  const ledger = createLedgerService({ db, decisions, metrics })
  const tokens = createTokenService({ db, clock, audit, settings: tokenSettings(config) })
  const templates = createTemplateService({ db, clock, config, courses, lists })
  const delivery = createDeliveryService({ clock })
  const sends = createSendService({ db, clock, config, contacts, templates, ledger, delivery })
  const campaigns = createCampaignService({ db, clock, config, engine, audit, lists, templates, ledger, delivery, metrics })
  const processors = createProcessorService({ db, clock, audit, register, secrets: config.processorSecrets, contacts })
  const dataSubjectRequests = createDataSubjectRequestService({
    db,
    clock,
    audit,
    dueSoonDays: config.requestDueSoonDays,
    contacts,
    suppressions,
    optOut,
    enrollments,
    processors,
  })
  const returns = createReturnService({ db, clock, config, sends, contacts, suppressions, optOut, delivery, campaigns, metrics })
  const reportIntake = createReportIntakeService({ db, clock, config, returns, sends, contacts, optOut, visit: visitSubscribeUrl })
  // The access export and erasure both reach every service that holds a
  // person's data: one list, so a new holder is handed to both.
  const personalDataHolders = { db, clock, audit, register, contacts, subscriptions, consent, enrollments, suppressions, sends, ledger, delivery, dataSubjectRequests, processors, webhooks }
  const exports = createExportService({ ...personalDataHolders, lists, returns })
  const erasure = createErasureService(personalDataHolders)
  const retention = createRetentionService({ db, clock, audit, register, contacts, lists, subscriptions, enrollments, dataSubjectRequests, ledger, sends, erasure })
  const unsubscribeLinks = createUnsubscribeLinkService({ db, config, contacts, lists, decisions, optOut })
  const signups = createSignupService({ db, clock, config, contacts, lists, consent, subscriptions, sends })
  const preferences = createPreferencePageService({ db, clock, config, audit, contacts, lists, subscriptions, optOut, decisions, enrollments, suppressions, dataSubjectRequests })
  return {
    audit,
    contacts,
    lists,
    consent,
    courses,
    subscriptions,
    suppressions,
    suppressionTransfer,
    imports,
    decisions,
    optOut,
    enrollments,
    ledger,
    tokens,
    templates,
    delivery,
    sends,
    campaigns,
    unsubscribeLinks,
    preferences,
    signups,
    register,
    dataSubjectRequests,
    exports,
    erasure,
    processors,
    retention,
    returns,
    reportIntake,
    webhooks,
  }
}

export type Services = ReturnType<typeof createServices>
