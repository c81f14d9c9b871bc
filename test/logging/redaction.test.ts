// The log of requests known to carry personal data — a subscriber link with
// its token in the path, a signup with a name and an address, a search by
// address, a failing insert whose SQL error names the address, bad bearer
// tokens — carries none of it, and still says what happened: method, route,
// status and request id. And the scanner that checks every test app's log
// (test/support/log-scanner.ts) finds each kind of leak it is there for.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { signLink } from '../../src/lib/link-tokens.js'
import { errorForLog, pathForLog } from '../../src/lib/log-redaction.js'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build, signTestToken, testConfig, type TestApp } from '../helper.js'
import { leaksIn, registerPersonalData } from '../support/log-scanner.js'

interface Line {
  level: number
  reqId?: string
  msg: string
  req?: { id: string; method: string; url: string }
  res?: { statusCode: number }
  responseTime?: number
  err?: { type: string; message: string; stack: string; cause?: string }
  code?: string
}

const linesOf = (app: TestApp): Line[] => app.logs.lines.map((line) => JSON.parse(line))

/** The lines of the one request that came in with this method and logged path. */
function requestLines(app: TestApp, method: string, url: string | RegExp): Line[] {
  const lines = linesOf(app)
  const incoming = lines.filter((l) => l.msg === 'incoming request' && l.req?.method === method && (typeof url === 'string' ? l.req.url === url : url.test(l.req!.url)))
  if (incoming.length === 0) return []
  return lines.filter((l) => l.reqId === incoming.at(-1)!.reqId)
}

const NAME = 'Ingrid Loggfri Hansen'
const EMAIL = `ingrid.loggfri.${process.pid}@example.no`
const PHONE = '+47 913 57 246'
const POSTAL = 'Loggveien 7, 0150 Oslo'

t.test('requests that carry personal data are logged without it, with method, route, status and request id', async (t) => {
  const app = await build(t, { keepLogLines: true })
  const secrets: string[] = [NAME, EMAIL, PHONE, POSTAL]
  const news = await createList(app, { kind: 'newsletter', public: true, slug: `logg-${process.pid}` })
  const contact = await createContact(app, { email: EMAIL, name: NAME, phone: PHONE, address: POSTAL })
  t.equal((await subscribe(app, news.id, { contactId: contact.id, consent: consentPayload() })).statusCode, 201)

  t.test('subscriber links: the token in the path is replaced', async (t) => {
    const token = signLink(app.config.linkSigningKeys, 'unsubscribe', { contactId: contact.id, listId: news.id })
    secrets.push(token)
    const page = await app.as(null)({ method: 'GET', url: `/u/${token}` })
    t.equal(page.statusCode, 200)
    const formToken = /name="formToken" value="([^"]+)"/.exec(page.body)?.[1]
    t.ok(formToken, 'the page has a form token')
    secrets.push(formToken!)
    const oneClick = await app.as(null)({ method: 'POST', url: `/unsubscribe/${token}?source=mail`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
    t.ok(oneClick.statusCode < 300, `one-click answers ${oneClick.statusCode}`)
    const got = requestLines(app, 'GET', '/u/[redacted]')
    t.match(got, [{ msg: 'incoming request', req: { method: 'GET', url: '/u/[redacted]', id: String } }, { msg: 'request completed', res: { statusCode: 200 }, responseTime: Number }])
    t.match(requestLines(app, 'POST', '/unsubscribe/[redacted]?source=…').at(-1), { msg: 'request completed', res: { statusCode: oneClick.statusCode } })
  })

  t.test('a signup with a name and an address', async (t) => {
    t.equal((await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: { key: 'logg', version: 1, text: 'Ja, send meg nyhetsbrev.' } })).statusCode, 201)
    const email = `signup.loggfri.${process.pid}@example.no`
    secrets.push(email, 'Signe Loggfri')
    const res = await app.as(null)({ method: 'POST', url: '/subscribe', payload: { email, name: 'Signe Loggfri', lists: news.slug, noticeKey: 'logg', noticeVersion: 1 } })
    t.equal(res.statusCode, 202, res.body)
    t.match(requestLines(app, 'POST', '/subscribe'), [{ req: { method: 'POST', url: '/subscribe' } }, { res: { statusCode: 202 } }])
  })

  t.test('a search by address keeps the parameter’s name, not its value, and a made-up name not at all', async (t) => {
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(EMAIL)}&limit=5` })).statusCode, 200)
    t.match(requestLines(app, 'GET', '/v1/contacts?email=…&limit=…').at(-1), { res: { statusCode: 200 } })
    // A name a client made up is free text: it may be an address too.
    await app.as('staff')({ method: 'GET', url: `/v1/contacts?${encodeURIComponent(EMAIL)}=1&limit=5` })
    t.match(requestLines(app, 'GET', '/v1/contacts?[redacted]=…&limit=…').at(-1), { res: { statusCode: Number } })
  })

  t.test('a failing insert: the error keeps its type, message and cause, not the parameters or the address in them', async (t) => {
    // A trigger that refuses the row and names its address, as a constraint's message can.
    await app.app.db.execute(sql`create function refuse_contact() returns trigger language plpgsql as $$ begin raise exception 'refused %', new.email; end $$`)
    await app.app.db.execute(sql`create trigger refuse_contact before insert on contacts for each row execute function refuse_contact()`)
    t.teardown(() => app.app.db.execute(sql`drop trigger refuse_contact on contacts`))
    const email = `refused.loggfri.${process.pid}@example.no`
    secrets.push(email, 'Rolf Loggfri')
    const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email, name: 'Rolf Loggfri' } })
    t.equal(res.statusCode, 500)
    const lines = requestLines(app, 'POST', '/v1/contacts')
    const failed = lines.find((l) => l.msg === 'request failed')!
    t.match(failed, { level: 50, reqId: res.json().requestId, err: { type: String, message: /Failed query: insert into "contacts"/, cause: 'refused [redacted]' } })
    t.notMatch(failed.err!.message, /params/, 'drizzle’s parameter list is cut off')
    t.match(lines.at(-1), { msg: 'request completed', res: { statusCode: 500 } })
  })

  t.test('bad bearer tokens: refused and logged without the token', async (t) => {
    const forged = signTestToken('admin', { secret: 'another-secret-another-secret-another-secret', name: 'Mallory Loggfri' })
    secrets.push(forged, 'Mallory Loggfri')
    for (const authorization of [`Bearer ${forged}`, 'Bearer not.a.jwt', `Bearer ${forged}x`]) {
      const res = await app.as(null)({ method: 'GET', url: '/v1/contacts', headers: { authorization } })
      t.equal(res.statusCode, 401)
    }
    const refused = linesOf(app).filter((l) => l.msg === 'request refused' && l.code?.startsWith('token'))
    t.equal(refused.length, 3)
    t.match(refused[0], { status: 401, code: 'token_invalid', reqId: String })
  })

  t.test('no line carries any of it', async (t) => {
    t.ok(app.logs.lines.length > 20, `${app.logs.lines.length} lines were written`)
    const log = app.logs.lines.join('')
    for (const secret of secrets) t.notOk(log.includes(secret), `not in the log: ${secret.slice(0, 12)}…`)
    t.same(app.logs.leaks, [], 'the scanner found nothing either')
  })
})

t.test('the scanner finds each kind of personal data, and lets the service’s own addresses through', async (t) => {
  const config = testConfig()
  const own = new Set([config.mailFrom, config.controllerEmail].map((a) => /[^<\s]+@[^>\s]+/.exec(a)![0].toLowerCase()))
  const line = (text: string) => JSON.stringify({ level: 30, msg: text })
  registerPersonalData('Torill Registrert')
  const link = signLink(config.linkSigningKeys, 'unsubscribe', { contactId: '6c3f4f40-8a5e-4a53-9a35-5a1c3f1d2b10', listId: '0d6b7d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e' })
  for (const [what, text] of [
    ['an address', 'mail to kari@example.no failed'],
    ['an address', 'GET /v1/contacts?email=kari%40example.no'],
    ['a JWT', signTestToken('staff')],
    ['a subscriber link token', `/u/${link}`],
    ['a form token', 'test.m5x3k2a.AbCdEfGhIjKlMnOpQrStUv'],
    ['a mail-address token', `bounces+${'a1'.repeat(24)}`],
    ['a phone number', 'ring +47 912 34 567'],
    ['personal data given by the test', 'hello Torill Registrert'],
  ] as const) {
    t.ok(leaksIn(line(text), own).some((found) => found.startsWith(what)), `${what}: ${text.slice(0, 30)}`)
  }
  for (const address of own) t.same(leaksIn(line(`from ${address}`), own), [], `the service’s own ${address}`)
  t.same(leaksIn(line('incoming request GET /v1/contacts/6c3f4f40-8a5e-4a53-9a35-5a1c3f1d2b10 200 in 1.2 ms'), own), [], 'ids, paths and numbers are not personal data')
})

t.test('what the redaction replaces', async (t) => {
  const link = signLink([{ id: 'k1', secret: 'x'.repeat(40) }], 'confirm', { contactId: '6c3f4f40-8a5e-4a53-9a35-5a1c3f1d2b10', listId: '0d6b7d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e' })
  t.equal(pathForLog(`/confirm/${link}`), '/confirm/[redacted]')
  t.equal(pathForLog('/v1/contacts/by/kari%40example.no'), '/v1/contacts/by/[redacted]')
  t.equal(pathForLog('/v1/lists/6c3f4f40-8a5e-4a53-9a35-5a1c3f1d2b10/subscriptions'), '/v1/lists/6c3f4f40-8a5e-4a53-9a35-5a1c3f1d2b10/subscriptions')
  t.equal(pathForLog('/v1/courses/YOGA-2026.1'), '/v1/courses/YOGA-2026.1', 'a course id with a dot is kept')
  const query = Object.assign(new Error('Failed query: insert into "contacts" ("email") values ($1)\nparams: kari@example.no,Kari'), {
    cause: Object.assign(new Error('duplicate key value violates unique constraint "contacts_email_key"'), { code: '23505', detail: 'Key (email)=(kari@example.no) already exists.' }),
  })
  const logged = errorForLog(query)
  t.match(logged, { type: 'Error', message: 'Failed query: insert into "contacts" ("email") values ($1)', code: '23505', cause: /duplicate key/ })
  t.notOk(JSON.stringify(logged).includes('kari@example.no'), 'neither the parameters nor the detail')
  t.equal(errorForLog('connection to kari@example.no refused').message, 'connection to [redacted] refused')
})
