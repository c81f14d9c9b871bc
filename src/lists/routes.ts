// Staff API for lists: create, read, list, update, archive.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses, IdParams, Page } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { CreateListBody, List, ListListsQuery, UpdateListBody } from './schemas.js'

const tags = ['lists']
export const listRef = Type.Unsafe<Type.Static<typeof List>>({ $ref: 'List#' })

export const listRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { lists } = app.services

  app.post('/lists', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createList',
      summary: 'Create a list (its legal basis follows from its kind)',
      tags,
      body: CreateListBody,
      response: { 201: listRef, ...errorResponses(409, 422) },
    },
    handler: async (request, reply) => reply.code(201).send(await lists.createList(request.body, request.actor)),
  })

  app.get('/lists', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listLists',
      summary: 'List lists',
      tags,
      querystring: ListListsQuery,
      response: { 200: Page(listRef), ...errorResponses() },
    },
    handler: async (request) => lists.listLists(request.query),
  })

  app.get('/lists/:id', {
    config: { roles: Roles.staff },
    schema: { operationId: 'getList', summary: 'Get a list', tags, params: IdParams, response: { 200: listRef, ...errorResponses(404) } },
    handler: async (request) => lists.getList(request.params.id),
  })

  app.patch('/lists/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'updateList',
      summary: 'Update a list (kind, purpose and basis cannot change)',
      tags,
      params: IdParams,
      body: UpdateListBody,
      response: { 200: listRef, ...errorResponses(404, 409) },
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
      response: { 200: listRef, ...errorResponses(404) },
    },
    handler: async (request) => lists.archiveList(request.params.id, request.actor),
  })
}
