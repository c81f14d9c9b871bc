// Bearer tokens: who is let in, and with which answer when not. One app for
// the file; every case signs its own tokens.
import { createSigner } from 'fast-jwt'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import authPlugin, { Roles } from '../../src/plugins/auth.js'
import limitsPlugin from '../../src/plugins/limits.js'
import { signToken } from '../../src/tokens/sign.js'
import { tokenSettings } from '../../src/tokens/settings.js'
import { createContact, uniqueEmail } from '../factories.js'
import { auditTrail, build, JWT_SECRET, signTestToken, testConfig, type TestApp } from '../helper.js'

const HOUR = 60 * 60
const nowSeconds = () => Math.floor(Date.now() / 1000)
const config = testConfig()

/** Signs any claims at all with the test secret: the way to make tokens the service must refuse. */
function rawToken(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const { iat, ...rest } = claims
  // The signer writes iat itself: from its clock, or none at all.
  const signer = iat === undefined ? createSigner({ key: secret, noTimestamp: true }) : createSigner({ key: secret, clockTimestamp: Number(iat) * 1000 })
  return signer(rest)
}

/** Claims of a well-formed staff token, to be spoiled one at a time. */
function goodClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowSeconds()
  return { sub: 'staff:kari', name: 'Kari', role: 'staff', jti: crypto.randomUUID(), iss: config.tokenIssuer, aud: config.tokenAudience, iat, exp: iat + HOUR, ...overrides }
}

const listContacts = (app: TestApp, authorization?: string) =>
  app.app.inject({ method: 'GET', url: '/v1/contacts', headers: authorization ? { authorization } : {} })

function assertUnauthorized(t: Test, res: LightMyRequestResponse, code: string) {
  t.equal(res.statusCode, 401, `401 ${code}`)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, code)
  if (code === 'unauthorized') t.equal(res.headers['www-authenticate'], 'Bearer realm="samtykke"', 'the challenge names the scheme only')
  else t.match(res.headers['www-authenticate'], /^Bearer realm="samtykke", error="invalid_token", error_description="[^"]+"$/, 'RFC 6750 invalid_token')
}

t.test('tokens', async (t) => {
  const app = await build(t)

  t.test('a request without a token is refused with 401 unauthorized and a Bearer challenge', async (t) => {
    assertUnauthorized(t, await listContacts(app), 'unauthorized')
  })

  t.test('an Authorization header that is not "Bearer <token>" is refused with 401 token_invalid', async (t) => {
    for (const header of ['Basic a2FyaTpzZWNyZXQ=', 'Bearer', 'Bearer not.a.jwt!', `bearer  ${app.token('staff')}`, app.token('staff')]) {
      assertUnauthorized(t, await listContacts(app, header), 'token_invalid')
    }
  })

  t.test('a token signed with another secret is refused with 401 token_invalid', async (t) => {
    const forged = app.token('admin', { secret: 'another-secret-another-secret-another-secret' })
    assertUnauthorized(t, await listContacts(app, `Bearer ${forged}`), 'token_invalid')
  })

  t.test('an expired token is refused with 401 token_expired', async (t) => {
    const iat = nowSeconds() - 2 * HOUR
    assertUnauthorized(t, await listContacts(app, `Bearer ${rawToken(goodClaims({ iat, exp: iat + HOUR }))}`), 'token_expired')
  })

  t.test('a token that lacks a claim every token carries is refused with 401 token_invalid', async (t) => {
    for (const claim of ['exp', 'iat', 'jti', 'iss', 'aud', 'sub', 'role']) {
      const { [claim]: _left, ...rest } = goodClaims()
      const res = await listContacts(app, `Bearer ${rawToken(rest)}`)
      assertUnauthorized(t, res, 'token_invalid')
    }
  })

  t.test('a token for another issuer or another audience is refused with 401 token_invalid', async (t) => {
    assertUnauthorized(t, await listContacts(app, `Bearer ${rawToken(goodClaims({ iss: 'someone-else' }))}`), 'token_invalid')
    assertUnauthorized(t, await listContacts(app, `Bearer ${rawToken(goodClaims({ aud: 'another-api' }))}`), 'token_invalid')
  })

  t.test('a token issued in the future beyond a small skew is refused; within it, accepted', async (t) => {
    const tenYears = nowSeconds() + 10 * 365 * 24 * HOUR
    assertUnauthorized(t, await listContacts(app, `Bearer ${rawToken(goodClaims({ iat: tenYears, exp: tenYears + HOUR }))}`), 'token_invalid')
    const inTwoMinutes = nowSeconds() + 120
    assertUnauthorized(t, await listContacts(app, `Bearer ${rawToken(goodClaims({ iat: inTwoMinutes, exp: inTwoMinutes + HOUR }))}`), 'token_invalid')
    const inTwentySeconds = nowSeconds() + 20
    const res = await listContacts(app, `Bearer ${rawToken(goodClaims({ iat: inTwentySeconds, exp: inTwentySeconds + HOUR }))}`)
    t.equal(res.statusCode, 200, 'a clock 20 s ahead is forgiven')
  })

  t.test('a token not valid before a time still to come is refused', async (t) => {
    const res = await listContacts(app, `Bearer ${rawToken(goodClaims({ nbf: nowSeconds() + HOUR }))}`)
    assertUnauthorized(t, res, 'token_invalid')
  })

  t.test('a token living longer than its role may is refused; course-system machine tokens may live long', async (t) => {
    const iat = nowSeconds()
    const staffTwoDays = rawToken(goodClaims({ exp: iat + 48 * HOUR }))
    assertUnauthorized(t, await listContacts(app, `Bearer ${staffTwoDays}`), 'token_invalid')
    const machine = (days: number) => rawToken(goodClaims({ sub: 'kursportal', role: 'course-system', exp: iat + days * 24 * HOUR }))
    const course = (token: string) =>
      app.app.inject({ method: 'GET', url: '/v1/courses/NONE', headers: { authorization: `Bearer ${token}` } })
    t.equal((await course(machine(300))).statusCode, 404, 'a 300-day course-system token is let in')
    assertUnauthorized(t, await course(machine(400)), 'token_invalid')
  })

  t.test('a correctly signed token without a subject and a known role is refused with 401 token_invalid', async (t) => {
    for (const spoiled of [{ role: 'superuser' }, { sub: '' }, { sub: 42 }, { jti: 7 }]) {
      assertUnauthorized(t, await listContacts(app, `Bearer ${rawToken(goodClaims(spoiled))}`), 'token_invalid')
    }
  })

  t.test('a valid token whose role the route does not admit is refused with 403 forbidden', async (t) => {
    const res = await app.as('course-system')({ method: 'GET', url: '/v1/contacts' })
    t.equal(res.statusCode, 403)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'forbidden')
    t.equal(res.headers['www-authenticate'], 'Bearer realm="samtykke", error="insufficient_scope"')
  })

  t.test('staff and admin tokens are both admitted to a staff route', async (t) => {
    for (const role of ['staff', 'admin'] as const) {
      t.equal((await app.as(role)({ method: 'GET', url: '/v1/contacts' })).statusCode, 200, role)
    }
  })

  t.test('the audit log records the token’s subject, name and role as the actor', async (t) => {
    const token = app.token('admin', { sub: 'admin:kari-nordmann', name: 'Kari Nordmann' })
    const res = await app.app.inject({
      method: 'POST',
      url: '/v1/contacts',
      headers: { authorization: `Bearer ${token}` },
      payload: { email: uniqueEmail('audited') },
    })
    t.equal(res.statusCode, 201)
    const [entry] = await auditTrail(app, 'contact', res.json().id)
    t.match(entry, { action: 'contact.created', actorId: 'admin:kari-nordmann', actorName: 'Kari Nordmann', actorRole: 'admin' })
  })

  t.test('a token without a name is admitted and audited by its subject alone', async (t) => {
    const res = await app.app.inject({
      method: 'POST',
      url: '/v1/contacts',
      headers: { authorization: `Bearer ${signTestToken('staff', { sub: 'staff:nameless', name: null })}` },
      payload: { email: uniqueEmail('nameless') },
    })
    t.equal(res.statusCode, 201)
    const [entry] = await auditTrail(app, 'contact', res.json().id)
    t.match(entry, { actorId: 'staff:nameless', actorName: null, actorRole: 'staff' })
    t.ok(await createContact(app), 'the default staff token still works alongside')
  })

  t.test('signing refuses a lifetime beyond the role’s longest, as verifying would', async (t) => {
    const settings = tokenSettings(config)
    t.throws(() => signToken(settings, { role: 'staff', sub: 's', lifetimeSeconds: 25 * HOUR }), RangeError)
    t.throws(() => signToken(settings, { role: 'course-system', sub: 'c', lifetimeSeconds: 0 }), RangeError)
    t.ok(signToken(settings, { role: 'course-system', sub: 'c', lifetimeSeconds: 365 * 24 * HOUR }).jti)
  })
})

t.test('an app with a route that states neither roles nor public does not start', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(limitsPlugin, { perTokenPerMinute: 10, anonymousPerMinute: 10, authFailuresPerMinute: 10 })
  await app.register(authPlugin, { secret: JWT_SECRET, issuer: 'i', audience: 'a', checkClaims: async () => {} })
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
  await app.register(limitsPlugin, { perTokenPerMinute: 10, anonymousPerMinute: 10, authFailuresPerMinute: 10 })
  await app.register(authPlugin, { secret: JWT_SECRET, issuer: 'i', audience: 'a', checkClaims: async () => {} })
  await app.register(async (scope) => {
    scope.get('/stated', { config: { roles: Roles.admin } }, async () => ({ ok: true }))
    scope.get('/page', { config: { public: true } }, async () => ({ ok: true }))
  })
  await t.resolves(async () => { await app.ready() })
  t.equal((await app.inject({ method: 'GET', url: '/page' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/stated' })).statusCode, 401, 'no error plugin here, but still refused')
})
