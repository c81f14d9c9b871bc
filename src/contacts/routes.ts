// Staff API for contacts: create, read, list and search, rectify.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Roles } from '../plugins/auth.js'
import { errorResponses, IdParams, Page } from '../lib/schemas.js'
import { Contact, CreateContactBody, ListContactsQuery, UpdateContactBody } from './schemas.js'

const tags = ['contacts']
const contactRef = Type.Unsafe<Type.Static<typeof Contact>>({ $ref: 'Contact#' })

export const contactRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { contacts } = app.services

  app.post('/contacts', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createContact',
      summary: 'Create a contact',
      tags,
      body: CreateContactBody,
      response: { 201: contactRef, ...errorResponses(409) },
    },
    handler: async (request, reply) => reply.code(201).send(await contacts.createContact(request.body, request.actor)),
  })

  app.get('/contacts', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listContacts',
      summary: 'List contacts, newest last, with search by email or text',
      tags,
      querystring: ListContactsQuery,
      response: { 200: Page(contactRef), ...errorResponses() },
    },
    handler: async (request) => contacts.listContacts(request.query),
  })

  app.get('/contacts/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getContact',
      summary: 'Get a contact',
      tags,
      params: IdParams,
      response: { 200: contactRef, ...errorResponses(404) },
    },
    handler: async (request) => contacts.getContact(request.params.id),
  })

  app.patch('/contacts/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'updateContact',
      summary: 'Rectify a contact (every change is audited)',
      tags,
      params: IdParams,
      body: UpdateContactBody,
      response: { 200: contactRef, ...errorResponses(404, 409) },
    },
    handler: async (request) => contacts.updateContact(request.params.id, request.body, request.actor),
  })
}
