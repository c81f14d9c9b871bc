// The OpenAPI 3.1 document is generated from the route schemas (the routes are
// the spec), served at /openapi.json with a docs UI at /docs, and committed to
// openapi/openapi.json, where CI checks it for drift.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pkg from '../../package.json' with { type: 'json' }

export default fp(
  async function openapiPlugin(app: FastifyInstance) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Samtykke',
          version: pkg.version,
          description:
            'Mailing-list and consent management. Every error is application/problem+json (RFC 9457) with a stable `code`.',
        },
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          },
        },
      },
      // Shared schemas keep their $id as their component name.
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
    app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
  },
  { name: 'openapi' },
)
