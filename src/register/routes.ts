// The processing register, as staff and auditors read it: the same
// configuration the service runs on (src/register/register.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { ProcessingRegisterRecord } from './schemas.js'

export const processingRegisterRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { register } = app.services

  app.get('/processing-register', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getProcessingRegister',
      summary: 'The record of processing activities (GDPR art. 30): purposes, bases, categories, retention, processors',
      description: 'Read from the configuration the service runs on: list purposes, retention runs and the access export use the same register.',
      tags: ['register'],
      response: { 200: ref(ProcessingRegisterRecord, 'The processing register') },
    },
    handler: async () => register.record(),
  })
}
