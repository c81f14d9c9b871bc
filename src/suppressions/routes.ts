// Staff API for suppressions: add, list, read; admins lift, and move them
// between instances (export and import of the transfer file).
import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError } from '../lib/errors.js'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import {
  CreateSuppressionBody,
  ImportSuppressionsQuery,
  LiftSuppressionBody,
  ListSuppressionsQuery,
  Suppression,
  SuppressionFile,
  SuppressionFileStream,
  SuppressionImportReport,
  SuppressionPage,
} from './schemas.js'
import { createdOrFound } from '../lib/http.js'
import { NDJSON } from './transfer-format.js'

const tags = ['suppressions']

/**
 * The largest transfer file the API takes: about 250,000 suppressions. The
 * import holds a file's records while it checks them; a larger one goes in
 * through `npm run suppressions -- import` with DATABASE_URL, which reads the
 * file itself.
 */
export const MAX_TRANSFER_BYTES = 64 * 1024 * 1024

export const suppressionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { suppressions, suppressionTransfer } = app.services

  app.get('/suppressions/export', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'exportSuppressions',
      summary: 'Export every suppression in force, for another instance (keyed hashes and reasons only; audited)',
      description:
        'Streams the transfer file: a header naming the format, its version and a fingerprint of SUPPRESSION_PEPPER (never the pepper), ' +
        'then one line per suppression in force as the decision sees it — not lifted, not expired, not superseded by the person’s own newer consent. ' +
        'Import it on an instance with the same pepper (POST /v1/suppressions/import).',
      tags,
      response: { 200: SuppressionFileStream },
    },
    handler: async (request, reply) => {
      const { exportId, lines } = await suppressionTransfer.exportSuppressions(request.actor)
      return reply
        .type(`${NDJSON}; charset=utf-8`)
        .header('content-disposition', `attachment; filename="suppressions-${exportId}.ndjson"`)
        .send(Readable.from(lines))
    },
  })

  app.post('/suppressions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createSuppression',
      summary: 'Suppress a person (by contact or address) in a scope',
      description:
        'Answers 201 with the new suppression, or 200 with the one already in force when the same suppression ' +
        '(scope, reason, list, purpose, lasting at least as long) is written again, at once or later. ' +
        'Erasure and restriction suppressions come from data-subject requests only (/v1/requests).',
      tags,
      body: ref(CreateSuppressionBody),
      response: {
        201: ref(Suppression, 'The new suppression; Location is its address'),
        200: ref(Suppression, 'The same suppression, already in force'),
        ...errorResponses(404, 422),
      },
    },
    handler: async (request, reply) => {
      const { expiresAt, ...rest } = request.body
      const input = { ...rest, expiresAt: expiresAt ? new Date(expiresAt) : null }
      const { suppression, created } = await suppressions.createSuppression(input, request.actor)
      return createdOrFound(reply, created, `/suppressions/${suppression.id}`, suppression)
    },
  })

  app.get('/suppressions', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listSuppressions',
      summary: 'List suppressions, by person, scope, reason or only those in force',
      tags,
      querystring: ListSuppressionsQuery,
      response: { 200: ref(SuppressionPage, 'A page of suppressions'), ...errorResponses(404) },
    },
    handler: async (request) => suppressions.listSuppressions(request.query),
  })

  app.get('/suppressions/:id', {
    config: { roles: Roles.staff },
    schema: { operationId: 'getSuppression', summary: 'Get a suppression', tags, params: IdParams, response: { 200: ref(Suppression, 'The suppression'), ...errorResponses(404) } },
    handler: async (request) => suppressions.getSuppression(request.params.id),
  })

  app.post('/suppressions/:id/lift', {
    config: { roles: Roles.admin },
    schema: {
      operationId: 'liftSuppression',
      summary: 'Lift a manual block or a bounce, with a reason (audited)',
      description:
        'Only what staff or the system decided (reason manual or bounce) is lifted. What the person said — ' +
        'unsubscribe, objection, complaint, erasure — yields only to their own new consent: 409 suppression_not_liftable.',
      tags,
      params: IdParams,
      body: ref(LiftSuppressionBody),
      response: { 200: ref(Suppression, 'The lifted suppression'), ...errorResponses(404, 409) },
    },
    handler: async (request) => suppressions.liftSuppression(request.params.id, request.body.reason, request.actor),
  })

  await app.register(transferImportRoute)
}

/** In a scope of its own: the one body it takes is the transfer file, as text. */
const transferImportRoute: FastifyPluginAsyncTypebox = async (app) => {
  const { suppressionTransfer } = app.services
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(NDJSON, { parseAs: 'string', bodyLimit: MAX_TRANSFER_BYTES }, (_request, body, done) => done(null, body))
  app.addContentTypeParser('*', (_request, _payload, done) => done(new AppError(415, 'unsupported_media_type', `Send the transfer file as ${NDJSON}`), undefined))

  app.post('/suppressions/import', {
    config: { roles: Roles.admin },
    bodyLimit: MAX_TRANSFER_BYTES,
    schema: {
      operationId: 'importSuppressions',
      summary: 'Import suppressions exported by another instance with the same pepper (audited)',
      description:
        'Each line becomes a suppression by address hash alone (no contact), which blocks anyone with that address here, a contact made later included; ' +
        'it keeps its reason, scope, list (matched by slug), purpose and times. One already in force here is not written again, so importing a file twice adds nothing. ' +
        'A file made under another pepper is refused (422 pepper_mismatch); one without its header, or of another version, is 422 suppression_file_invalid. ' +
        'Lines that cannot be imported (malformed, a list slug not here) are reported by line number and the rest imported, unless allOrNothing.',
      tags,
      querystring: ImportSuppressionsQuery,
      body: SuppressionFile,
      response: { 200: ref(SuppressionImportReport, 'What became of each line'), ...errorResponses(422) },
    },
    handler: async (request) =>
      // A request without a body is an empty file.
      suppressionTransfer.importSuppressions(request.body ?? '', { allOrNothing: request.query.allOrNothing }, request.actor),
  })
}
