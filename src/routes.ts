// One table of prefixes: the staff and course-system API lives under /v1,
// subscriber-facing pages (later) under their own public prefix.
import type { FastifyInstance } from 'fastify'
import { auditRoutes } from './audit/routes.js'
import { AuditEvent } from './audit/schemas.js'
import { consentRoutes } from './consent/routes.js'
import { ConsentEvent, Notice } from './consent/schemas.js'
import { contactRoutes } from './contacts/routes.js'
import { Contact } from './contacts/schemas.js'
import { courseRoutes } from './courses/routes.js'
import { decisionRoutes } from './decision/routes.js'
import { ledgerRoutes } from './ledger/routes.js'
import { listRoutes } from './lists/routes.js'
import { List } from './lists/schemas.js'
import { subscriptionRoutes } from './subscriptions/routes.js'
import { Subscription } from './subscriptions/schemas.js'
import { suppressionRoutes } from './suppressions/routes.js'
import { Suppression } from './suppressions/schemas.js'
import { tokenRoutes } from './tokens/routes.js'
import { TokenRevocation } from './tokens/schemas.js'

export async function registerRoutes(app: FastifyInstance): Promise<void> {
  await app.register(
    async (v1) => {
      await v1.register(contactRoutes)
      await v1.register(listRoutes)
      await v1.register(subscriptionRoutes)
      await v1.register(consentRoutes)
      await v1.register(courseRoutes)
      await v1.register(suppressionRoutes)
      await v1.register(decisionRoutes)
      await v1.register(ledgerRoutes)
      await v1.register(tokenRoutes)
      await v1.register(auditRoutes)
    },
    { prefix: '/v1' },
  )
}

/** Schemas with an $id, referenced by several routes and named in the OpenAPI components. */
export const sharedSchemas = [Contact, List, Subscription, Notice, ConsentEvent, Suppression, TokenRevocation, AuditEvent]
