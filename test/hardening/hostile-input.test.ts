// No input makes the service answer 5xx. For every operation in the OpenAPI
// document — so a route added later is covered without a test of its own —
// fast-check sends requests whose body, path and query are mostly what the
// schema asks for, with hostile values mixed in: text with NUL bytes, lone
// surrogates and control characters, `urn:uuid:` ids, leap seconds and year
// 0000, forged cursors, JSON nested thousands deep, values of the wrong type,
// over-long path segments and broken percent-encoding. Every answer must be a
// success, or a 4xx problem document with a stable code; never a 5xx.
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { createContact, createList, putCourse, putEnrollment, uniqueEmail } from '../factories.js'
import { build } from '../helper.js'

type Schema = {
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: boolean | Schema
  items?: Schema
  anyOf?: Schema[]
  enum?: unknown[]
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  $ref?: string
}
interface Parameter {
  in: 'path' | 'query'
  name: string
  required?: boolean
  schema: Schema
}
interface Operation {
  method: string
  path: string
  parameters: Parameter[]
  body?: Schema
}

/** Sized for npm test; CI's PostgreSQL run asks for more (HOSTILE_RUNS). */
const RUNS_PER_OPERATION = Number(process.env.HOSTILE_RUNS ?? 15)

/** JSON nested this deep, written as text: the value itself would overflow any recursive serializer. */
class Deep {
  constructor(readonly depth: number) {}
}

/** JSON text for a generated value; a lone surrogate is escaped as JSON.stringify does, and Deep expands. */
function toJson(value: unknown): string {
  if (value instanceof Deep) return '{"a":'.repeat(value.depth) + '1' + '}'.repeat(value.depth)
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** Percent-encodes every UTF-16 unit, lone surrogates too (as the bytes a careless encoder writes), which encodeURIComponent refuses. */
function percentEncode(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.codePointAt(0)!
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
    } else out += encodeURIComponent(char)
  }
  return out
}

const cursorOf = (text: string) => Buffer.from(text, 'utf8').toString('base64url')
const ZERO_UUID = '00000000-0000-0000-0000-000000000000'

/** Text that has broken services: each value once made this one answer 500, or could have. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => `x${String.fromCharCode(unit)}y`),
  fc.string({ maxLength: 10, unit: fc.integer({ min: 1, max: 31 }).map((c) => String.fromCharCode(c)) }),
  fc.string({ maxLength: 30, unit: 'binary' }),
  fc.constantFrom(
    `urn:uuid:${ZERO_UUID}`,
    `{${ZERO_UUID}}`,
    '2030-12-31T23:59:60Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59-14:00',
    '1899-12-31T23:59:59Z',
    '2026-02-30T00:00:00Z',
    cursorOf(`0000-01-01T00:00:00Z|${ZERO_UUID}`),
    cursorOf(`2030-12-31T23:59:60Z|${ZERO_UUID}`),
    cursorOf('not|a|cursor'),
    cursorOf(`2026-01-01T00:00:00Z|urn:uuid:${ZERO_UUID}`),
    '',
    ' ',
    '\u202e\u200b',
    '😀'.repeat(100),
    "'; drop table contacts; --",
    '%00',
    '-1',
    '1e309',
    'NaN',
  ),
  fc.integer({ min: 200, max: 5000 }).map((n) => 'x'.repeat(n)),
)

/** A value of any JSON type, or nesting far past any limit. */
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.constantFrom(new Deep(40), new Deep(6000)),
)

function hostile(schema: Schema): fc.Arbitrary<unknown> {
  return schema.type === 'string' || schema.format || schema.pattern ? fc.oneof(hostileText, wrongType) : fc.oneof(wrongType, hostileText)
}

/** Fills in values a schema asks for; `pick` chooses among ids that exist, so requests reach past "not found". */
function plausible(schema: Schema, known: Known, resolve: (s: Schema) => Schema): fc.Arbitrary<unknown> {
  const s = resolve(schema)
  if (s.enum) return fc.constantFrom(...s.enum)
  if (s.anyOf) return fc.oneof(...s.anyOf.map((branch) => plausible(branch, known, resolve)))
  const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type
  switch (type) {
    case 'object': {
      const properties = s.properties ?? {}
      if (Object.keys(properties).length === 0) {
        // Free-form objects (contact attributes): nested, sometimes far too deep.
        return fc.oneof({ weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: fc.constant(new Deep(6000)) })
      }
      const required = new Set(s.required ?? [])
      const shape = Object.fromEntries(Object.entries(properties).map(([name, prop]) => [name, mixed(prop, known, resolve, name)]))
      return fc.record(shape, { requiredKeys: [...required] as never[] })
    }
    case 'array':
      return fc.array(mixed(s.items ?? {}, known, resolve), { maxLength: 4 })
    case 'integer':
      return fc.integer({ min: s.minimum ?? -10, max: s.maximum ?? 1000 })
    case 'number':
      return fc.double({ noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'string': {
      if (s.format === 'uuid') return fc.oneof(fc.constantFrom(...known.ids), fc.uuid())
      if (s.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString())
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern), { maxLength: s.maxLength ?? 60 })
      return fc.oneof(fc.constantFrom(...known.texts), fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) }))
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Mostly plausible, sometimes hostile: most requests then carry one bad value at most and get past the rest of validation. */
function mixed(schema: Schema, known: Known, resolve: (s: Schema) => Schema, name = ''): fc.Arbitrary<unknown> {
  const fitting = /email/i.test(name) ? fc.oneof(fc.constantFrom(...known.emails), fc.emailAddress()) : plausible(schema, known, resolve)
  return fc.oneof({ weight: 6, arbitrary: fitting }, { weight: 1, arbitrary: hostile(resolve(schema)) })
}

interface Known {
  ids: string[]
  texts: string[]
  emails: string[]
}

function operationsOf(spec: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema: Schema }> } }>> }): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content?.['application/json']?.schema,
    })),
  )
}

/** One generated request for an operation. */
function requestFor(op: Operation, known: Known, resolve: (s: Schema) => Schema): fc.Arbitrary<InjectOptions & { label: string }> {
  const pathParams = op.parameters.filter((p) => p.in === 'path')
  const queryParams = op.parameters.filter((p) => p.in === 'query')
  const segment = (p: Parameter) =>
    fc.oneof(
      { weight: 8, arbitrary: mixed(p.schema, known, resolve).map((v) => percentEncode(typeof v === 'string' ? v : toJson(v))) },
      { weight: 1, arbitrary: fc.constantFrom('%ZZ', '%E0%A4%A', '%00', 'a'.repeat(150), `urn:uuid:${ZERO_UUID}`, '..%2F..%2Fetc', '%C0%AE') },
    )
  const query = fc.record(
    Object.fromEntries(queryParams.map((p) => [p.name, mixed(p.schema, known, resolve, p.name)])),
    { requiredKeys: [] },
  )
  return fc
    .record({
      segments: fc.tuple(...pathParams.map(segment)),
      query,
      extra: fc.option(fc.tuple(hostileText, hostileText), { freq: 5 }),
      body: op.body ? mixed(op.body, known, resolve) : fc.constant(undefined),
    })
    .map(({ segments, query, extra, body }) => {
      let url = op.path
      pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, segments[i]!)))
      const pairs = Object.entries(query).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((item) => `${percentEncode(k)}=${percentEncode(typeof item === 'string' ? item : toJson(item))}`),
      )
      if (extra) pairs.push(`${percentEncode(extra[0])}=${percentEncode(extra[1])}`)
      const payload = body === undefined ? undefined : toJson(body)
      return {
        label: `${op.method} ${op.path}`,
        method: op.method as InjectOptions['method'],
        url: pairs.length ? `${url}?${pairs.join('&')}` : url,
        ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }),
      }
    })
}

t.test('no operation answers 5xx to hostile input, on this engine', async (t) => {
  const app = await build(t)
  const spec = app.app.swagger() as unknown as Parameters<typeof operationsOf>[0] & { components?: { schemas?: Record<string, Schema> } }
  const components = spec.components?.schemas ?? {}
  const resolve = (s: Schema): Schema => (s.$ref ? resolve(components[s.$ref.replace('#/components/schemas/', '').replace(/#$/, '')] ?? {}) : s)

  // Real rows, so that generated ids sometimes name something and requests reach the services.
  const contact = await createContact(app, { name: 'Kari Nordmann' })
  const list = await createList(app, { kind: 'marketing', categories: ['yoga'] })
  const course = await putCourse(app, 'HOSTILE-1')
  const enrollment = (await putEnrollment(app, 'HOSTILE-E1', { courseId: 'HOSTILE-1', contact: { email: contact.email } })).json()
  const suppression = (await app.as('staff')({ method: 'POST', url: '/v1/suppressions', payload: { contactId: contact.id, scope: 'global', reason: 'manual' } })).json()
  const known: Known = {
    ids: [contact.id, list.id, course.listId, suppression.id],
    texts: ['HOSTILE-1', enrollment.id, 'yoga', 'newsletter-signup', 'Kari'],
    emails: [contact.email, uniqueEmail('hostile')],
  }

  const operations = operationsOf(spec)
  t.ok(operations.length >= 30, `the spec lists every operation (${operations.length})`)
  const admin = app.as('admin')
  const seen = new Map<number, number>()
  for (const op of operations) {
    await fc.assert(
      fc.asyncProperty(requestFor(op, known, resolve), async ({ label, ...request }) => {
        const res = await admin(request)
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
        if (res.statusCode >= 500) throw new Error(`${label}: ${res.statusCode} ${res.body} for ${request.url} ${request.payload ?? ''}`.slice(0, 2000))
        if (res.statusCode >= 400) {
          if (!String(res.headers['content-type']).startsWith('application/problem+json')) throw new Error(`${label}: ${res.statusCode} is not a problem document`)
          const problem = res.json()
          if (typeof problem.code !== 'string' || problem.status !== res.statusCode) throw new Error(`${label}: problem without a code: ${res.body}`)
        }
      }),
      { numRuns: RUNS_PER_OPERATION, endOnFailure: true },
    )
  }
  t.pass(`${operations.length} operations × ${RUNS_PER_OPERATION} requests, answers ${JSON.stringify(Object.fromEntries(seen))}`)
  t.ok([...seen.keys()].some((s) => s < 300), 'some requests got through, so the services were reached')
})

t.test('errors met before any route are problem documents too', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')
  const cases: [string, number, string][] = [
    ['/v1/contacts/%ZZ', 400, 'bad_url'],
    [`/v1/contacts/${'a'.repeat(150)}`, 414, 'uri_too_long'],
    [`/v1/contacts/urn:uuid:${ZERO_UUID}`, 400, 'validation_failed'],
    ['/v1/contacts?q=a%00b', 400, 'invalid_text'],
    ['/v1/ledger?from=0000-01-01T00:00:00Z', 400, 'validation_failed'],
    ['/v1/ledger?from=2030-12-31T23:59:60Z', 400, 'validation_failed'],
    [`/v1/contacts?cursor=${cursorOf(`0000-01-01T00:00:00Z|${ZERO_UUID}`)}`, 400, 'validation_failed'],
  ]
  for (const [url, status, code] of cases) {
    const res = await staff({ method: 'GET', url })
    t.equal(res.statusCode, status, url.slice(0, 60))
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, code)
  }
  const nested = await staff({
    method: 'POST',
    url: '/v1/contacts',
    headers: { 'content-type': 'application/json' },
    payload: `{"email":"deep@example.no","attributes":${toJson(new Deep(6000))}}`,
  })
  t.equal(nested.statusCode, 400)
  t.equal(nested.json().code, 'too_deeply_nested')
  const surrogate = await staff({ method: 'POST', url: '/v1/lists', headers: { 'content-type': 'application/json' }, payload: '{"slug":"x","name":"x\\ud800","kind":"marketing"}' })
  t.equal(surrogate.json().code, 'invalid_text')
  t.equal((await staff({ method: 'GET', url: '/v1/lists?limit=200' })).json().items.length, 0, 'nothing was stored')
})

t.test('a header over the limit gets a 431 problem document from the listening server', async (t) => {
  const app = await build(t)
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.app.server.address() as { port: number }
  const { request } = await import('node:http')
  const answer = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', headers: { 'x-padding': 'x'.repeat(20_000) } }, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }))
    })
    req.on('error', reject)
    req.end()
  })
  t.equal(answer.status, 431)
  t.equal(answer.type, 'application/problem+json; charset=utf-8')
  t.match(JSON.parse(answer.body), { status: 431, code: 'headers_too_large', requestId: String })
})
