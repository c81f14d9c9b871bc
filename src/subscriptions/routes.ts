// Staff API for subscriptions: subscribe, confirm, unsubscribe, members, a contact's lists.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { createdOrFound } from '../lib/http.js'
import {
  ChangeBody,
  ContactSubscriptionList,
  MemberPage,
  MemberParams,
  MembersQuery,
  SubscribeBody,
  Subscription,
  UnsubscribeAllResult,
} from './schemas.js'

const tags = ['subscriptions']

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
      body: ref(SubscribeBody),
      response: {
        201: ref(Subscription, 'The subscription, new or changed; Location is its address'),
        200: ref(Subscription, 'The subscription, already as asked: nothing changed'),
        ...errorResponses(404, 409, 422),
      },
    },
    handler: async (request, reply) => {
      const { subscription, changed } = await subscriptions.subscribe(request.params.id, request.body, request.actor)
      return createdOrFound(reply, changed, `/lists/${subscription.listId}/subscriptions/${subscription.contactId}`, subscription)
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
      response: { 200: ref(MemberPage, "A page of the list's members"), ...errorResponses(404) },
    },
    handler: async (request) => subscriptions.listMembers(request.params.id, request.query),
  })

  app.get('/lists/:id/subscriptions/:contactId', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getSubscription',
      summary: "A contact's subscription to one list",
      tags,
      params: MemberParams,
      response: { 200: ref(Subscription, 'The subscription'), ...errorResponses(404) },
    },
    handler: async (request) => subscriptions.getSubscription(request.params.id, request.params.contactId),
  })

  app.post('/lists/:id/subscriptions/:contactId/confirm', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'confirmSubscription',
      summary: 'Record that the person confirmed a pending (double opt-in) subscription',
      tags,
      params: MemberParams,
      body: ref(ChangeBody),
      response: { 200: ref(Subscription, 'The subscription as it is now'), ...errorResponses(404, 409) },
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
      body: ref(ChangeBody),
      response: { 200: ref(Subscription, 'The subscription as it is now'), ...errorResponses(404, 409) },
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
        'active enrollment follow when it ends (course mail cannot be opted out of while enrolled). ' +
        'The answer says what took effect now and what will, when. ' +
        'Transactional mail is not affected.',
      tags,
      params: IdParams,
      body: ref(ChangeBody),
      response: { 200: ref(UnsubscribeAllResult, 'What took effect now, and what will, when'), ...errorResponses(404) },
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
      response: { 200: ref(ContactSubscriptionList, "The contact's subscriptions"), ...errorResponses(404) },
    },
    handler: async (request) => ({ items: await subscriptions.contactSubscriptions(request.params.id) }),
  })
}
