// Staff API for notices and the consent history of a contact.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { ConsentHistory, Notice, NoticeList, NoticeVersionsQuery, PublishNoticeBody } from './schemas.js'
import { createdOrFound } from '../lib/http.js'


export const consentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { consent } = app.services

  app.post('/notices', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'publishNotice',
      summary: 'Store a version of a consent notice, in full (idempotent for the same text)',
      tags: ['consent'],
      body: ref(PublishNoticeBody),
      response: {
        201: ref(Notice, 'The new notice version; Location is its address'),
        200: ref(Notice, 'This version was stored before with the same text'),
        ...errorResponses(409),
      },
    },
    handler: async (request, reply) => {
      const { notice, created } = await consent.publishNotice(request.body)
      return createdOrFound(reply, created, `/notices/${notice.id}`, notice)
    },
  })

  app.get('/notices', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listNoticeVersions',
      summary: 'Every stored version of one notice',
      tags: ['consent'],
      querystring: NoticeVersionsQuery,
      response: { 200: ref(NoticeList, 'Every version of the notice, oldest first') },
    },
    handler: async (request) => ({ items: await consent.listNoticeVersions(request.query.key) }),
  })

  app.get('/notices/:id', {
    config: { roles: Roles.staff },
    schema: { operationId: 'getNotice', summary: 'Get a notice version', tags: ['consent'], params: IdParams, response: { 200: ref(Notice, 'The notice version'), ...errorResponses(404) } },
    handler: async (request) => consent.getNotice(request.params.id),
  })

  app.get('/contacts/:id/consents', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getContactConsents',
      summary: "A contact's consent history from the append-only ledger, oldest first",
      tags: ['consent', 'contacts'],
      params: IdParams,
      response: { 200: ref(ConsentHistory, "The contact's consent events, oldest first"), ...errorResponses(404) },
    },
    handler: async (request) => ({ items: await consent.consentHistory(request.params.id) }),
  })
}
