// Staff API for data-subject requests: register one, list the open and the
// overdue, and take it through its steps; admins lift a restriction.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { createdOrFound } from '../lib/http.js'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { LiftSuppressionBody } from '../suppressions/schemas.js'
import { exportPage } from './export-html.js'
import { ContactExport, DataSubjectRequest, EraseBody, ErasureAnswer, DataSubjectRequestPage, ExportQuery, NewDataSubjectRequest, RequestOutcomeBody, RequestQuery } from './schemas.js'

const tags = ['requests']

export const dataSubjectRequestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { dataSubjectRequests, exports, erasure } = app.services

  app.post('/requests', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createRequest',
      summary: 'Register a data-subject request received by mail, letter, phone or in person',
      description:
        'The due date is the earlier of the 14th Norwegian working day after the day of receipt (Sundays and public holidays do not count, ' +
        'Saturdays do) and the same date a month later, in Europe/Oslo.',
      tags,
      body: ref(NewDataSubjectRequest),
      response: { 201: ref(DataSubjectRequest, 'The request; Location is its address'), ...errorResponses(404, 422) },
    },
    handler: async (request, reply) => {
      const created = await dataSubjectRequests.create(request.body, request.actor)
      return createdOrFound(reply, true, `/requests/${created.id}`, created)
    },
  })

  app.get('/requests', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listRequests',
      summary: 'List requests: all as received, or the open or overdue ones soonest due first',
      tags,
      querystring: RequestQuery,
      response: { 200: ref(DataSubjectRequestPage, 'A page of requests') },
    },
    handler: async (request) => dataSubjectRequests.listRequests({ ...request.query, limit: request.query.limit ?? 50 }),
  })

  app.get('/requests/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getRequest',
      summary: 'A request',
      tags,
      params: IdParams,
      response: { 200: ref(DataSubjectRequest, 'The request'), ...errorResponses(404) },
    },
    handler: async (request) => dataSubjectRequests.getRequest(request.params.id),
  })

  app.post('/requests/:id/start', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'startRequest',
      summary: 'Mark a request as being worked on',
      description: 'Starting a started request changes nothing; a completed or refused one is a 409.',
      tags,
      params: IdParams,
      response: { 200: ref(DataSubjectRequest, 'The request'), ...errorResponses(404, 409) },
    },
    handler: async (request) => dataSubjectRequests.start(request.params.id, request.actor),
  })

  app.post('/requests/:id/complete', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'completeRequest',
      summary: 'Complete a request with its outcome, carrying it out where the service can',
      description:
        'A restriction puts an all-mail restriction in force (every message is blocked with reason `restricted` until it is lifted); ' +
        'an objection records the person’s objection to marketing. An erasure request is completed by the erasure itself (409 `erasure_by_erase`).',
      tags,
      params: IdParams,
      body: ref(RequestOutcomeBody),
      response: { 200: ref(DataSubjectRequest, 'The completed request'), ...errorResponses(404, 409) },
    },
    handler: async (request) => dataSubjectRequests.complete(request.params.id, request.body.outcome, request.actor),
  })

  app.post('/requests/:id/refuse', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'refuseRequest',
      summary: 'Refuse a request, with the reasons the person is told (GDPR art. 12(4))',
      tags,
      params: IdParams,
      body: ref(RequestOutcomeBody),
      response: { 200: ref(DataSubjectRequest, 'The refused request'), ...errorResponses(404, 409) },
    },
    handler: async (request) => dataSubjectRequests.refuse(request.params.id, request.body.outcome, request.actor),
  })

  app.post('/requests/:id/lift-restriction', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'liftRestriction',
      summary: 'Lift the restriction a completed restriction request put in force (tell the person first: art. 18(3))',
      tags,
      params: IdParams,
      body: ref(LiftSuppressionBody),
      response: { 200: ref(DataSubjectRequest, 'The request'), ...errorResponses(404, 409) },
    },
    handler: async (request) => dataSubjectRequests.liftRestriction(request.params.id, request.body.reason, request.actor),
  })

  app.get('/contacts/:id/export', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'exportContact',
      summary: 'Everything held about a person, for an access or portability request (GDPR art. 15, 20)',
      description:
        'One JSON document: profile, subscriptions, consent history with the notices seen, enrollments, kept opt-outs, suppressions, ' +
        'messages with their decisions and delivery events, requests and audit entries, and from the processing register the purposes, ' +
        'bases, categories, recipients and retention that apply. `format=html` answers the same as a page in the person’s language, ' +
        'which can be sent as the answer. Every export is recorded in the audit log.',
      tags: [...tags, 'contacts'],
      params: IdParams,
      querystring: ExportQuery,
      response: { 200: ref(ContactExport, 'The export (or, with format=html, the page)'), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      const data = await exports.exportContact(request.params.id, request.actor)
      // The page is the same document as text/html: outside the JSON schema the reply type is checked against.
      if (request.query.format === 'html') return (reply as unknown as FastifyReply).type('text/html; charset=utf-8').send(exportPage(data))
      return data
    },
  })

  app.post('/contacts/:id/erase', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'eraseContact',
      summary: 'Erase a person: their data goes everywhere, proof keeps only the keyed address hash (GDPR art. 17)',
      description:
        'The contact, subscriptions and kept opt-outs go; consent events, send decisions, messages, delivery events, suppressions, requests and audit ' +
        'entries stay as proof with their personal values set to null; enrollments stay as sales records (bookkeeping, P11); an erasure suppression keeps ' +
        'the address from marketing for good. The answer says what was kept and why. Erasing again answers `already_erased`. During a running course it is ' +
        'a 409 `erasure_during_enrollment` with `courseEndsAt`, or, with `scheduleAtCourseEnd` and the erasure `requestId`, a 202: carried out when the course is over.',
      tags: [...tags, 'contacts'],
      params: IdParams,
      body: ref(EraseBody),
      response: {
        200: ref(ErasureAnswer, 'Erased now, or already'),
        202: ref(ErasureAnswer, 'Scheduled for the end of the running course'),
        ...errorResponses(404, 409, 422),
      },
    },
    handler: async (request, reply) => {
      const answer = await erasure.erase(request.params.id, request.body, request.actor)
      return reply.code(answer.status === 'scheduled' ? 202 : 200).send(answer)
    },
  })
}
