// Revoking bearer tokens: one by its jti, or all of a subject's; refused at
// once, on every instance (the check reads the database on each request).
import { createDecoder } from 'fast-jwt'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { signToken } from '../../src/tokens/sign.js'
import { tokenSettings } from '../../src/tokens/settings.js'
import { auditTrail, build, testLogger } from '../helper.js'

const decode = createDecoder()
const jtiOf = (token: string) => (decode(token) as { jti: string }).jti
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

t.test('token revocation', async (t) => {
  const app = await build(t)
  const admin = app.as('admin')
  const contacts = (token: string) => app.app.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(token) })
  const revoke = (payload: Record<string, unknown>) => admin({ method: 'POST', url: '/v1/token-revocations', payload })

  t.test('a token revoked by its jti is refused at once with 401 token_revoked; others are not', async (t) => {
    const token = app.token('staff', { sub: 'staff:ola' })
    const sibling = app.token('staff', { sub: 'staff:ola' })
    t.equal((await contacts(token)).statusCode, 200, 'works before')
    const res = await revoke({ jti: jtiOf(token), reason: 'laptop stolen' })
    t.equal(res.statusCode, 201)
    t.match(res.json(), { jti: jtiOf(token), subject: null, reason: 'laptop stolen', revokedById: 'admin:test' })
    const refused = await contacts(token)
    t.equal(refused.statusCode, 401)
    t.equal(refused.json().code, 'token_revoked')
    t.match(refused.headers['www-authenticate'], /error="invalid_token"/)
    t.equal((await contacts(sibling)).statusCode, 200, 'another token of the same person still works')

    const again = await revoke({ jti: jtiOf(token), reason: 'asked twice' })
    t.equal(again.statusCode, 200, 'revoking again answers with the first revocation')
    t.equal(again.json().id, res.json().id)
    t.equal(again.json().reason, 'laptop stolen')
  })

  t.test('revoking a subject refuses every token it was issued until then, not one issued after', async (t) => {
    const first = app.token('course-system', { sub: 'kursportal-old' })
    const second = app.token('course-system', { sub: 'kursportal-old' })
    const res = await revoke({ subject: 'kursportal-old', reason: 'the machine token leaked' })
    t.equal(res.statusCode, 201)
    t.match(res.json(), { jti: null, subject: 'kursportal-old' })
    t.ok(res.json().issuedUpTo)
    for (const token of [first, second]) {
      const refused = await app.app.inject({ method: 'GET', url: '/v1/courses/X', headers: bearer(token) })
      t.equal(refused.json().code, 'token_revoked')
    }
    // A token issued a few seconds later (a clock a little ahead, within the skew) is a new one.
    const later = signToken(tokenSettings(app.config), { role: 'course-system', sub: 'kursportal-old', lifetimeSeconds: 600 }, new Date(Date.now() + 5000))
    t.equal((await app.app.inject({ method: 'GET', url: '/v1/courses/X', headers: bearer(later.token) })).statusCode, 404)
  })

  t.test('only admins revoke; a revocation names exactly one target and a reason', async (t) => {
    const token = app.token('staff')
    const byStaff = await app.as('staff')({ method: 'POST', url: '/v1/token-revocations', payload: { jti: jtiOf(token), reason: 'mine' } })
    t.equal(byStaff.statusCode, 403)
    for (const payload of [{ jti: 'x', subject: 'y', reason: 'both' }, { reason: 'neither' }, { jti: 'x' }, { jti: '', reason: 'empty' }]) {
      const res = await revoke(payload)
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    }
    t.equal((await contacts(token)).statusCode, 200, 'nothing was revoked')
  })

  t.test('revocations are listed for admins and audited', async (t) => {
    const res = await admin({ method: 'GET', url: '/v1/token-revocations?limit=1' })
    t.equal(res.statusCode, 200)
    t.equal(res.json().items.length, 1)
    t.ok(res.json().nextCursor)
    const next = await admin({ method: 'GET', url: `/v1/token-revocations?cursor=${res.json().nextCursor}` })
    t.ok(next.json().items.length >= 1)
    const trail = await auditTrail(app, 'token_revocation', res.json().items[0].id)
    t.match(trail, [{ action: 'token.revoked', actorRole: 'admin' }])
  })

  t.test('the database refuses to forget a revocation', async (t) => {
    const { sql } = await import('drizzle-orm')
    await t.rejects(app.app.db.execute(sql`delete from token_revocations`), 'DELETE refused')
    await t.rejects(app.app.db.execute(sql`update token_revocations set reason = 'x'`), 'UPDATE refused')
  })
})

t.test('a revocation made on one instance holds on another at once', { skip: !process.env.TEST_DATABASE_URL && 'needs two instances on one PostgreSQL database' }, async (t) => {
  const one = await build(t)
  const url = await databaseUrlOf(one)
  const other = await buildApp(one.config, { database: { engine: 'postgres', url }, clock: one.clock, logger: testLogger(t, one.config).logger })
  t.teardown(() => other.close())
  const token = one.token('staff')
  const onOther = () => other.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(token) })
  t.equal((await onOther()).statusCode, 200)
  const res = await one.as('admin')({ method: 'POST', url: '/v1/token-revocations', payload: { jti: jtiOf(token), reason: 'left the company' } })
  t.equal(res.statusCode, 201)
  t.equal((await onOther()).json().code, 'token_revoked')
})

/** The URL of the PostgreSQL database a test app runs on. */
async function databaseUrlOf(app: Awaited<ReturnType<typeof build>>): Promise<string> {
  const { sql } = await import('drizzle-orm')
  const [row] = (await app.app.db.execute(sql`select current_database() as name`)) as unknown as { name: string }[]
  const url = new URL(process.env.TEST_DATABASE_URL!)
  url.pathname = `/${row!.name}`
  return url.toString()
}
