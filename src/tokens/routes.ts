// Admin API for bearer tokens: revoke one (by jti) or all of a subject's, and
// list revocations. A revoked token is refused on every instance at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { ListRevocationsQuery, RevokeTokenBody, TokenRevocation, TokenRevocationPage } from './schemas.js'
import { createdOrFound } from '../lib/http.js'

const tags = ['tokens']

export const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { tokens } = app.services

  app.post('/token-revocations', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'revokeToken',
      summary: 'Revoke a bearer token, or every token of a subject',
      description:
        'With `jti`, that one token; with `subject`, every token of that subject issued until now (a person who left, ' +
        'a leaked machine token). From the next request on, on every instance, such a token gets 401 token_revoked. ' +
        'Revoking a jti again answers 200 with the first revocation.',
      tags,
      body: ref(RevokeTokenBody),
      response: {
        201: ref(TokenRevocation, 'The revocation; Location is its address'),
        200: ref(TokenRevocation, 'That token was revoked before: the first revocation'),
      },
    },
    handler: async (request, reply) => {
      const { reason, ...target } = request.body
      const { revocation, created } = await tokens.revokeToken(target, reason, request.actor)
      return createdOrFound(reply, created, `/token-revocations/${revocation.id}`, revocation)
    },
  })

  app.get('/token-revocations/:id', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'getTokenRevocation',
      summary: 'One revocation',
      tags,
      params: IdParams,
      response: { 200: ref(TokenRevocation, 'The revocation'), ...errorResponses(404) },
    },
    handler: async (request) => tokens.getRevocation(request.params.id),
  })

  app.get('/token-revocations', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'listTokenRevocations',
      summary: 'Revocations, oldest first',
      tags,
      querystring: ListRevocationsQuery,
      response: { 200: ref(TokenRevocationPage, 'A page of revocations') },
    },
    handler: async (request) => tokens.listRevocations(request.query),
  })
}
