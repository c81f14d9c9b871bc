// Staff API for suppressions: add, list, read; admins lift.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { CreateSuppressionBody, LiftSuppressionBody, ListSuppressionsQuery, Suppression, SuppressionPage } from './schemas.js'
import { createdOrFound } from '../lib/http.js'

const tags = ['suppressions']

export const suppressionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { suppressions } = app.services

  app.post('/suppressions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createSuppression',
      summary: 'Suppress a person (by contact or address) in a scope',
      description:
        'Answers 201 with the new suppression, or 200 with the one already in force when the same suppression ' +
        '(scope, reason, list, purpose, lasting at least as long) is written again, at once or later. ' +
        'Erasure and restriction suppressions come from data-subject requests only (/v1/requests).',
      tags,
      body: ref(CreateSuppressionBody),
      response: {
        201: ref(Suppression, 'The new suppression; Location is its address'),
        200: ref(Suppression, 'The same suppression, already in force'),
        ...errorResponses(404, 422),
      },
    },
    handler: async (request, reply) => {
      const { expiresAt, ...rest } = request.body
      const input = { ...rest, expiresAt: expiresAt ? new Date(expiresAt) : null }
      const { suppression, created } = await suppressions.createSuppression(input, request.actor)
      return createdOrFound(reply, created, `/suppressions/${suppression.id}`, suppression)
    },
  })

  app.get('/suppressions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listSuppressions',
      summary: 'List suppressions, by person, scope, reason or only those in force',
      tags,
      querystring: ListSuppressionsQuery,
      response: { 200: ref(SuppressionPage, 'A page of suppressions'), ...errorResponses(404) },
    },
    handler: async (request) => suppressions.listSuppressions(request.query),
  })

  app.get('/suppressions/:id', {
    config: { roles: Roles.staff },
    schema: { operationId: 'getSuppression', summary: 'Get a suppression', tags, params: IdParams, response: { 200: ref(Suppression, 'The suppression'), ...errorResponses(404) } },
    handler: async (request) => suppressions.getSuppression(request.params.id),
  })

  app.post('/suppressions/:id/lift', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'liftSuppression',
      summary: 'Lift a manual block or a bounce, with a reason (audited)',
      description:
        'Only what staff or the system decided (reason manual or bounce) is lifted. What the person said — ' +
        'unsubscribe, objection, complaint, erasure — yields only to their own new consent: 409 suppression_not_liftable.',
      tags,
      params: IdParams,
      body: ref(LiftSuppressionBody),
      response: { 200: ref(Suppression, 'The lifted suppression'), ...errorResponses(404, 409) },
    },
    handler: async (request) => suppressions.liftSuppression(request.params.id, request.body.reason, request.actor),
  })
}
