// Limits per client: per token, per address without one, and a tighter one
// on failed authentication. 429 is a problem document with Retry-After. Each
// case runs on both stores: counters in the process, and in the database
// (RATE_LIMIT_STORE=postgres; shared between instances in shared-limits.test.ts).
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { Config } from '../../src/config.js'
import { build } from '../helper.js'

function assertLimited(t: Test, res: LightMyRequestResponse) {
  t.equal(res.statusCode, 429)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, 'rate_limited')
  const retryAfter = Number(res.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After is a number of seconds within the window (${res.headers['retry-after']})`)
}

for (const rateLimitStore of ['memory', 'postgres'] satisfies Config['rateLimitStore'][]) {
  t.test(`${rateLimitStore} store: a token gets the configured number of requests a minute, then 429; another token is counted apart`, async (t) => {
    const app = await build(t, { config: { rateLimitStore, rateLimitPerMinute: 3 } })
    const kari = app.token('staff', { sub: 'staff:kari' })
    const ola = app.token('staff', { sub: 'staff:ola' })
    const get = (token: string) => app.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${token}` } })
    for (let i = 0; i < 3; i++) t.equal((await get(kari)).statusCode, 200)
    assertLimited(t, await get(kari))
    t.equal((await get(ola)).statusCode, 200, 'the other token is not held back')
  })

  t.test(`${rateLimitStore} store: requests without a token are counted per address`, async (t) => {
    const app = await build(t, { config: { rateLimitStore, anonymousRateLimitPerMinute: 2 } })
    const health = (remoteAddress: string) => app.app.inject({ method: 'GET', url: '/health', remoteAddress })
    t.equal((await health('192.0.2.1')).statusCode, 200)
    t.equal((await health('192.0.2.1')).statusCode, 200)
    assertLimited(t, await health('192.0.2.1'))
    t.equal((await health('192.0.2.2')).statusCode, 200, 'another address is not held back')
  })

  t.test(`${rateLimitStore} store: one-click unsubscribes have a limit of their own per address, apart from the anonymous one`, async (t) => {
    const app = await build(t, { config: { rateLimitStore, anonymousRateLimitPerMinute: 2, oneClickRateLimitPerMinute: 4 } })
    const google = '209.85.220.41'
    const oneClick = (i: number) =>
      app.app.inject({
        method: 'POST',
        url: `/unsubscribe/not-a-real-token-${i}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
        remoteAddress: google,
      })
    // Each answers for its own link (these are made up: 404); none is held back by the anonymous limit of 2.
    for (let i = 0; i < 4; i++) t.equal((await oneClick(i)).statusCode, 404, `one-click ${i + 1} from one address is answered`)
    assertLimited(t, await oneClick(5))
    t.equal((await app.app.inject({ method: 'GET', url: '/health', remoteAddress: google })).statusCode, 200, 'the anonymous limit is counted apart')
  })

  t.test(`${rateLimitStore} store: after too many failed authentications an address is refused, even with a good token, until the minute is over`, async (t) => {
    const app = await build(t, { config: { rateLimitStore, authFailureLimitPerMinute: 3 } })
    const attempt = (token: string, remoteAddress = '203.0.113.9') =>
      app.app.inject({ method: 'GET', url: '/v1/contacts', headers: { authorization: `Bearer ${token}` }, remoteAddress })
    const forged = app.token('admin', { secret: 'a-guessed-secret-a-guessed-secret-a-guessed' })
    for (let i = 0; i < 3; i++) t.equal((await attempt(forged)).statusCode, 401, `failure ${i + 1} is a 401`)
    assertLimited(t, await attempt(forged))
    assertLimited(t, await attempt(app.token('staff')))
    t.equal((await attempt(app.token('staff'), '203.0.113.10')).statusCode, 200, 'another address is let in')
    t.equal((await attempt(forged, '203.0.113.10')).statusCode, 401, 'and counted on its own')
  })

  t.test(`${rateLimitStore} store: the forwarded address is believed only from a proxy the configuration trusts`, async (t) => {
    const behindProxy = await build(t, { config: { rateLimitStore, authFailureLimitPerMinute: 1, trustProxy: ['127.0.0.1'] } })
    const viaProxy = (app: typeof behindProxy, client: string, token: string) =>
      app.app.inject({
        method: 'GET',
        url: '/v1/contacts',
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client },
        remoteAddress: '127.0.0.1',
      })
    const forged = behindProxy.token('staff', { secret: 'another-secret-another-secret-another-secret' })
    t.equal((await viaProxy(behindProxy, '198.51.100.1', forged)).statusCode, 401)
    assertLimited(t, await viaProxy(behindProxy, '198.51.100.1', forged))
    t.equal((await viaProxy(behindProxy, '198.51.100.2', behindProxy.token('staff'))).statusCode, 200, 'each client behind the proxy is counted apart')

    const direct = await build(t, { config: { rateLimitStore, authFailureLimitPerMinute: 1 } })
    t.equal((await viaProxy(direct, '198.51.100.1', forged)).statusCode, 401)
    assertLimited(t, await viaProxy(direct, '198.51.100.2', forged))
    t.pass('without a trusted proxy a forged X-Forwarded-For changes nothing')
  })
}
