// Staff API for the send ledger: read the record of every decision. Rows are
// written by the send path only, never over HTTP.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { LedgerPage, LedgerQuery } from './schemas.js'

export const ledgerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ledger } = app.services

  app.get('/ledger', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listLedger',
      summary: 'The send ledger: every decision, allowed or blocked, oldest first',
      description:
        'Filters combine: `from` (inclusive) and `to` (exclusive) bound the decision time; `from` after `to` is a 400.',
      tags: ['ledger'],
      querystring: LedgerQuery,
      response: { 200: ref(LedgerPage, 'A page of the send ledger') },
    },
    handler: async (request) => ledger.listLedger(request.query),
  })
}
