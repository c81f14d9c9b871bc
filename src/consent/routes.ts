// Staff API for notices and the consent history of a contact.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses, IdParams } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { ConsentEvent, Notice, NoticeVersionsQuery, PublishNoticeBody } from './schemas.js'

const noticeRef = Type.Unsafe<Type.Static<typeof Notice>>({ $ref: 'Notice#' })
const eventRef = Type.Unsafe<Type.Static<typeof ConsentEvent>>({ $ref: 'ConsentEvent#' })

export const consentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { consent } = app.services

  app.post('/notices', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'publishNotice',
      summary: 'Store a version of a consent notice, in full (idempotent for the same text)',
      tags: ['consent'],
      body: PublishNoticeBody,
      response: { 201: noticeRef, 200: noticeRef, ...errorResponses(409) },
    },
    handler: async (request, reply) => {
      const { notice, created } = await consent.publishNotice(request.body)
      return reply.code(created ? 201 : 200).send(notice)
    },
  })

  app.get('/notices', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listNoticeVersions',
      summary: 'Every stored version of one notice',
      tags: ['consent'],
      querystring: NoticeVersionsQuery,
      response: { 200: Type.Object({ items: Type.Array(noticeRef) }), ...errorResponses() },
    },
    handler: async (request) => ({ items: await consent.listNoticeVersions(request.query.key) }),
  })

  app.get('/notices/:id', {
    config: { roles: Roles.staff },
    schema: { operationId: 'getNotice', summary: 'Get a notice version', tags: ['consent'], params: IdParams, response: { 200: noticeRef, ...errorResponses(404) } },
    handler: async (request) => consent.getNotice(request.params.id),
  })

  app.get('/contacts/:id/consents', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getContactConsents',
      summary: "A contact's consent history from the append-only ledger, oldest first",
      tags: ['consent', 'contacts'],
      params: IdParams,
      response: { 200: Type.Object({ items: Type.Array(eventRef) }), ...errorResponses(404) },
    },
    handler: async (request) => ({ items: await consent.consentHistory(request.params.id) }),
  })
}
