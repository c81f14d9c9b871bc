// Composition root: builds each domain's service from what it needs. One short
// function; the services themselves live in their domain folders.
import type { Database } from '../db/client.js'
import type { Config } from './config.js'
import { createAuditService } from './audit/service.js'
import { createContactService } from './contacts/service.js'
import type { Clock } from './lib/clock.js'

export function createServices({ db, clock }: { db: Database; config: Config; clock: Clock }) {
  const contacts = createContactService({ db, clock })
  return {
    audit: createAuditService({ db }),
    contacts,
  }
}

export type Services = ReturnType<typeof createServices>
