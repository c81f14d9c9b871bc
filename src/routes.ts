// One table of prefixes: the staff and course-system API lives under /v1,
// the pages subscribers reach from links in their mail at the root (/unsubscribe/…).
import type { FastifyInstance } from 'fastify'
import { auditRoutes } from './audit/routes.js'
import { API_PREFIX } from './lib/http.js'
import { auditSchemas } from './audit/schemas.js'
import { consentRoutes } from './consent/routes.js'
import { consentSchemas } from './consent/schemas.js'
import { contactRoutes } from './contacts/routes.js'
import { contactSchemas } from './contacts/schemas.js'
import { courseRoutes } from './courses/routes.js'
import { courseSchemas } from './courses/schemas.js'
import { decisionRoutes } from './decision/routes.js'
import { decisionSchemas } from './decision/schemas.js'
import { importRoutes } from './imports/routes.js'
import { importSchemas } from './imports/schemas.js'
import { ledgerRoutes } from './ledger/routes.js'
import { ledgerSchemas } from './ledger/schemas.js'
import { pageRoutes, type PageOptions } from './pages/routes.js'
import { processingRegisterRoutes } from './register/routes.js'
import { registerSchemas } from './register/schemas.js'
import { processorRoutes } from './processors/routes.js'
import { processorSchemas } from './processors/schemas.js'
import { dataSubjectRequestRoutes } from './data-subject-requests/routes.js'
import { returnRoutes } from './returns/routes.js'
import { returnSchemas } from './returns/schemas.js'
import { dataSubjectRequestSchemas } from './data-subject-requests/schemas.js'
import { sendRoutes } from './sends/routes.js'
import { campaignRoutes } from './campaigns/routes.js'
import { campaignSchemas } from './campaigns/schemas.js'
import { sendSchemas } from './sends/schemas.js'
import { templateRoutes } from './templates/routes.js'
import { templateSchemas } from './templates/schemas.js'
import { listRoutes } from './lists/routes.js'
import { listSchemas } from './lists/schemas.js'
import { subscriptionRoutes } from './subscriptions/routes.js'
import { signupSchemas, subscriptionSchemas } from './subscriptions/schemas.js'
import { suppressionRoutes } from './suppressions/routes.js'
import { suppressionSchemas } from './suppressions/schemas.js'
import { tokenRoutes } from './tokens/routes.js'
import { tokenSchemas } from './tokens/schemas.js'
import { webhookRoutes } from './webhooks/routes.js'
import { webhookSchemas } from './webhooks/schemas.js'

export async function registerRoutes(app: FastifyInstance, pages: PageOptions): Promise<void> {
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
      await v1.register(templateRoutes)
      await v1.register(sendRoutes)
      await v1.register(campaignRoutes)
      await v1.register(tokenRoutes)
      await v1.register(auditRoutes)
      await v1.register(processingRegisterRoutes)
      await v1.register(dataSubjectRequestRoutes)
      await v1.register(processorRoutes)
      await v1.register(returnRoutes)
      await v1.register(importRoutes)
      await v1.register(webhookRoutes)
    },
    { prefix: API_PREFIX },
  )
  await app.register(pageRoutes, pages)
}

/** Schemas with an $id: named in the OpenAPI components, referenced by name in routes (lib/schemas.ts ref). */
export const sharedSchemas = [
  ...contactSchemas,
  ...listSchemas,
  ...subscriptionSchemas,
  ...signupSchemas,
  ...consentSchemas,
  ...courseSchemas,
  ...suppressionSchemas,
  ...decisionSchemas,
  ...ledgerSchemas,
  ...templateSchemas,
  ...sendSchemas,
  ...campaignSchemas,
  ...tokenSchemas,
  ...auditSchemas,
  ...registerSchemas,
  ...dataSubjectRequestSchemas,
  ...processorSchemas,
  ...returnSchemas,
  ...importSchemas,
  ...webhookSchemas,
]
