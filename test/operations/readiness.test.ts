// GET /ready: 200 with every check when the database answers, has every
// migration this version ships, and the delivery workers and job engine this
// process runs are alive; 503 (a problem document naming the failed check and
// why) when a migration is missing, the delivery loop or the job engine has
// stopped, or the app is closing. GET /health stays the liveness check.
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { build } from '../helper.js'

const journal = JSON.parse(readFileSync(new URL('../../db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: { tag: string; when: number }[] }
const latest = journal.entries.at(-1)!

const ready = (app: Awaited<ReturnType<typeof build>>) => app.as(null)({ method: 'GET', url: '/ready' })
const checkNamed = (body: { checks: { name: string; ok: boolean; detail: string }[] }, name: string) => body.checks.find((c) => c.name === name)

t.test('ready when the database, its migrations, the delivery loop and the job engine are all well', async (t) => {
  const app = await build(t, { config: { runWorkers: true, runJobs: true } })
  const res = await ready(app)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'ready')
  t.same(body.checks.map((c: { name: string }) => c.name), ['database', 'migrations', 'delivery', 'jobs'])
  t.ok(body.checks.every((c: { ok: boolean }) => c.ok), 'every check passed')
  t.equal((await app.as(null)({ method: 'GET', url: '/health' })).statusCode, 200, '/health answers as before')
})

t.test('an API-only instance checks only what it runs', async (t) => {
  const app = await build(t, { config: { runWorkers: false, runJobs: false } })
  const res = await ready(app)
  t.equal(res.statusCode, 200)
  t.same(res.json().checks.map((c: { name: string }) => c.name), ['database', 'migrations'])
})

t.test('a migration the database lacks makes it not ready, naming the migration', async (t) => {
  const app = await build(t)
  t.equal((await ready(app)).statusCode, 200)
  await app.app.db.execute(sql`delete from drizzle.__drizzle_migrations where created_at = ${latest.when}`)
  const res = await ready(app)
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.equal(body.code, 'not_ready')
  t.match(checkNamed(body, 'migrations'), { ok: false, detail: `not applied: ${latest.tag}` })
  t.match(checkNamed(body, 'database'), { ok: true }, 'the database itself answers')
  t.match(body.detail, `migrations: not applied: ${latest.tag}`)
  t.equal((await app.as(null)({ method: 'GET', url: '/health' })).statusCode, 200, 'still alive: /health is not /ready')
})

t.test('a stopped delivery loop makes it not ready', async (t) => {
  const app = await build(t, { config: { runWorkers: true } })
  t.equal((await ready(app)).statusCode, 200)
  await app.app.deliveryLoop!.stop()
  const res = await ready(app)
  t.equal(res.statusCode, 503)
  t.match(checkNamed(res.json(), 'delivery'), { ok: false, detail: 'the delivery workers have stopped' })
  t.match(checkNamed(res.json(), 'database'), { ok: true })
})

t.test('a stopped job engine makes it not ready', async (t) => {
  const app = await build(t, { config: { runJobs: true } })
  t.equal((await ready(app)).statusCode, 200)
  await app.app.boss!.stop({ graceful: false, wait: true })
  const res = await ready(app)
  t.equal(res.statusCode, 503)
  t.match(checkNamed(res.json(), 'jobs'), { ok: false, detail: /not running/ })
})

/** One raw HTTP/1.1 exchange on `socket`: resolves with everything the server sent until it closed the connection. */
function readUntilClosed(socket: ReturnType<typeof connect>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    socket.on('data', (chunk) => (text += chunk.toString('utf8')))
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
}

t.test('while the app closes, a request that still reaches it is answered 503 shutting_down', async (t) => {
  const app = await build(t)
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.app.server.address() as AddressInfo
  // A request in flight holds the connection open through the close: a form post whose body is still coming.
  const socket = connect(port, '127.0.0.1')
  await new Promise((done) => socket.once('connect', done))
  const answer = readUntilClosed(socket)
  const body = 'List-Unsubscribe=One-Click'
  socket.write(`POST /unsubscribe/not-a-token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 4)}`)
  await new Promise((done) => setTimeout(done, 100))
  const closed = app.app.close()
  await new Promise((done) => setTimeout(done, 100))
  // The rest of the body, and behind it on the same connection a readiness probe.
  socket.write(`${body.slice(4)}GET /ready HTTP/1.1\r\nHost: x\r\n\r\n`)
  const text = await answer
  await closed
  const responses = text.split(/(?=HTTP\/1\.1 \d{3})/)
  t.equal(responses.length, 2, 'both requests were answered')
  t.match(responses[1], /^HTTP\/1\.1 503/)
  t.match(responses[1], /content-type: application\/problem\+json/i)
  t.match(responses[1], /"code":"shutting_down"/)
  t.match(responses[1], /connection: close/i)
  // New connections are no longer taken at all.
  const refused = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/ready' }, () => resolve('answered'))
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    req.end()
  })
  t.equal(refused, 'ECONNREFUSED')
})
