// API for the send decision: ask it (course system and staff), and have it
// explained for one contact (staff). Neither changes anything.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { DecideBody, DecisionSchema, Explanation } from './schemas.js'

const tags = ['decisions']

export const decisionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { decisions } = app.services

  app.post('/decisions', {
    config: { roles: Roles.courseSystem },
    schema: {
      operationId: 'decide',
      summary: 'May this message go to this person now?',
      description:
        'Answers allowed, with the legal basis and the evidence, or blocked, with a stable reason. ' +
        'Name the recipient by `email` or by `contactId` (exactly one); course mail names the course, ' +
        'other mail the list, whose kind must match the message kind. Changes nothing and writes no ledger row. ' +
        'The course system may ask about course and transactional mail only (403 otherwise); staff about every kind.',
      tags,
      body: ref(DecideBody),
      response: { 200: ref(DecisionSchema, 'The decision'), ...errorResponses(404, 422) },
    },
    handler: async (request) => decisions.decideFor(request.body, request.actor),
  })

  app.get('/contacts/:id/explain', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'explainContact',
      summary: 'Why each list and course would or would not get mail to this contact now',
      description:
        'From stored data alone: for every open newsletter, marketing and transactional list, every list the contact ' +
        'is on, and every course they are enrolled in, the decision with the subscription, consent events and ' +
        'suppressions behind it; and every suppression of the contact, lifted ones included.',
      tags: [...tags, 'contacts'],
      params: IdParams,
      response: { 200: ref(Explanation, "The contact's explanation"), ...errorResponses(404) },
    },
    handler: async (request) => decisions.explainContact(request.params.id),
  })
}
