// Signup (POST /subscribe) and double opt-in (/confirm/{token}): the person's
// consent with the notice, the connection's address (a forwarded one only
// from a trusted proxy), a confirmation mail through the transactional path,
// read here off a real SMTP server; the GET of its link confirms nobody
// however often a scanner opens it, the POST confirms; the answer is the same
// whether the address was known; a honeypot stops bots; a rate limit per
// address; a confirmation link goes stale.
import t, { type Test } from 'tap'
import type { Config } from '../../src/config.js'
import { build, type TestApp } from '../helper.js'
import { createList } from '../factories.js'
import { startSmtpSink } from '../support/smtp-sink.js'

const NOTICE = { key: 'nyhetsbrev-skjema', version: 3, text: 'Ja, send meg nyhetsbrev. Du kan melde deg av når som helst.' }

async function setUp(t: Test, config: Partial<Config> = {}) {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url, ...config } })
  t.equal((await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: NOTICE })).statusCode, 201)
  const news = await createList(app, { kind: 'newsletter', name: 'Nyheter', slug: `nyheter-${Math.random().toString(36).slice(2, 8)}`, public: true, doubleOptIn: true })
  const open = await createList(app, { kind: 'newsletter', name: 'Åpent brev', slug: `open-${Math.random().toString(36).slice(2, 8)}`, public: true })
  const internal = await createList(app, { kind: 'newsletter', name: 'Intern', slug: `intern-${Math.random().toString(36).slice(2, 8)}` })
  return { app, sink, news, open, internal }
}

const signup = (app: TestApp, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  app.as(null)({ method: 'POST', url: '/subscribe', payload: { noticeKey: NOTICE.key, noticeVersion: NOTICE.version, ...payload }, headers })

const contactByEmail = async (app: TestApp, email: string) =>
  (await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}` })).json().items[0]

// One app for the tests that need no settings of their own: building one is most of a test's time.
let shared: Awaited<ReturnType<typeof setUp>>
t.before(async () => {
  shared = await setUp(t)
})

t.test('a double opt-in signup: pending, a confirmation mail, a GET that confirms nobody, a POST that does', async (t) => {
  const { app, sink, news } = shared
  const email = `kari.${process.pid}@example.no`
  const res = await signup(app, { email, name: 'Kari', lists: news.slug }, { 'user-agent': 'Mozilla/5.0 (signup test)' })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { status: 'received' })
  const contact = await contactByEmail(app, email)
  const status = async () => (await app.as('staff')({ method: 'GET', url: `/v1/lists/${news.id}/subscriptions/${contact.id}` })).json().status
  t.equal(await status(), 'pending')
  const consents = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
  t.match(consents, [{ type: 'granted', basis: 'consent', source: 'form', ip: '127.0.0.1', userAgent: 'Mozilla/5.0 (signup test)', notice: { key: NOTICE.key, version: 3 } }])
  t.match((await app.as('staff')({ method: 'POST', url: '/v1/decisions', payload: { kind: 'newsletter', listId: news.id, contactId: contact.id } })).json(), { allowed: false, reason: 'subscription_pending' }, 'no list mail before confirming')

  await app.app.deliveryWorker.runOnce()
  const [mail] = await sink.waitFor(1)
  t.same(mail!.envelope.to, [email])
  t.match(mail!.parsed.subject, /Bekreft påmeldingen til Nyheter/)
  const confirmUrl = /href="(http:\/\/localhost:3000\/confirm\/[^"]+)"/.exec(String(mail!.parsed.html))?.[1]
  t.ok(confirmUrl, 'the mail links to the confirmation page')
  const path = new URL(confirmUrl!).pathname

  for (let i = 0; i < 5; i++) {
    const page = await app.as(null)({ method: 'GET', url: path })
    t.equal(page.statusCode, 200)
    t.match(page.body, /<form method="post"/)
    t.match(page.body, /Bekreft påmeldingen/)
  }
  t.equal(await status(), 'pending', 'a scanner opening the link five times confirms nobody')
  const confirmed = await app.as(null)({ method: 'POST', url: path })
  t.equal(confirmed.statusCode, 200)
  t.match(confirmed.body, /Du er påmeldt «Nyheter»/)
  t.equal(await status(), 'active')
  const again = await app.as(null)({ method: 'POST', url: path })
  t.match(again.body, /Du er påmeldt «Nyheter»/, 'confirming twice is harmless')
  const events = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
  t.match(events.map((e: { type: string }) => e.type), ['granted', 'confirmed'])

  t.equal((await app.as(null)({ method: 'GET', url: `${path.slice(0, -2)}xx` })).statusCode, 404, 'a forged link is no page')
})

t.test('the same answer whether or not the address is known; no second mail to someone already on the list', async (t) => {
  const { app, sink, news, open } = shared
  sink.received.length = 0
  const email = `ola.${process.pid}@example.no`
  const first = await signup(app, { email, lists: [news.slug, open.slug] })
  await app.app.deliveryWorker.runOnce()
  await sink.waitFor(1)
  const confirmPath = new URL(/href="([^"]+\/confirm\/[^"]+)"/.exec(String(sink.received[0]!.parsed.html))![1]!).pathname
  await app.as(null)({ method: 'POST', url: confirmPath })
  const second = await signup(app, { email, lists: [news.slug, open.slug] })
  const stranger = await signup(app, { email: `ny.${process.pid}@example.no`, lists: [news.slug, open.slug] })
  t.same([first.statusCode, second.statusCode, stranger.statusCode], [202, 202, 202])
  t.same(second.json(), stranger.json())
  await app.app.deliveryWorker.runOnce()
  await sink.waitFor(2)
  t.same(sink.received.map((m) => m.envelope.to[0]), [email, `ny.${process.pid}@example.no`], 'one mail each; none for the one already confirmed')
  const contact = await contactByEmail(app, email)
  t.equal((await app.as('staff')({ method: 'GET', url: `/v1/lists/${open.id}/subscriptions/${contact.id}` })).json().status, 'active', 'a list without double opt-in is active at once')
})

t.test('refusals that say nothing about the address; the honeypot; a form gets a page', async (t) => {
  const { app, internal, news } = shared
  const unknown = await signup(app, { email: 'a@example.no', lists: 'finnes-ikke' })
  const privateList = await signup(app, { email: 'a@example.no', lists: internal.slug })
  t.equal(unknown.statusCode, 422)
  t.equal(unknown.json().code, 'signup_list_unknown')
  const { requestId: _a, ...privateAnswer } = privateList.json()
  const { requestId: _b, ...unknownAnswer } = unknown.json()
  t.same(privateAnswer, unknownAnswer, 'a private list answers as one that does not exist')
  t.equal((await signup(app, { email: 'a@example.no', lists: [news.slug, 'finnes-ikke'] })).json().code, 'signup_list_unknown', 'all lists must take signups')
  const slugOf = news.slug
  t.equal((await signup(app, { email: 'a@example.no', lists: slugOf, noticeVersion: 99 })).json().code, 'notice_not_found')
  const badAddress = await signup(app, { email: 'not-an-address', lists: slugOf })
  t.equal(badAddress.statusCode, 400)
  t.match(badAddress.json(), { code: 'invalid_email', errors: [{ field: 'body.email' }] })
  t.equal((await signup(app, { email: 'a@example.no', lists: slugOf, extra: 1 })).statusCode, 400)

  const bot = await signup(app, { email: `bot.${process.pid}@example.no`, lists: slugOf, website: 'http://spam.example' })
  t.equal(bot.statusCode, 202, 'a bot is answered like anyone')
  t.notOk(await contactByEmail(app, `bot.${process.pid}@example.no`), 'and nothing happens')

  const form = await app.as(null)({
    method: 'POST',
    url: '/subscribe',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email: `skjema.${process.pid}@example.no`, lists: slugOf, noticeKey: NOTICE.key, noticeVersion: String(NOTICE.version), lang: 'en' }).toString(),
  })
  t.equal(form.statusCode, 200)
  t.match(form.headers['content-type'], /^text\/html/)
  t.match(form.body, /Thank you! If the address can be signed up/)
  t.ok(await contactByEmail(app, `skjema.${process.pid}@example.no`))
  const badForm = await app.as(null)({
    method: 'POST',
    url: '/subscribe',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email: 'b@example.no', lists: 'finnes-ikke', noticeKey: NOTICE.key, noticeVersion: '3' }).toString(),
  })
  t.equal(badForm.statusCode, 422)
  t.match(badForm.body, /Påmeldingen kunne ikke tas imot/)
})

t.test('a confirmation link goes stale after SIGNUP_CONFIRM_DAYS (7 by default)', async (t) => {
  const { app, sink, news } = shared
  sink.received.length = 0
  const email = `sein.${process.pid}@example.no`
  await signup(app, { email, lists: news.slug })
  await app.app.deliveryWorker.runOnce()
  await sink.waitFor(1)
  const mail = sink.received.find((m) => m.envelope.to.includes(email))!
  const path = new URL(/href="([^"]+\/confirm\/[^"]+)"/.exec(String(mail.parsed.html))![1]!).pathname
  app.clock.advanceDays(8)
  t.match((await app.as(null)({ method: 'GET', url: path })).body, /er for gammel/)
  t.match((await app.as(null)({ method: 'POST', url: path })).body, /er for gammel/)
  const contact = await contactByEmail(app, email)
  t.equal((await app.as('staff')({ method: 'GET', url: `/v1/lists/${news.id}/subscriptions/${contact.id}` })).json().status, 'pending')
  app.clock.advanceDays(-8)
})

t.test('signups are limited per address; the address recorded is the connection’s unless a trusted proxy forwarded it', async (t) => {
  const { app, news } = await setUp(t, { signupRateLimitPerMinute: 2 })
  const codes = []
  for (let i = 0; i < 3; i++) codes.push((await signup(app, { email: `rl${i}.${process.pid}@example.no`, lists: news.slug })).statusCode)
  t.same(codes, [202, 202, 429])

  const untrusted = shared
  await signup(untrusted.app, { email: `fwd.${process.pid}@example.no`, lists: untrusted.news.slug }, { 'x-forwarded-for': '203.0.113.9' })
  const c1 = await contactByEmail(untrusted.app, `fwd.${process.pid}@example.no`)
  const ip1 = (await untrusted.app.as('staff')({ method: 'GET', url: `/v1/contacts/${c1.id}/consents` })).json().items[0].ip
  t.equal(ip1, '127.0.0.1', 'a raw X-Forwarded-For is not believed')

  const trusted = await setUp(t, { trustProxy: ['127.0.0.1'] })
  await signup(trusted.app, { email: `fwd.${process.pid}@example.no`, lists: trusted.news.slug }, { 'x-forwarded-for': '203.0.113.9' })
  const c2 = await contactByEmail(trusted.app, `fwd.${process.pid}@example.no`)
  const ip2 = (await trusted.app.as('staff')({ method: 'GET', url: `/v1/contacts/${c2.id}/consents` })).json().items[0].ip
  t.equal(ip2, '203.0.113.9', 'from a proxy configuration trusts, the forwarded address')
})
