// Staff API for suppressions: add, list, read; admins lift.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses, IdParams, Page } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { CreateSuppressionBody, LiftSuppressionBody, ListSuppressionsQuery, Suppression } from './schemas.js'

const tags = ['suppressions']
const suppressionRef = Type.Unsafe<Type.Static<typeof Suppression>>({ $ref: 'Suppression#' })

export const suppressionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { suppressions } = app.services

  app.post('/suppressions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createSuppression',
      summary: 'Suppress a person (by contact or address) in a scope',
      description: 'Writing the same suppression twice returns the one in force. Erasure suppressions come from erasure requests only.',
      tags,
      body: CreateSuppressionBody,
      response: { 201: suppressionRef, ...errorResponses(404, 422) },
    },
    handler: async (request, reply) => {
      const { expiresAt, ...rest } = request.body
      const input = { ...rest, expiresAt: expiresAt ? new Date(expiresAt) : null }
      return reply.code(201).send(await suppressions.createSuppression(input, request.actor))
    },
  })

  app.get('/suppressions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listSuppressions',
      summary: 'List suppressions, by person, scope, reason or only those in force',
      tags,
      querystring: ListSuppressionsQuery,
      response: { 200: Page(suppressionRef), ...errorResponses(404) },
    },
    handler: async (request) => suppressions.listSuppressions(request.query),
  })

  app.get('/suppressions/:id', {
    config: { roles: Roles.staff },
    schema: { operationId: 'getSuppression', summary: 'Get a suppression', tags, params: IdParams, response: { 200: suppressionRef, ...errorResponses(404) } },
    handler: async (request) => suppressions.getSuppression(request.params.id),
  })

  app.post('/suppressions/:id/lift', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'liftSuppression',
      summary: 'Lift a suppression (admin, with a reason; audited)',
      description: 'Objection and erasure suppressions are never lifted by staff: 409 suppression_not_liftable.',
      tags,
      params: IdParams,
      body: LiftSuppressionBody,
      response: { 200: suppressionRef, ...errorResponses(404, 409) },
    },
    handler: async (request) => suppressions.liftSuppression(request.params.id, request.body.reason, request.actor),
  })
}
