// The one HTTP attempt processor notices and webhooks share: a 2xx is taken,
// anything else is not, and what it says about a failure names no host, port
// or body — only a status, a timeout, a refused redirect or a network code.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { exponentialBackoff, postOnce } from '../../src/lib/outbound-post.js'
import { freePort } from '../support/free-port.js'

t.test('postOnce classifies what the receiver did', async (t) => {
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      if (request.url === '/slow') return setTimeout(() => response.end(), 2000).unref()
      if (request.url === '/moved') {
        response.writeHead(302, { location: '/elsewhere' })
        return response.end()
      }
      response.statusCode = Number(request.url!.slice(1))
      response.end('body the receiver wrote, never kept')
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const post = (path: string, timeoutMs?: number) => postOnce(`${base}${path}`, '{}', { 'x-test': '1' }, { timeoutMs })

  t.match(await post('/204'), { ok: true, statusCode: 204, error: null })
  t.match(await post('/410'), { ok: false, statusCode: 410, error: 'HTTP 410' })
  t.match(await post('/503'), { ok: false, statusCode: 503, error: 'HTTP 503' })
  t.match(await post('/moved'), { ok: false, statusCode: null, error: 'redirect refused' }, 'a redirect is never followed')
  t.match(await post('/slow', 100), { ok: false, statusCode: null, error: 'timed out' })
  const closed = await freePort()
  t.match(await postOnce(`http://127.0.0.1:${closed}/`, '{}', {}), { ok: false, statusCode: null, error: 'connection failed: ECONNREFUSED' })
  const outcome = await post('/204')
  t.ok(Number.isInteger(outcome.durationMs) && outcome.durationMs >= 0, 'the duration is whole milliseconds')
})

t.test('the backoff doubles from its first wait up to its cap', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7, 8].map((n) => exponentialBackoff(n, 60_000, 3_600_000)), [60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000])
  t.equal(exponentialBackoff(0, 60_000, 3_600_000), 60_000, 'before any failure: the first wait')
})
