// Staff API for the audit log: who changed what, and when — for any entity,
// and for one contact (the contact itself and every change about them).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { AuditPage, AuditQuery, ContactAuditQuery } from './schemas.js'

const tags = ['audit']

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { audit, contacts } = app.services

  app.get('/audit', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listAudit',
      summary: 'The audit log, oldest first, filtered by entity, actor, action and time',
      description: '`from` (inclusive) and `to` (exclusive) bound the time; `from` after `to` is a 400.',
      tags,
      querystring: AuditQuery,
      response: { 200: ref(AuditPage, 'A page of the audit log') },
    },
    handler: async (request) => audit.listAudit(request.query),
  })

  app.get('/contacts/:id/audit', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listContactAudit',
      summary: "A contact's audit trail: changes to the contact and every change about them, oldest first",
      tags: [...tags, 'contacts'],
      params: IdParams,
      querystring: ContactAuditQuery,
      response: { 200: ref(AuditPage, "A page of the contact's audit trail"), ...errorResponses(404) },
    },
    handler: async (request) => {
      await contacts.getContact(request.params.id)
      return audit.listAudit({ ...request.query, contactId: request.params.id })
    },
  })
}
