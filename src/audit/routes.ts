// Admin API for the audit log: the trail of one entity.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { AuditEvent, AuditQuery } from './schemas.js'

const auditEventRef = Type.Unsafe<Type.Static<typeof AuditEvent>>({ $ref: 'AuditEvent#' })

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { audit } = app.services

  app.get('/audit-events', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'listAuditEvents',
      summary: 'The audit trail of one entity, oldest first: who changed what, and when',
      tags: ['audit'],
      querystring: AuditQuery,
      response: { 200: Type.Object({ items: Type.Array(auditEventRef) }), ...errorResponses() },
    },
    handler: async (request) => ({ items: await audit.entityTrail(request.query.entityType, request.query.entityId) }),
  })
}
