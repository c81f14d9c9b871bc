// Admin API for webhook endpoints: register, read, change, disable and enable,
// rotate the secret, read the delivery log, replay. Thin: each route is its
// schema, its roles and one service call.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createdOrFound } from '../lib/http.js'
import { errorResponses, IdParams, PageQuery, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { Type } from 'typebox'
import {
  EndpointQuery,
  EventParams,
  WebhookDeliveryAttemptPage,
  WebhookEndpoint,
  WebhookEndpointCreate,
  WebhookEndpointPage,
  WebhookEndpointUpdate,
  WebhookEndpointWithSecret,
  WebhookReplayed,
  WebhookReplayRange,
} from './schemas.js'

const tags = ['webhooks']
const admin = { roles: Roles.admin }

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { webhooks } = app.services

  app.post('/webhooks', {
    config: admin,
    schema: {
      operationId: 'createWebhookEndpoint',
      summary: 'Register a webhook endpoint; the answer carries its signing secret, shown this once',
      tags,
      body: ref(WebhookEndpointCreate),
      response: { 201: ref(WebhookEndpointWithSecret, 'The endpoint and its secret'), ...errorResponses(422) },
    },
    handler: async (request, reply) => {
      const endpoint = await webhooks.createEndpoint(request.body, request.actor)
      return createdOrFound(reply, true, `/webhooks/${endpoint.id}`, endpoint)
    },
  })

  app.get('/webhooks', {
    config: admin,
    schema: { operationId: 'listWebhookEndpoints', summary: 'Webhook endpoints, oldest first', tags, querystring: EndpointQuery, response: { 200: ref(WebhookEndpointPage, 'A page of endpoints') } },
    handler: async (request) => webhooks.listEndpoints({ ...request.query, limit: request.query.limit ?? 50 }),
  })

  app.get('/webhooks/:id', {
    config: admin,
    schema: { operationId: 'getWebhookEndpoint', summary: 'One webhook endpoint', tags, params: IdParams, response: { 200: ref(WebhookEndpoint, 'The endpoint'), ...errorResponses(404) } },
    handler: async (request) => webhooks.getEndpoint(request.params.id),
  })

  app.patch('/webhooks/:id', {
    config: admin,
    schema: {
      operationId: 'updateWebhookEndpoint',
      summary: 'Change an endpoint’s URL, description, events or whether payloads carry the email',
      tags,
      params: IdParams,
      body: ref(WebhookEndpointUpdate),
      response: { 200: ref(WebhookEndpoint, 'The endpoint'), ...errorResponses(404, 422) },
    },
    handler: async (request) => webhooks.updateEndpoint(request.params.id, request.body, request.actor),
  })

  app.post('/webhooks/:id/disable', {
    config: admin,
    schema: { operationId: 'disableWebhookEndpoint', summary: 'Stop deliveries to an endpoint; they wait until it is enabled', tags, params: IdParams, response: { 200: ref(WebhookEndpoint, 'The endpoint'), ...errorResponses(404) } },
    handler: async (request) => webhooks.disableEndpoint(request.params.id, request.actor),
  })

  app.post('/webhooks/:id/enable', {
    config: admin,
    schema: { operationId: 'enableWebhookEndpoint', summary: 'Resume deliveries to an endpoint; what waited is sent at once', tags, params: IdParams, response: { 200: ref(WebhookEndpoint, 'The endpoint'), ...errorResponses(404) } },
    handler: async (request) => webhooks.enableEndpoint(request.params.id, request.actor),
  })

  app.post('/webhooks/:id/rotate-secret', {
    config: admin,
    schema: {
      operationId: 'rotateWebhookSecret',
      summary: 'A new signing secret, shown this once; the old one keeps signing beside it for 24 hours',
      tags,
      params: IdParams,
      response: { 200: ref(WebhookEndpointWithSecret, 'The endpoint and its new secret'), ...errorResponses(404) },
    },
    handler: async (request) => webhooks.rotateSecret(request.params.id, request.actor),
  })

  app.get('/webhooks/:id/deliveries', {
    config: admin,
    schema: {
      operationId: 'listWebhookDeliveries',
      summary: 'The endpoint’s delivery log, newest first: every attempt, what the receiver answered and how long it took',
      tags,
      params: IdParams,
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: { 200: ref(WebhookDeliveryAttemptPage, 'A page of attempts'), ...errorResponses(404) },
    },
    handler: async (request) => webhooks.listDeliveries(request.params.id, { ...request.query, limit: request.query.limit ?? 50 }),
  })

  app.post('/webhooks/:id/events/:eventId/replay', {
    config: admin,
    schema: {
      operationId: 'replayWebhookEvent',
      summary: 'Send one event to the endpoint again',
      tags,
      params: EventParams,
      response: { 202: ref(WebhookReplayed, 'Queued'), ...errorResponses(404, 409, 422) },
    },
    handler: async (request, reply) => reply.code(202).send(await webhooks.replayEvent(request.params.id, request.params.eventId, request.actor)),
  })

  app.post('/webhooks/:id/replay', {
    config: admin,
    schema: {
      operationId: 'replayWebhookEvents',
      summary: 'Send the endpoint again every event of its types that occurred in a time range (what it missed while down)',
      tags,
      params: IdParams,
      body: ref(WebhookReplayRange),
      response: { 202: ref(WebhookReplayed, 'Queued'), ...errorResponses(404, 409) },
    },
    handler: async (request, reply) => reply.code(202).send(await webhooks.replayRange(request.params.id, { from: new Date(request.body.from), to: new Date(request.body.to) }, request.actor)),
  })
}
