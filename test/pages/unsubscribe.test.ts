// The unsubscribe link: a GET shows a page and changes nothing; a POST with
// List-Unsubscribe=One-Click (RFC 8058), urlencoded or multipart, leaves the
// list through the same opt-out service the API uses; a token that is not
// ours changes nothing and says nothing; links signed with a key that has
// since been rotated out of signing still work.
import t from 'tap'
import { consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, LINK_SECRET, type TestApp } from '../helper.js'
import { signLink } from '../../src/lib/link-tokens.js'

const OLD_KEY = { id: 'old', secret: `${LINK_SECRET}-old` }
const NEW_KEY = { id: 'new', secret: `${LINK_SECRET}-new` }

/** Leaving a list as a mail client does it (RFC 8058): no cookies, no authorization, the form body only. */
function oneClick(app: TestApp, path: string, encoding: 'urlencoded' | 'multipart' = 'urlencoded') {
  if (encoding === 'urlencoded') {
    return app.as(null)({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
  }
  const boundary = '----samtykke-test-boundary'
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`
  return app.as(null)({ method: 'POST', url: path, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
}

t.test('unsubscribe links', async (t) => {
  // Mail signed before the rotation carries the old key; new mail the new one.
  const app = await build(t, { config: { linkSigningKeys: [NEW_KEY, OLD_KEY] } })
  const link = (contactId: string, listId: string, keys = [NEW_KEY]) => `/unsubscribe/${signLink(keys, 'unsubscribe', { contactId, listId })}`

  async function subscriber(locale: 'nb' | 'en' = 'nb') {
    const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev <b>vår</b>' })
    const person = await createContact(app, { locale })
    await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
    return { list, person }
  }
  const statusOf = async (listId: string, contactId: string) =>
    (await app.as('staff')({ method: 'GET', url: `/v1/lists/${listId}/subscriptions/${contactId}` })).json().status
  const consentsOf = async (contactId: string) => (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items

  t.test('a GET answers a page in the person’s language with a button that posts, and unsubscribes no one', async (t) => {
    const { list, person } = await subscriber('nb')
    const path = link(person.id, list.id)
    for (let i = 0; i < 3; i++) {
      const res = await app.as(null)({ method: 'GET', url: path })
      t.equal(res.statusCode, 200)
      t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
      t.match(res.body, /<html lang="nb">/)
      t.match(res.body, /Vil du melde deg av «Nyhetsbrev &lt;b&gt;vår&lt;\/b&gt;»\?/, 'the list name is escaped')
      t.match(res.body, new RegExp(`<form method="post" action="${path}">`))
      t.match(res.body, /name="List-Unsubscribe" value="One-Click"/)
      t.equal(res.headers['referrer-policy'], 'no-referrer', 'the token in the address goes nowhere else')
      t.match(res.headers['content-security-policy'], /default-src 'none'/)
      t.equal(res.headers['cache-control'], 'no-store')
      t.notOk(res.headers['set-cookie'])
    }
    t.equal(await statusOf(list.id, person.id), 'active', 'scanners following the link change nothing')
    const english = await subscriber('en')
    t.match((await app.as(null)({ method: 'GET', url: link(english.person.id, english.list.id) })).body, /Do you want to unsubscribe from/)
  })

  t.test('a one-click POST, urlencoded or multipart, unsubscribes: withdrawal in the consent ledger, a list suppression, 200', async (t) => {
    for (const encoding of ['urlencoded', 'multipart'] as const) {
      const { list, person } = await subscriber('en')
      const res = await oneClick(app, link(person.id, list.id), encoding)
      t.equal(res.statusCode, 200, encoding)
      t.notOk(res.headers.location, 'no redirect')
      t.notOk(res.headers['set-cookie'], 'no cookie')
      t.match(res.body, /You are unsubscribed from/)
      t.equal(await statusOf(list.id, person.id), 'unsubscribed', encoding)
      t.match((await consentsOf(person.id)).at(-1), {
        type: 'withdrawn',
        source: 'link',
        listId: list.id,
        actorId: `subscriber:${person.id}`,
        actorRole: 'subscriber',
        evidence: 'one-click unsubscribe (RFC 8058)',
      })
      const suppressions = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${person.id}` })).json().items
      t.match(suppressions, [{ scope: 'list', reason: 'unsubscribe', listId: list.id }])
      const decision = await app.as('staff')({ method: 'POST', url: '/v1/decisions', payload: { kind: 'newsletter', listId: list.id, contactId: person.id } })
      t.match(decision.json(), { allowed: false, reason: 'unsubscribed' })
    }
  })

  t.test('repeating the POST is harmless: 200 again, nothing new recorded', async (t) => {
    const { list, person } = await subscriber()
    const path = link(person.id, list.id)
    t.equal((await oneClick(app, path)).statusCode, 200)
    const before = (await consentsOf(person.id)).length
    for (let i = 0; i < 3; i++) t.equal((await oneClick(app, path)).statusCode, 200)
    t.equal((await consentsOf(person.id)).length, before, 'one withdrawal')
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${person.id}` })).json().items.length, 1, 'one suppression')
  })

  t.test('a tampered, foreign or unknown token gets a 404 that says nothing, and changes nothing', async (t) => {
    const { list, person } = await subscriber()
    const good = signLink([NEW_KEY], 'unsubscribe', { contactId: person.id, listId: list.id })
    const [kid, payload, mac] = good.split('.') as [string, string, string]
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
    const other = await createContact(app)
    const bad = [
      `${kid}.${flip(payload, 5)}.${mac}`,
      `${kid}.${payload}.${flip(mac, 3)}`,
      `${kid}.${signLink([NEW_KEY], 'unsubscribe', { contactId: other.id, listId: list.id }).split('.')[1]}.${mac}`,
      signLink([{ id: 'gone', secret: `${LINK_SECRET}-gone` }], 'unsubscribe', { contactId: person.id, listId: list.id }),
      signLink([{ id: 'new', secret: `${LINK_SECRET}-forged` }], 'unsubscribe', { contactId: person.id, listId: list.id }),
      signLink([NEW_KEY], 'unsubscribe', { contactId: '00000000-0000-4000-8000-000000000000', listId: list.id }),
      'not-a-token',
      'a.b.c',
      `${good}x`,
    ]
    for (const token of bad) {
      for (const res of [await app.as(null)({ method: 'GET', url: `/unsubscribe/${token}` }), await oneClick(app, `/unsubscribe/${token}`)]) {
        t.equal(res.statusCode, 404, token)
        t.match(res.body, /Lenken virker ikke/)
        t.notMatch(res.body, new RegExp(person.email.replaceAll('.', '\\.')))
      }
    }
    t.equal(await statusOf(list.id, person.id), 'active')
    t.equal((await app.as(null)({ method: 'GET', url: `/unsubscribe/${'x'.repeat(2000)}` })).statusCode >= 400, true, 'an over-long token is refused')
  })

  t.test('a link signed with a key since rotated out of signing still unsubscribes', async (t) => {
    const { list, person } = await subscriber()
    const res = await oneClick(app, link(person.id, list.id, [OLD_KEY]))
    t.equal(res.statusCode, 200)
    t.equal(await statusOf(list.id, person.id), 'unsubscribed')
  })

  t.test('a POST without List-Unsubscribe=One-Click is a 400 and changes nothing; JSON is not a form', async (t) => {
    const { list, person } = await subscriber()
    const path = link(person.id, list.id)
    const wrong = await app.as(null)({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=Yes' })
    t.equal(wrong.statusCode, 400)
    const empty = await app.as(null)({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
    t.equal(empty.statusCode, 400)
    const text = await app.as(null)({ method: 'POST', url: path, headers: { 'content-type': 'text/plain' }, payload: 'List-Unsubscribe=One-Click' })
    t.equal(text.statusCode, 415)
    t.equal(await statusOf(list.id, person.id), 'active')
  })

  t.test('hostile bodies get a 4xx, never a 5xx, and change nothing', async (t) => {
    const { list, person } = await subscriber()
    const path = link(person.id, list.id)
    const boundary = 'b0undary'
    const multipart = { 'content-type': `multipart/form-data; boundary=${boundary}` }
    const cases: { headers: Record<string, string>; payload: string }[] = [
      { headers: multipart, payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n` },
      { headers: multipart, payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n${'x'.repeat(5000)}\r\n--${boundary}--\r\n` },
      { headers: multipart, payload: Array.from({ length: 50 }, (_, i) => `--${boundary}\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv\r\n`).join('') + `--${boundary}--\r\n` },
      { headers: multipart, payload: 'not multipart at all' },
      { headers: { 'content-type': 'multipart/form-data' }, payload: 'no boundary' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `List-Unsubscribe=${'x'.repeat(10_000)}` },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '%zz=%' },
      { headers: { 'content-type': 'application/json' }, payload: '{"List-Unsubscribe": "One-Click"' },
      { headers: { 'content-type': 'application/json' }, payload: '["List-Unsubscribe"]' },
    ]
    for (const { headers, payload } of cases) {
      const res = await app.as(null)({ method: 'POST', url: path, headers, payload })
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode} for ${headers['content-type']} ${payload.slice(0, 40)}`)
    }
    t.equal(await statusOf(list.id, person.id), 'active')
  })

  t.test('marketing under the existing-customer rule, with no subscription: the list suppression alone says no', async (t) => {
    const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
    await putCourse(app, 'yoga-ec')
    const email = uniqueEmail('customer')
    const contactId = (await putEnrollment(app, 'enr-ec-1', { courseId: 'yoga-ec', contact: { email } })).json().contactId
    const ask = () => app.as('staff')({ method: 'POST', url: '/v1/decisions', payload: { kind: 'marketing', listId: offers.id, contactId } })
    t.match((await ask()).json(), { allowed: true, basis: 'legitimate_interest' })
    t.equal((await oneClick(app, link(contactId, offers.id))).statusCode, 200)
    t.match((await ask()).json(), { allowed: false, reason: 'unsubscribed' })
  })

  t.test('a course list link says until when course mail continues; its POST keeps the wish for the course end', async (t) => {
    const course = await putCourse(app, 'yoga-cl')
    const email = uniqueEmail('student')
    const contactId = (await putEnrollment(app, 'enr-cl-1', { courseId: 'yoga-cl', contact: { email } })).json().contactId
    const path = link(contactId, course.listId)
    const page = await app.as(null)({ method: 'GET', url: path })
    t.equal(page.statusCode, 200)
    t.match(page.body, /kurspost fra «Course yoga-cl» kommer til og med \d+\. \p{L}+ \d{4}/u)
    t.match(page.body, /Meld meg av når kurset er over/)
    const res = await oneClick(app, path)
    t.equal(res.statusCode, 200)
    t.match(res.body, /Du blir meldt av «Course yoga-cl» når kurset er over/)
    t.equal(await statusOf(course.listId, contactId), 'active', 'course mail continues while enrolled')
    const course2 = await app.as('course-system')({ method: 'POST', url: '/v1/decisions', payload: { kind: 'course', courseId: 'yoga-cl', contactId } })
    t.match(course2.json(), { allowed: true })
  })
})
