// Composition root: builds each domain's service from what it needs. One short
// function; the services themselves live in their domain folders.
import type { Database } from '../db/client.js'
import type { Config } from './config.js'
import { createAuditService } from './audit/service.js'
import { createConsentService } from './consent/service.js'
import { createContactService } from './contacts/service.js'
import { createCourseService } from './courses/service.js'
import { createEnrollmentService } from './courses/enrollment-service.js'
import { createDecisionService } from './decision/service.js'
import { createLedgerService } from './ledger/service.js'
import type { Clock } from './lib/clock.js'
import { createListService } from './lists/service.js'
import { createSubscriptionService } from './subscriptions/service.js'
import { createSuppressionService } from './suppressions/service.js'
import { tokenSettings } from './tokens/settings.js'
import { createTokenService } from './tokens/service.js'

export function createServices({ db, config, clock }: { db: Database; config: Config; clock: Clock }) {
  const pepper = config.suppressionPepper
  const contacts = createContactService({ db, clock })
  const decisions = createDecisionService({ db, clock, config })
  return {
    audit: createAuditService({ db }),
    contacts,
    lists: createListService({ db, clock }),
    subscriptions: createSubscriptionService({ db, clock, pepper }),
    consent: createConsentService({ db, clock }),
    courses: createCourseService({ db, clock }),
    enrollments: createEnrollmentService({ db, clock, pepper, contacts }),
    suppressions: createSuppressionService({ db, clock, pepper }),
    decisions,
    ledger: createLedgerService({ db, decisions }),
    tokens: createTokenService({ db, clock, settings: tokenSettings(config) }),
  }
}

export type Services = ReturnType<typeof createServices>
