// The OpenAPI 3.1 document is generated from the route schemas (the routes are
// the spec), served at /openapi.json with a docs UI at /docs that loads nothing
// from other servers, and committed to openapi/ with the client types
// generated from it, where CI checks both for drift and lints the spec with
// Spectral. Each route documents the errors only it can answer; the ones every
// route of a kind can answer (400 and 429 always, 401 and 403 with roles, 413
// and 415 with a body) are added here, once.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pkg from '../../package.json' with { type: 'json' }
import { problemResponse } from '../lib/schemas.js'
import { webhooksSection } from '../webhooks/openapi.js'

export interface OpenApiOptions {
  /** Where subscribers and clients reach the service (PUBLIC_BASE_URL). */
  publicBaseUrl: string
  controllerName: string
  controllerEmail: string
}

/** Every tag an operation uses, described once. */
const TAGS = [
  { name: 'contacts', description: 'The people we may write to: create, find, rectify' },
  { name: 'lists', description: 'What people can be on; the legal basis follows from the kind of list' },
  { name: 'subscriptions', description: 'Who is on which list; every change is a consent event' },
  { name: 'consent', description: 'The append-only consent ledger and the notices people saw' },
  { name: 'courses', description: 'Courses and enrollments from the course system: the contract course mail stands on' },
  { name: 'suppressions', description: 'Who must not be written to, in what scope, and why' },
  { name: 'decisions', description: 'May this message go to this person now, and why (or why not)' },
  { name: 'ledger', description: 'One immutable row per decision taken on the send path: when queued, and at each delivery attempt' },
  { name: 'templates', description: 'Message templates: MJML versions per locale, previews' },
  { name: 'sends', description: 'Single sends from a template, and the story of each message: decisions and delivery' },
  { name: 'signup', description: 'Public: signup from the company’s web forms, with double opt-in where a list asks for it' },
  { name: 'campaigns', description: 'One template version to a whole list: fan-out, pause, resume, cancel, and who got it and why' },
  { name: 'tokens', description: 'Revoking bearer tokens' },
  { name: 'audit', description: 'Who changed what, and when' },
  { name: 'requests', description: 'Data-subject requests (access, portability, rectification, erasure, restriction, objection) with their due dates' },
  { name: 'register', description: 'The record of processing activities (GDPR art. 30) the service runs on' },
  { name: 'returns', description: 'What comes back after a message left: bounces, complaints and deliveries, from mail servers, feedback loops and email providers' },
  { name: 'webhooks', description: 'Signed events out (Standard Webhooks) for the course system: endpoints, their secrets, the delivery log and replay; the payloads are in the webhooks section' },
  { name: 'imports', description: 'Existing subscribers from another tool’s CSV export, without re-adding anyone who left: jobs, progress and reports' },
]

const DESCRIPTION = `Samtykke decides whether an email may be sent to a person, sends it, and can prove afterwards why.

Staff and admins use this API with bearer tokens (JWT) carrying their role; the course system uses it for courses, enrollments and decisions about course and transactional mail. Each operation states the roles it admits.

Every error is \`application/problem+json\` (RFC 9457) with a stable \`code\`. Lists are keyset-paged: pass \`nextCursor\` as \`cursor\`.`

type ResponseMap = Record<string, unknown>

export default fp(
  async function openapiPlugin(app: FastifyInstance, options: OpenApiOptions) {
    app.addHook('onRoute', (route) => {
      const schema = route.schema
      if (!schema || schema.hide || !schema.response) return
      const roles = (route.config as { roles?: unknown[] } | undefined)?.roles
      const statuses = [400, 429, ...(roles ? [401, 403] : []), ...(schema.body ? [413, 415] : [])]
      const response = schema.response as ResponseMap
      for (const status of statuses) response[status] ??= problemResponse(status)
      schema.response = Object.fromEntries(Object.entries(response).sort(([a], [b]) => Number(a) - Number(b)))
    })

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Samtykke API',
          version: pkg.version,
          description: DESCRIPTION,
          contact: { name: options.controllerName, email: options.controllerEmail.replace(/^.*<(.+)>\s*$/, '$1') },
        },
        servers: [{ url: options.publicBaseUrl, description: 'This service' }],
        tags: TAGS,
        webhooks: webhooksSection(),
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          },
        },
      },
      // Shared schemas keep their $id as their component name.
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    })
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      theme: { title: 'Samtykke API' },
      // Swagger UI's own default sends the spec's address to validator.swagger.io for a badge;
      // the plugin turns that off today, and saying so here keeps it off: the docs load nothing from elsewhere.
      uiConfig: { validatorUrl: null },
    })
    app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
  },
  { name: 'openapi' },
)
