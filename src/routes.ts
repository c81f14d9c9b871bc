// One table of prefixes: the staff and course-system API lives under /v1,
// subscriber-facing pages (later) under their own public prefix.
import type { FastifyInstance } from 'fastify'
import { contactRoutes } from './contacts/routes.js'
import { Contact } from './contacts/schemas.js'

export async function registerRoutes(app: FastifyInstance): Promise<void> {
  await app.register(
    async (v1) => {
      await v1.register(contactRoutes)
    },
    { prefix: '/v1' },
  )
}

/** Schemas with an $id, referenced by several routes and named in the OpenAPI components. */
export const sharedSchemas = [Contact]
