import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { uniqueEmail } from '../factories.js'
import { build } from '../helper.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Every error answer is an RFC 9457 problem document with our stable members. */
function assertProblem(t: Test, res: LightMyRequestResponse, status: number, code: string, instance: string) {
  t.equal(res.statusCode, status, 'status')
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', 'content type')
  const problem = res.json()
  t.match(problem, { type: String, title: String, status, code, instance, requestId: UUID }, 'members')
  return problem
}

t.test('problems', async (t) => {
  const app = await build(t)

  t.test('malformed JSON is a 400 malformed_json problem', async (t) => {
    const res = await app.as('staff')({
      method: 'POST',
      url: '/v1/contacts',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "kari@example.no",',
    })
    assertProblem(t, res, 400, 'malformed_json', '/v1/contacts')
  })

  t.test('an empty JSON body is a 400 malformed_json problem', async (t) => {
    const res = await app.as('staff')({
      method: 'POST',
      url: '/v1/contacts',
      headers: { 'content-type': 'application/json' },
      payload: '',
    })
    assertProblem(t, res, 400, 'malformed_json', '/v1/contacts')
  })

  t.test('a field of the wrong type is a 400 validation_failed problem naming the field', async (t) => {
    const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: uniqueEmail(), name: 42 } })
    const problem = assertProblem(t, res, 400, 'validation_failed', '/v1/contacts')
    t.same(problem.errors.map((e: { field: string }) => e.field), ['body.name'])
    t.match(problem.detail, /body\.name/)
  })

  t.test('a missing required field is a 400 validation_failed problem naming the field', async (t) => {
    const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { name: 'Kari Nordmann' } })
    const problem = assertProblem(t, res, 400, 'validation_failed', '/v1/contacts')
    t.same(problem.errors, [{ field: 'body.email', message: 'is required' }])
  })

  t.test('an unknown field is refused, not dropped: 400 naming body.<field>', async (t) => {
    const email = uniqueEmail()
    const res = await app.as('staff')({
      method: 'POST',
      url: '/v1/contacts',
      payload: { email, favouriteColour: 'blue' },
    })
    const problem = assertProblem(t, res, 400, 'validation_failed', '/v1/contacts')
    t.same(problem.errors, [{ field: 'body.favouriteColour', message: 'is not an allowed field' }])
    const list = await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}` })
    t.same(list.json().items, [], 'nothing was created')
  })

  t.test('a bad path parameter is a 400 validation_failed problem naming params.<name>', async (t) => {
    const res = await app.as('staff')({ method: 'GET', url: '/v1/contacts/not-a-uuid' })
    const problem = assertProblem(t, res, 400, 'validation_failed', '/v1/contacts/not-a-uuid')
    t.same(problem.errors.map((e: { field: string }) => e.field), ['params.id'])
  })

  t.test('a body over the configured limit is a 413 payload_too_large problem', async (t) => {
    // Its own app: the only one with a small body limit.
    const app = await build(t, { config: { bodyLimitBytes: 2048 } })
    const res = await app.as('staff')({
      method: 'POST',
      url: '/v1/contacts',
      payload: { email: uniqueEmail(), address: 'x'.repeat(3000) },
    })
    assertProblem(t, res, 413, 'payload_too_large', '/v1/contacts')
  })

  t.test('a body of an unsupported media type is a 415 unsupported_media_type problem', async (t) => {
    for (const [type, payload] of [
      ['application/xml', '<contact><email>kari@example.no</email></contact>'],
      ['text/plain', 'kari@example.no'],
    ]) {
      const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', headers: { 'content-type': type! }, payload })
      assertProblem(t, res, 415, 'unsupported_media_type', '/v1/contacts')
    }
  })

  t.test('an unknown route is a 404 route_not_found problem, with or without a token', async (t) => {
    for (const role of [null, 'staff'] as const) {
      const res = await app.as(role)({ method: 'GET', url: '/v1/no-such-thing?x=1' })
      const problem = assertProblem(t, res, 404, 'route_not_found', '/v1/no-such-thing')
      t.notMatch(problem.detail, /x=1/, 'the query string is not echoed')
    }
  })

  t.test('every request gets its own request id in its problem', async (t) => {
    const [a, b] = await Promise.all([1, 2].map(() => app.as(null)({ method: 'GET', url: '/v1/contacts' })))
    t.not(a!.json().requestId, b!.json().requestId)
  })

  t.test('a 500 says only that something went wrong: no stack, SQL or driver message', async (t) => {
    // Its own app: the trigger it installs fails every insert into contacts.
    const app = await build(t)
    // Make the database itself fail every insert into contacts with a recognisable message.
    const secret = 'database-internals-must-stay-private'
    await app.app.db.execute(
      sql.raw(`CREATE FUNCTION fail_contact_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '${secret}'; END $$`),
    )
    await app.app.db.execute(
      sql.raw('CREATE TRIGGER fail_contact_insert BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION fail_contact_insert()'),
    )
    const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: uniqueEmail('boom') } })
    const problem = assertProblem(t, res, 500, 'internal_error', '/v1/contacts')
    t.same(Object.keys(problem).sort(), ['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type'])
    for (const leak of [secret, /insert into/i, /"contacts"/, /\bat .*\.(ts|js):\d+/, /stack/i, /drizzle|postgres|pglite/i]) {
      t.notMatch(res.body, leak, `the body does not contain ${leak}`)
    }
  })
})
