// Admin API for bearer tokens: revoke one (by jti) or all of a subject's, and
// list revocations. A revoked token is refused on every instance at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses, Page } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { ListRevocationsQuery, RevokeTokenBody, TokenRevocation } from './schemas.js'

const tags = ['tokens']
const revocationRef = Type.Unsafe<Type.Static<typeof TokenRevocation>>({ $ref: 'TokenRevocation#' })

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
      body: RevokeTokenBody,
      response: { 201: revocationRef, 200: revocationRef, ...errorResponses() },
    },
    handler: async (request, reply) => {
      const { reason, ...target } = request.body
      const { revocation, created } = await tokens.revokeToken(target, reason, request.actor)
      return reply.code(created ? 201 : 200).send(revocation)
    },
  })

  app.get('/token-revocations', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'listTokenRevocations',
      summary: 'Revocations, oldest first',
      tags,
      querystring: ListRevocationsQuery,
      response: { 200: Page(revocationRef), ...errorResponses() },
    },
    handler: async (request) => tokens.listRevocations(request.query),
  })
}
