// Staff API for notices to third parties: what still needs doing, marking a
// manual notice done, and another round of attempts for a failed webhook.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { NoticeDoneBody, NoticeQuery, ProcessorNotice, ProcessorNoticePage } from './schemas.js'

const tags = ['requests']

export const processorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { processors } = app.services

  app.get('/processor-notices', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listProcessorNotices',
      summary: 'Notices to third parties (P9), oldest first; open=true lists what still needs doing',
      tags,
      querystring: NoticeQuery,
      response: { 200: ref(ProcessorNoticePage, 'A page of notices') },
    },
    handler: async (request) => processors.listNotices({ ...request.query, limit: request.query.limit ?? 50 }),
  })

  app.post('/processor-notices/:id/done', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'markProcessorNoticeDone',
      summary: 'Record that the processor was told by hand',
      tags,
      params: IdParams,
      body: ref(NoticeDoneBody),
      response: { 200: ref(ProcessorNotice, 'The notice'), ...errorResponses(404, 409) },
    },
    handler: async (request) => processors.markDone(request.params.id, request.body.note, request.actor),
  })

  app.post('/processor-notices/:id/retry', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'retryProcessorNotice',
      summary: 'Try a failed webhook notice again, from the first attempt',
      tags,
      params: IdParams,
      response: { 200: ref(ProcessorNotice, 'The notice, pending again'), ...errorResponses(404, 409) },
    },
    handler: async (request) => processors.retry(request.params.id, request.actor),
  })
}
