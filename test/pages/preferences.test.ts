// The preference page (/u/{token}): what it shows (the person's lists and the
// public ones, course mail locked until a date, kept wishes with the date they
// are carried out), in which language, and each choice — leave, join (with
// the notice shown as consent), leave everything during a course, object to
// marketing ("as a customer" said only to a customer), keep or delete data
// after the course, ask for a copy, say why one left — through the services
// the API uses. A GET changes nothing; a post without the form token of a
// page we served, or from another site, changes nothing either.
import t, { type Test } from 'tap'
import { signLink } from '../../src/lib/link-tokens.js'
import { JOIN_NOTICE } from '../../src/pages/preferences.js'
import { auditTrail, build, LINK_SECRET, type TestApp } from '../helper.js'
import { askDecision, consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'

const pagePath = (contactId: string, listId: string) => `/u/${signLink([{ id: 'test', secret: LINK_SECRET }], 'unsubscribe', { contactId, listId })}`

/** The form token and the hidden fields of the form whose button says `button`, as the page served them. */
function formOf(html: string, button: string | RegExp): Record<string, string> {
  const forms = html.split('<form ').slice(1)
  const form = forms.find((f) => (typeof button === 'string' ? f.includes(`>${button}</button>`) : button.test(f)))
  if (!form) throw new Error(`no form with the button ${button}`)
  return Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&')]))
}

function post(app: TestApp, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.as(null)({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() })
}

t.test('the preference page', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')
  const newsletter = await createList(app, { kind: 'newsletter', name: 'Månedsbrev <i>' })
  const offers = await createList(app, { kind: 'marketing', name: 'Tilbud', public: true, doubleOptIn: true })
  const hidden = await createList(app, { kind: 'newsletter', name: 'Intern liste' })
  const course = await putCourse(app, 'pref-yoga', { name: 'Yoga høst' })

  /** A person enrolled on the course and subscribed to the newsletter: the page as their link opens it. */
  let people = 0
  async function person() {
    const enrollmentId = `pref-${++people}`
    const enrolled = await putEnrollment(app, enrollmentId, { courseId: 'pref-yoga', contact: { email: uniqueEmail('pref'), name: 'Kari' } })
    if (enrolled.statusCode >= 300) throw new Error(`putEnrollment: ${enrolled.statusCode} ${enrolled.body}`)
    const contactId = enrolled.json().contactId as string
    await subscribe(app, newsletter.id, { contactId, source: 'form', consent: consentPayload() })
    return { contactId, enrollmentId, path: pagePath(contactId, newsletter.id) }
  }
  const statusOf = async (listId: string, contactId: string) =>
    (await staff({ method: 'GET', url: `/v1/lists/${listId}/subscriptions/${contactId}` })).json().status

  t.test('shows their lists and the public ones, course mail locked until its date, and changes nothing', async (t) => {
    const { contactId, path } = await person()
    for (let i = 0; i < 2; i++) {
      const res = await app.as(null)({ method: 'GET', url: path })
      t.equal(res.statusCode, 200)
      t.match(res.body, /<html lang="nb">/)
      t.match(res.body, /Dine e-postvalg/)
      t.match(res.body, /Månedsbrev &lt;i&gt;/, 'names are escaped')
      t.match(res.body, /Meld meg av «Månedsbrev &lt;i&gt;»/)
      t.match(res.body, /Meld meg på «Tilbud»/, 'a public list can be joined')
      t.notMatch(res.body, /Intern liste/, 'a list that is neither theirs nor public is not shown')
      t.match(res.body, /Yoga høst/)
      t.match(res.body, /kurspost kommer til og med/, 'course mail is shown as locked, with the date')
      t.match(res.body, /Meld meg av «Yoga høst» når kurset er over/)
      t.notMatch(res.body, /<script/i, 'no script')
      t.equal(res.headers['cache-control'], 'no-store')
    }
    t.equal(await statusOf(newsletter.id, contactId), 'active')
    t.equal(await statusOf(course.listId, contactId), 'active')
    t.equal(hidden.public, false)
  })

  t.test('speaks English by choice, by the contact’s language, or by Accept-Language; Norwegian otherwise', async (t) => {
    const { path } = await person()
    t.match((await app.as(null)({ method: 'GET', url: `${path}?lang=en` })).body, /<html lang="en">[\s\S]*Your email preferences/)
    t.match((await app.as(null)({ method: 'GET', url: path, headers: { 'accept-language': 'en-GB,en;q=0.9' } })).body, /Your email preferences/)
    t.match((await app.as(null)({ method: 'GET', url: path, headers: { 'accept-language': 'sv, nn;q=0.8, en;q=0.5' } })).body, /Dine e-postvalg/)
    t.match((await app.as(null)({ method: 'GET', url: `${path}?lang=xx` })).body, /Dine e-postvalg/, 'an unknown language is ignored')
  })

  t.test('a link that is not ours is no page', async (t) => {
    const { contactId } = await person()
    const forged = pagePath(contactId, newsletter.id).slice(0, -3) + 'AAA'
    const res = await app.as(null)({ method: 'GET', url: forged })
    t.equal(res.statusCode, 404)
    t.notMatch(res.body, /Kari|Månedsbrev/)
    t.equal((await post(app, forged, { action: 'leave-all' })).statusCode, 404)
  })

  t.test('a post without a form token from a page we served, or from another site, changes nothing', async (t) => {
    const { contactId, path } = await person()
    const fields = formOf((await app.as(null)({ method: 'GET', url: path })).body, 'Meld meg av «Månedsbrev &lt;i&gt;»')
    t.equal((await post(app, path, { ...fields, formToken: '' })).statusCode, 403)
    const tampered = (token: string, at: number) => token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1)
    t.equal((await post(app, path, { ...fields, formToken: tampered(fields.formToken!, fields.formToken!.length - 5) })).statusCode, 403, 'a changed MAC')
    t.equal((await post(app, path, { ...fields, formToken: tampered(fields.formToken!, fields.formToken!.length - 1) })).statusCode, 403, 'a changed last character, even one decoding ignores')
    const other = await person()
    const othersToken = formOf((await app.as(null)({ method: 'GET', url: other.path })).body, 'Meld meg av alt').formToken!
    t.equal((await post(app, path, { ...fields, formToken: othersToken })).statusCode, 403, "another page's token")
    t.equal((await post(app, path, fields, { 'sec-fetch-site': 'cross-site' })).statusCode, 403, 'a cross-site post')
    app.clock.advance(13 * 60 * 60 * 1000)
    t.equal((await post(app, path, fields)).statusCode, 403, 'a form older than its lifetime')
    app.clock.advance(-13 * 60 * 60 * 1000)
    t.equal((await post(app, path, { ...fields, action: 'explode' })).statusCode, 400)
    t.equal((await post(app, path, { ...fields, action: 'join', list: hidden.id })).statusCode, 422, 'a list the page does not offer')
    t.equal(await statusOf(newsletter.id, contactId), 'active')
    t.equal((await staff({ method: 'GET', url: `/v1/lists/${hidden.id}/subscriptions/${contactId}` })).statusCode, 404)
  })

  t.test('leaving a list, then — only then — the optional question why', async (t) => {
    const { contactId, path } = await person()
    const page = (await app.as(null)({ method: 'GET', url: path })).body
    t.notMatch(page, /Hvorfor|hvorfor/, 'no question before leaving')
    const res = await post(app, path, formOf(page, 'Meld meg av «Månedsbrev &lt;i&gt;»'))
    t.equal(res.statusCode, 200)
    t.match(res.body, /Du er meldt av «Månedsbrev &lt;i&gt;»/)
    t.match(res.body, /Vil du si hvorfor du meldte deg av\?/)
    t.equal(await statusOf(newsletter.id, contactId), 'unsubscribed')
    const why = formOf(res.body, 'Send svaret')
    const noted = await post(app, path, { ...why, reason: 'too_many' })
    t.match(noted.body, /Takk for svaret/)
    const trail = await auditTrail(app, 'list', newsletter.id)
    t.match(trail.at(-1), { action: 'subscription.leave_reason', changes: { reason: { to: 'too_many' } } })
    t.equal((await post(app, path, { ...why, reason: 'I hate you' })).statusCode, 400, 'reasons are codes, never free text')
  })

  t.test('joining records a new explicit consent with the notice the page showed (no second confirmation for the link’s owner)', async (t) => {
    const { contactId, path } = await person()
    const res = await post(app, path, formOf((await app.as(null)({ method: 'GET', url: `${path}?lang=en` })).body, 'Join “Tilbud”'))
    t.equal(res.statusCode, 200)
    t.match(res.body, /You have joined “Tilbud”/)
    t.equal(await statusOf(offers.id, contactId), 'active', 'active at once, though the list asks for double opt-in')
    const events = (await staff({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items.filter((e: { listId: string }) => e.listId === offers.id)
    t.match(events, [
      { type: 'granted', basis: 'consent', source: 'link' },
      { type: 'confirmed', source: 'link' },
    ])
    t.match(events[0].notice, { key: JOIN_NOTICE.en.key, version: JOIN_NOTICE.en.version })
    const notice = (await staff({ method: 'GET', url: `/v1/notices/${events[0].notice.id}` })).json()
    t.equal(notice.text, JOIN_NOTICE.en.text, 'the English notice, the one shown')
  })

  t.test('everything during a course: newsletters now, course mail when it ends, with the date on the page', async (t) => {
    const { contactId, path } = await person()
    const res = await post(app, path, formOf((await app.as(null)({ method: 'GET', url: path })).body, 'Meld meg av alt'))
    t.equal(res.statusCode, 200)
    t.match(res.body, /Du er meldt av alt/)
    t.match(res.body, /Kurspost fra «Yoga høst» fortsetter til og med/)
    t.equal(await statusOf(newsletter.id, contactId), 'unsubscribed')
    t.equal(await statusOf(course.listId, contactId), 'active', 'course mail continues')
    const after = (await app.as(null)({ method: 'GET', url: path })).body
    t.match(after, /Du har bedt om å bli meldt av\. Det blir gjort .+, når kurset er over\./, 'the kept wish, with its date')
    t.match(after, /Du har meldt deg av alt/)

    app.clock.advanceDays(31)
    await app.app.services.optOut.applyDueDeferredUnsubscribes({ id: 'test', name: null, role: 'admin' })
    t.equal(await statusOf(course.listId, contactId), 'unsubscribed', 'carried out when the course ended')
    app.clock.advanceDays(-31)
  })

  t.test('an objection to marketing, data after the course, and a copy of the data', async (t) => {
    const { contactId, enrollmentId, path } = await person()
    let page = (await app.as(null)({ method: 'GET', url: path })).body
    page = (await post(app, path, formOf(page, 'Jeg vil ikke ha markedsføring'))).body
    t.match(page, /Du får ingen markedsføring fra oss/)
    t.match(page, /Du har reservert deg mot markedsføring/)
    const decision = await staff({ method: 'POST', url: '/v1/decisions', payload: { kind: 'marketing', listId: offers.id, contactId } })
    t.match(decision.json(), { allowed: false, reason: 'objection' })

    page = (await post(app, path, { ...formOf(page, 'Lagre valget'), keep: 'yes' })).body
    t.match(page, /Vi tar vare på dataene dine til neste kurs/)
    t.match(page, /value="yes" checked/)
    const enrollment = (await app.as('course-system')({ method: 'GET', url: `/v1/enrollments/${enrollmentId}` })).json()
    t.equal(enrollment.keepDataAfterCourse, true)

    page = (await post(app, path, formOf(page, 'Be om en kopi'))).body
    t.match(page, /sender en kopi av dataene dine senest \d+\. \p{L}+ \d{4} \(innen 14 virkedager\)/u)
    const requested = (await staff({ method: 'GET', url: `/v1/requests?contactId=${contactId}` })).json().items
    t.match(requested, [{ type: 'access', channel: 'preference_page', status: 'open', contactId }], 'an access request for staff, with its due date')
    await post(app, path, formOf(page, 'Be om en kopi'))
    t.equal((await staff({ method: 'GET', url: `/v1/requests?contactId=${contactId}` })).json().items.length, 1, 'asking again while it is open is the same request')
  })

  t.test('says “as a customer” only to those the existing-customer rule reaches now, naming the lists; to anyone else a line true for all', async (t) => {
    const dance = await createList(app, { kind: 'marketing', name: 'Dansetilbud', categories: ['dans'] })
    await putCourse(app, 'pref-salsa', { name: 'Salsa', category: 'dans' })
    const daysAgo = (days: number) => new Date(app.clock.now().getTime() - days * 24 * 60 * 60 * 1000).toISOString()
    // Bought about 26 months ago: outside the default window of 24.
    await putCourse(app, 'pref-tango', { name: 'Tango', category: 'dans', startsAt: daysAgo(800), endsAt: daysAgo(790) })
    const customerLine = {
      nb: /Som kunde kan du få tilbud om lignende kurs \(«Dansetilbud»\)\. Du kan reservere deg mot all markedsføring\./,
      en: /As a customer you may get offers of similar courses \(“Dansetilbud”\)\. You can object to all marketing\./,
    }
    const anyCustomerLine = { nb: /Som kunde/, en: /As a customer/ }
    const neutralLine = {
      nb: /Du kan reservere deg mot all markedsføring\. Da sender vi deg ingen tilbud\./,
      en: /You can object to all marketing: we will then send you no offers\./,
    }
    const objectButton = { nb: 'Jeg vil ikke ha markedsføring', en: 'I do not want marketing' }
    const pages = async (path: string) => ({
      nb: (await app.as(null)({ method: 'GET', url: path })).body,
      en: (await app.as(null)({ method: 'GET', url: `${path}?lang=en` })).body,
    })
    let dancers = 0
    /** Someone enrolled in a dance course: the page, in both languages, as a link from the dance offers opens it. */
    async function dancer(courseId: string, fields: Record<string, unknown> = {}) {
      const res = await putEnrollment(app, `pref-dancer-${++dancers}`, { courseId, contact: { email: uniqueEmail('pref-dancer'), name: 'Ola' }, ...fields })
      if (res.statusCode >= 300) throw new Error(`putEnrollment: ${res.statusCode} ${res.body}`)
      const contactId = res.json().contactId as string
      return { contactId, page: await pages(pagePath(contactId, dance.id)) }
    }
    const seesNeutralLine = (t: Test, page: { nb: string; en: string }) => {
      for (const locale of ['nb', 'en'] as const) {
        t.notMatch(page[locale], anyCustomerLine[locale], `${locale}: no customer line`)
        t.match(page[locale], neutralLine[locale], `${locale}: the line true for anyone`)
        t.ok(formOf(page[locale], objectButton[locale]), `${locale}: the objection is still offered`)
      }
    }

    t.test('a newsletter subscriber who bought nothing', async (t) => {
      const contact = await createContact(app)
      await subscribe(app, newsletter.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
      seesNeutralLine(t, await pages(pagePath(contact.id, newsletter.id)))
    })

    t.test('a customer of courses no marketing list is about', async (t) => {
      const { path } = await person()
      seesNeutralLine(t, await pages(path))
    })

    t.test('a recent buyer of a course a marketing list is about, who kept marketing', async (t) => {
      const { contactId, page } = await dancer('pref-salsa')
      t.match(await askDecision(app, { kind: 'marketing', listId: dance.id, contactId }), { allowed: true, basis: 'legitimate_interest' })
      for (const locale of ['nb', 'en'] as const) {
        t.match(page[locale], customerLine[locale], `${locale}: the customer line, naming the list`)
        t.notMatch(page[locale], neutralLine[locale])
        t.ok(formOf(page[locale], objectButton[locale]), `${locale}: the objection is offered`)
      }
    })

    t.test('a buyer outside the window', async (t) => {
      const { contactId, page } = await dancer('pref-tango', { enrolledAt: daysAgo(800) })
      t.match(await askDecision(app, { kind: 'marketing', listId: dance.id, contactId }), { allowed: false, reason: 'no_marketing_basis' })
      seesNeutralLine(t, page)
    })

    t.test('a buyer who declined marketing at enrollment', async (t) => {
      const { page } = await dancer('pref-salsa', { marketingOptOut: true })
      // Declining at enrollment is recorded as an objection, so the page says that instead.
      t.notMatch(page.nb, anyCustomerLine.nb)
      t.notMatch(page.en, anyCustomerLine.en)
      t.match(page.nb, /Du har reservert deg mot markedsføring/)
      t.match(page.en, /You have objected to marketing/)
    })
  })
})
