// Composition root: builds each domain's service from what it needs. One short
// function; the services themselves live in their domain folders.
import type { Database } from '../db/client.js'
import type { Config } from './config.js'
import { createAuditService } from './audit/service.js'
import { createConsentService } from './consent/service.js'
import { createContactService } from './contacts/service.js'
import { createListService } from './lists/service.js'
import { createSubscriptionService } from './subscriptions/service.js'
import type { Clock } from './lib/clock.js'

export function createServices({ db, clock }: { db: Database; config: Config; clock: Clock }) {
  return {
    audit: createAuditService({ db }),
    contacts: createContactService({ db, clock }),
    lists: createListService({ db, clock }),
    subscriptions: createSubscriptionService({ db, clock }),
    consent: createConsentService({ db, clock }),
  }
}

export type Services = ReturnType<typeof createServices>
