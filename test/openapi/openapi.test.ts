import t from 'tap'
import { build } from '../helper.js'

interface Operation {
  operationId?: string
  tags?: string[]
  security?: Record<string, string[]>[]
  parameters?: unknown[]
  requestBody?: unknown
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

t.test('the OpenAPI document describes every operation completely', async (t) => {
  const app = await build(t)
  const res = await app.as(null)({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200, 'served without a token')
  const spec = res.json()
  t.match(spec.openapi, /^3\.1\.\d+$/, 'OpenAPI 3.1')
  t.same(spec.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })

  const operations = Object.entries(spec.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
  )
  t.ok(operations.length > 0, 'there are operations')
  const operationIds = new Set<string>()

  for (const { name, operation } of operations) {
    t.test(name, async (t) => {
      t.type(operation.operationId, 'string', 'has an operationId')
      t.notOk(operationIds.has(operation.operationId!), 'the operationId is unique')
      operationIds.add(operation.operationId!)
      t.ok(operation.tags?.length, 'has tags')
      t.ok(Array.isArray(operation.security), 'states its security')
      for (const requirement of operation.security ?? []) {
        t.same(Object.keys(requirement), ['bearerAuth'], 'security names the bearerAuth scheme')
      }
      if (operation.requestBody || operation.parameters?.length) {
        // A public operation (security: []) has no token to refuse: a 400 only.
        const statuses = operation.security?.length === 0 ? ['400'] : ['400', '401', '403']
        for (const status of statuses) {
          const content = operation.responses?.[status]?.content ?? {}
          t.same(Object.keys(content), ['application/problem+json'], `lists a ${status} response as application/problem+json`)
          for (const media of Object.values(content)) t.equal(media.schema?.$ref, '#/components/schemas/Problem', `${status} is a Problem`)
        }
      }
    })
  }
})

t.test('the docs UI is served without a token', async (t) => {
  const app = await build(t)
  let res = await app.as(null)({ method: 'GET', url: '/docs' })
  if (res.statusCode >= 300 && res.statusCode < 400) {
    res = await app.as(null)({ method: 'GET', url: new URL(String(res.headers.location), 'http://localhost/docs').pathname })
  }
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /<html/i)
})
