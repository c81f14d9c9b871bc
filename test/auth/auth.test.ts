import { createSigner } from 'fast-jwt'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import authPlugin, { Roles } from '../../src/plugins/auth.js'
import { createContact, uniqueEmail } from '../factories.js'
import { build, JWT_SECRET, type TestApp } from '../helper.js'

const listContacts = (app: TestApp, authorization?: string) =>
  app.app.inject({ method: 'GET', url: '/v1/contacts', headers: authorization ? { authorization } : {} })

function assertUnauthorized(t: Test, res: Awaited<ReturnType<typeof listContacts>>, code: string) {
  t.equal(res.statusCode, 401)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, code)
}

t.test('a request without a token is refused with 401 unauthorized', async (t) => {
  const app = await build(t)
  assertUnauthorized(t, await listContacts(app), 'unauthorized')
})

t.test('an Authorization header that is not "Bearer <token>" is refused with 401', async (t) => {
  const app = await build(t)
  for (const header of ['Basic a2FyaTpzZWNyZXQ=', 'Bearer', 'Bearer not.a.jwt', app.token('staff')]) {
    t.test(`header ${JSON.stringify(header.slice(0, 20))}`, async (t) => {
      assertUnauthorized(t, await listContacts(app, header), 'token_invalid')
    })
  }
})

t.test('a token signed with another secret is refused with 401 token_invalid', async (t) => {
  const app = await build(t)
  const forged = app.token('admin', { secret: 'another-secret-another-secret-another-secret' })
  assertUnauthorized(t, await listContacts(app, `Bearer ${forged}`), 'token_invalid')
})

t.test('an expired token is refused with 401 token_expired', async (t) => {
  const app = await build(t)
  // Issued two hours ago, valid for one: expired an hour ago by the server's real clock.
  const sign = createSigner({ key: JWT_SECRET, expiresIn: 60 * 60 * 1000, clockTimestamp: Date.now() - 2 * 60 * 60 * 1000 })
  const expired = sign({ sub: 'staff:kari', name: 'Kari Nordmann', role: 'staff' })
  assertUnauthorized(t, await listContacts(app, `Bearer ${expired}`), 'token_expired')
})

t.test('a correctly signed token without a subject and a known role is refused with 401 token_invalid', async (t) => {
  const app = await build(t)
  const sign = createSigner({ key: JWT_SECRET })
  const payloads = {
    'an unknown role': { sub: 'x:1', name: 'X', role: 'superuser' },
    'no role': { sub: 'x:1', name: 'X' },
    'no subject': { name: 'X', role: 'staff' },
  }
  for (const [what, payload] of Object.entries(payloads)) {
    t.test(what, async (t) => assertUnauthorized(t, await listContacts(app, `Bearer ${sign(payload)}`), 'token_invalid'))
  }
})

t.test('a valid token whose role the route does not admit is refused with 403 forbidden', async (t) => {
  const app = await build(t)
  const res = await app.as('course-system')({ method: 'GET', url: '/v1/contacts' })
  t.equal(res.statusCode, 403)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, 'forbidden')
})

t.test('staff and admin tokens are both admitted to a staff route', async (t) => {
  const app = await build(t)
  for (const role of ['staff', 'admin'] as const) {
    const res = await app.as(role)({ method: 'GET', url: '/v1/contacts' })
    t.equal(res.statusCode, 200, role)
  }
})

t.test('the audit log records the token’s subject, name and role as the actor', async (t) => {
  const app = await build(t)
  const token = app.token('admin', { sub: 'admin:kari-nordmann', name: 'Kari Nordmann' })
  const res = await app.app.inject({
    method: 'POST',
    url: '/v1/contacts',
    headers: { authorization: `Bearer ${token}` },
    payload: { email: uniqueEmail('audited') },
  })
  t.equal(res.statusCode, 201)
  const [entry] = await app.app.services.audit.listEntityAudit('contact', res.json().id)
  t.match(entry, { action: 'contact.created', actorId: 'admin:kari-nordmann', actorName: 'Kari Nordmann', actorRole: 'admin' })
})

t.test('a token without a name is admitted and audited by its subject alone', async (t) => {
  const app = await build(t)
  const sign = createSigner({ key: JWT_SECRET })
  const res = await app.app.inject({
    method: 'POST',
    url: '/v1/contacts',
    headers: { authorization: `Bearer ${sign({ sub: 'staff:nameless', role: 'staff' })}` },
    payload: { email: uniqueEmail('nameless') },
  })
  t.equal(res.statusCode, 201)
  const [entry] = await app.app.services.audit.listEntityAudit('contact', res.json().id)
  t.match(entry, { actorId: 'staff:nameless', actorName: null, actorRole: 'staff' })
  t.ok(await createContact(app), 'the default staff token still works alongside')
})

t.test('an app with a route that states neither roles nor public does not start', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(authPlugin, { secret: JWT_SECRET })
  const starting = (async () => {
    await app.register(async (scope) => {
      scope.get('/stated', { config: { roles: Roles.staff } }, async () => ({ ok: true }))
      scope.get('/open-by-accident', async () => ({ ok: true }))
    })
    await app.ready()
  })()
  await t.rejects(starting, /Route GET \/open-by-accident states no roles and is not public/)
})

t.test('an app whose routes all state roles or public starts', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(authPlugin, { secret: JWT_SECRET })
  await app.register(async (scope) => {
    scope.get('/stated', { config: { roles: Roles.admin } }, async () => ({ ok: true }))
    scope.get('/page', { config: { public: true } }, async () => ({ ok: true }))
  })
  await t.resolves(async () => { await app.ready() })
  t.equal((await app.inject({ method: 'GET', url: '/page' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/stated' })).statusCode, 401, 'no error plugin here, but still refused')
})
