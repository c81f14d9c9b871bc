// Staff API for lists: create, read, list, update, archive.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { CreateListBody, List, ListListsQuery, ListPage, UpdateListBody } from './schemas.js'
import { createdOrFound } from '../lib/http.js'

const tags = ['lists']

export const listRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { lists } = app.services

  app.post('/lists', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createList',
      summary: 'Create a list (its legal basis follows from its kind)',
      tags,
      body: ref(CreateListBody),
      response: { 201: ref(List, 'The new list; Location is its address'), ...errorResponses(409, 422) },
    },
    handler: async (request, reply) => {
      const list = await lists.createList(request.body, request.actor)
      return createdOrFound(reply, true, `/lists/${list.id}`, list)
    },
  })

  app.get('/lists', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listLists',
      summary: 'List lists',
      tags,
      querystring: ListListsQuery,
      response: { 200: ref(ListPage, 'A page of lists') },
    },
    handler: async (request) => lists.listLists(request.query),
  })

  app.get('/lists/:id', {
    config: { roles: Roles.staff },
    schema: { operationId: 'getList', summary: 'Get a list', tags, params: IdParams, response: { 200: ref(List, 'The list'), ...errorResponses(404) } },
    handler: async (request) => lists.getList(request.params.id),
  })

  app.patch('/lists/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'updateList',
      summary: 'Update a list (kind, purpose and basis cannot change)',
      tags,
      params: IdParams,
      body: ref(UpdateListBody),
      response: { 200: ref(List, 'The list as it is now'), ...errorResponses(404, 409) },
    },
    handler: async (request) => lists.updateList(request.params.id, request.body, request.actor),
  })

  app.post('/lists/:id/archive', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'archiveList',
      summary: 'Archive a list: no new subscriptions or sends; history is kept',
      tags,
      params: IdParams,
      response: { 200: ref(List, 'The archived list'), ...errorResponses(404) },
    },
    handler: async (request) => lists.archiveList(request.params.id, request.actor),
  })
}
