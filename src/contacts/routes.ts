// Staff API for contacts: create, read, list and search, rectify.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Roles } from '../plugins/auth.js'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Contact, ContactPage, CreateContactBody, ListContactsQuery, UpdateContactBody } from './schemas.js'
import { createdOrFound } from '../lib/http.js'

const tags = ['contacts']

export const contactRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { contacts } = app.services

  app.post('/contacts', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createContact',
      summary: 'Create a contact',
      tags,
      body: ref(CreateContactBody),
      response: { 201: ref(Contact, 'The new contact; Location is its address'), ...errorResponses(409) },
    },
    handler: async (request, reply) => {
      const contact = await contacts.createContact(request.body, request.actor)
      return createdOrFound(reply, true, `/contacts/${contact.id}`, contact)
    },
  })

  app.get('/contacts', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listContacts',
      summary: 'List contacts, newest last, with search by email or text',
      tags,
      querystring: ListContactsQuery,
      response: { 200: ref(ContactPage, 'A page of contacts') },
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
      response: { 200: ref(Contact, 'The contact'), ...errorResponses(404) },
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
      body: ref(UpdateContactBody),
      response: { 200: ref(Contact, 'The contact as it is now'), ...errorResponses(404, 409) },
    },
    handler: async (request) => contacts.updateContact(request.params.id, request.body, request.actor),
  })
}
