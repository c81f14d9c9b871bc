// Single sends (course system and staff) and the story of one message.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { Message, SendAnswer, SendRequest } from './schemas.js'

const tags = ['sends']

export const sendRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { sends } = app.services

  app.post('/sends', {
    config: { roles: Roles.courseSystem },
    schema: {
      operationId: 'send',
      summary: 'Send one message from a template to one person',
      description:
        'Decided and recorded in the send ledger either way. Allowed: 202, queued for delivery (decided again just before). ' +
        'Blocked: 200 with the reason, nothing sent. The same idempotencyKey again returns the first answer ' +
        '(Idempotent-Replayed: true); with another request it is a 409. A value the template needs and `data` lacks is a 422. ' +
        'The course system sends course and transactional mail only.',
      tags,
      body: ref(SendRequest),
      response: {
        202: ref(SendAnswer, 'Allowed and queued'),
        200: ref(SendAnswer, 'Blocked: nothing is sent'),
        ...errorResponses(404, 409, 422),
      },
    },
    handler: async (request, reply) => {
      const { answer, replayed } = await sends.send(request.body, request.actor)
      if (replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(answer.status === 'queued' ? 202 : 200).send(answer)
    },
  })

  app.get('/messages/:id', {
    config: { roles: Roles.courseSystem },
    schema: {
      operationId: 'getMessage',
      summary: 'One message: its decisions and what happened at delivery',
      description: 'The course system sees the messages it sent.',
      tags,
      params: IdParams,
      response: { 200: ref(Message, 'The message'), ...errorResponses(404) },
    },
    handler: async (request) => sends.getMessage(request.params.id, request.actor),
  })
}
