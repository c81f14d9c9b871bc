// Staff API for subscriptions: subscribe, confirm, unsubscribe, members, a contact's lists.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses, IdParams, Page } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import {
  ChangeBody,
  ContactSubscription,
  Member,
  MemberParams,
  MembersQuery,
  SubscribeBody,
  Subscription,
  UnsubscribeAllResult,
} from './schemas.js'

const tags = ['subscriptions']
const subscriptionRef = Type.Unsafe<Type.Static<typeof Subscription>>({ $ref: 'Subscription#' })

export const subscriptionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { subscriptions, optOut } = app.services

  app.post('/lists/:id/subscriptions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'subscribe',
      summary: 'Subscribe a contact to a list',
      description:
        'Lists that stand on consent need `consent` with `given: true` and the notice the person saw. ' +
        'Someone who unsubscribed can only be subscribed again with such a new consent. ' +
        'Answers 201 when something changed, 200 when the contact was already subscribed.',
      tags,
      params: IdParams,
      body: SubscribeBody,
      response: { 201: subscriptionRef, 200: subscriptionRef, ...errorResponses(404, 409, 422) },
    },
    handler: async (request, reply) => {
      const { subscription, changed } = await subscriptions.subscribe(request.params.id, request.body, request.actor)
      return reply.code(changed ? 201 : 200).send(subscription)
    },
  })

  app.get('/lists/:id/subscriptions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listMembers',
      summary: "A list's members, optionally by status",
      tags,
      params: IdParams,
      querystring: MembersQuery,
      response: { 200: Page(Member), ...errorResponses(404) },
    },
    handler: async (request) => subscriptions.listMembers(request.params.id, request.query),
  })

  app.post('/lists/:id/subscriptions/:contactId/confirm', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'confirmSubscription',
      summary: 'Record that the person confirmed a pending (double opt-in) subscription',
      tags,
      params: MemberParams,
      body: ChangeBody,
      response: { 200: subscriptionRef, ...errorResponses(404, 409) },
    },
    handler: async (request) =>
      (await subscriptions.confirm(request.params.id, request.params.contactId, request.body, request.actor)).subscription,
  })

  app.post('/lists/:id/subscriptions/:contactId/unsubscribe', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'unsubscribe',
      summary: 'Unsubscribe a contact from a list',
      description:
        'From a course list while enrolled this is refused with 409 optout_locked_by_enrollment and `lockedUntil`; ' +
        'the wish is recorded and carried out when the enrollment ends.',
      tags,
      params: MemberParams,
      body: ChangeBody,
      response: { 200: subscriptionRef, ...errorResponses(404, 409) },
    },
    handler: async (request) =>
      (await optOut.unsubscribe(request.params.id, request.params.contactId, request.body, request.actor)).subscription,
  })

  app.post('/contacts/:id/unsubscribe-all', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'unsubscribeAll',
      summary: 'Unsubscribe a contact from everything',
      description:
        'Takes effect at once for every non-course list and adds a global suppression; course lists of an ' +
        'active enrollment follow when it ends (P3). The answer says what took effect now and what will, when. ' +
        'Transactional mail is not affected.',
      tags,
      params: IdParams,
      body: ChangeBody,
      response: { 200: UnsubscribeAllResult, ...errorResponses(404) },
    },
    handler: async (request) => optOut.unsubscribeAll(request.params.id, request.body, request.actor),
  })

  app.get('/contacts/:id/subscriptions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getContactSubscriptions',
      summary: "A contact's subscriptions on every list",
      tags: [...tags, 'contacts'],
      params: IdParams,
      response: { 200: Type.Object({ items: Type.Array(ContactSubscription) }), ...errorResponses(404) },
    },
    handler: async (request) => ({ items: await subscriptions.contactSubscriptions(request.params.id) }),
  })
}
