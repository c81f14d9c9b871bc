// POST /v1/decisions: the send decision asked over HTTP, against the real app
// and database — one test per rule of DESIGN.md's table that the API can
// reach, every bad-input code, and that asking changes nothing. One app for
// the file: each test makes its own contacts, lists, courses and enrollments.
import t, { type Test } from 'tap'
import { auditEvents } from '../../db/schema/index.js'
import { askerOf, consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'

const DAY = 24 * 60 * 60 * 1000

const decide = (app: TestApp, payload: Record<string, unknown>, role: 'staff' | 'course-system' | 'admin' = askerOf(payload.kind)) =>
  app.as(role)({ method: 'POST', url: '/v1/decisions', payload })

async function decided(app: TestApp, payload: Record<string, unknown>) {
  const res = await decide(app, payload)
  if (res.statusCode !== 200) throw new Error(`decide: ${res.statusCode} ${res.body}`)
  return res.json()
}

async function suppress(app: TestApp, payload: Record<string, unknown>) {
  const res = await app.as('staff')({ method: 'POST', url: '/v1/suppressions', payload })
  if (res.statusCode !== 201) throw new Error(`suppress: ${res.statusCode} ${res.body}`)
  return res.json()
}

async function enroll(app: TestApp, id: string, body: Record<string, unknown>) {
  const res = await putEnrollment(app, id, body)
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`enroll: ${res.statusCode} ${res.body}`)
  return res.json()
}

async function contactOf(app: TestApp, id: string) {
  return (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${id}` })).json()
}

/** For a test that moves the shared clock: put it back when the test ends, for the tests after it. */
function restoreClockAfter(t: Test, app: TestApp) {
  const start = app.clock.now()
  t.teardown(() => app.clock.set(start))
}

t.test('decisions over HTTP', async (t) => {
  const app = await build(t)

  t.test('course mail goes on the contract while enrolled, with the enrollment as evidence and the lock until the course ends', async (t) => {
    const course = await putCourse(app, 'yoga-101')
    const email = uniqueEmail()
    const enrollment = await enroll(app, 'enr-1', { courseId: 'yoga-101', contact: { email } })

    const byContact = await decided(app, { contactId: enrollment.contactId, kind: 'course', courseId: 'yoga-101' })
    t.same(byContact, {
      allowed: true,
      basis: 'contract',
      evidence: { type: 'enrollment', id: 'enr-1' },
      reason: null,
      lockedUntil: course.endsAt,
      rule: 'course_contract',
      contactId: enrollment.contactId,
      decidedAt: app.clock.now().toISOString(),
    })
    const byEmail = await decided(app, { email: email.toUpperCase(), kind: 'course', courseId: 'yoga-101' })
    t.same(byEmail, byContact, 'the address finds the same contact, ignoring case')

    const optOut = await app.as('staff')({
      method: 'POST',
      url: `/v1/lists/${course.listId}/subscriptions/${enrollment.contactId}/unsubscribe`,
      payload: { source: 'link' },
    })
    t.equal(optOut.statusCode, 409)
    t.equal(optOut.json().code, 'optout_locked_by_enrollment')
    t.equal((await decided(app, { contactId: enrollment.contactId, kind: 'course', courseId: 'yoga-101' })).allowed, true, 'an opt-out does not stop course mail')
    const viaList = await decided(app, { contactId: enrollment.contactId, kind: 'course', courseId: 'yoga-101', listId: course.listId })
    t.equal(viaList.allowed, true, 'the course list may be named too')
  })

  t.test('course mail stops when the course has ended, and says the enrollment ended', async (t) => {
    restoreClockAfter(t, app)
    const course = await putCourse(app, 'yoga-102')
    const enrollment = await enroll(app, 'enr-2', { courseId: 'yoga-102', contact: { email: uniqueEmail() } })
    app.clock.set(new Date(new Date(course.endsAt).getTime() + 1))
    const answer = await decided(app, { contactId: enrollment.contactId, kind: 'course', courseId: 'yoga-102' })
    t.match(answer, { allowed: false, basis: null, reason: 'enrollment_ended', evidence: { type: 'enrollment', id: 'enr-2' }, lockedUntil: null })
  })

  t.test('course mail to someone not enrolled in that course is blocked: not_enrolled, or enrollment_cancelled', async (t) => {
    await putCourse(app, 'yoga-103')
    await putCourse(app, 'pilates-1', { category: 'pilates' })
    const enrollment = await enroll(app, 'enr-3', { courseId: 'pilates-1', contact: { email: uniqueEmail() } })
    const other = await decided(app, { contactId: enrollment.contactId, kind: 'course', courseId: 'yoga-103' })
    t.match(other, { allowed: false, reason: 'not_enrolled', evidence: null })

    const stranger = await decided(app, { email: uniqueEmail('stranger'), kind: 'course', courseId: 'yoga-103' })
    t.match(stranger, { allowed: false, reason: 'not_enrolled', contactId: null })

    await enroll(app, 'enr-3', { courseId: 'pilates-1', contact: { email: (await contactOf(app, enrollment.contactId)).email }, status: 'cancelled' })
    const cancelled = await decided(app, { contactId: enrollment.contactId, kind: 'course', courseId: 'pilates-1' })
    t.match(cancelled, { allowed: false, reason: 'enrollment_cancelled', evidence: { type: 'enrollment', id: 'enr-3' } })
  })

  t.test('a hard bounce stops course and transactional mail alike', async (t) => {
    await putCourse(app, 'yoga-104')
    const receipts = await createList(app, { kind: 'transactional', slug: 'receipts' })
    const enrollment = await enroll(app, 'enr-4', { courseId: 'yoga-104', contact: { email: uniqueEmail() } })
    const before = await decided(app, { contactId: enrollment.contactId, kind: 'transactional', listId: receipts.id })
    t.match(before, { allowed: true, basis: 'contract', evidence: { type: 'list', id: receipts.id }, reason: null })

    const bounce = await suppress(app, { contactId: enrollment.contactId, scope: 'all-mail', reason: 'bounce' })
    for (const request of [
      { kind: 'transactional', listId: receipts.id },
      { kind: 'course', courseId: 'yoga-104' },
    ]) {
      const answer = await decided(app, { contactId: enrollment.contactId, ...request })
      t.match(answer, { allowed: false, reason: 'hard_bounce', evidence: { type: 'suppression', id: bounce.id } }, request.kind)
    }
  })

  t.test('transactional mail on a legal-obligation list goes to an address that belongs to no contact', async (t) => {
    const list = await createList(app, { kind: 'transactional', basis: 'legal_obligation' })
    const answer = await decided(app, { email: uniqueEmail('nobody'), kind: 'transactional', listId: list.id })
    t.match(answer, { allowed: true, basis: 'legal_obligation', evidence: { type: 'list', id: list.id }, contactId: null })
  })

  t.test('newsletter: allowed on the grant; pending until confirmed; blocked once unsubscribed; not_subscribed without a subscription', async (t) => {
    const list = await createList(app, { kind: 'newsletter', doubleOptIn: true })
    const contact = await createContact(app)
    const ask = { contactId: contact.id, kind: 'newsletter', listId: list.id }

    t.match(await decided(app, ask), { allowed: false, reason: 'not_subscribed', evidence: null })

    const sub = (await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })).json()
    t.match(await decided(app, ask), { allowed: false, reason: 'subscription_pending', evidence: { type: 'subscription', id: sub.id } })

    await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${contact.id}/confirm`, payload: { source: 'link' } })
    const grant = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items[0]
    t.match(await decided(app, ask), { allowed: true, basis: 'consent', evidence: { type: 'consent_event', id: grant.id } })

    const un = await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${contact.id}/unsubscribe`, payload: { source: 'link' } })
    t.equal(un.statusCode, 200)
    t.match(await decided(app, ask), { allowed: false, reason: 'unsubscribed' })
  })

  t.test('an archived list gets no mail', async (t) => {
    const list = await createList(app, { kind: 'newsletter' })
    const contact = await createContact(app)
    await subscribe(app, list.id, { contactId: contact.id, consent: consentPayload() })
    await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/archive` })
    t.match(await decided(app, { contactId: contact.id, kind: 'newsletter', listId: list.id }), { allowed: false, reason: 'list_archived' })
  })

  t.test('a manual block on one list and a complaint everywhere block newsletters with the suppression as evidence', async (t) => {
    const first = await createList(app, { kind: 'newsletter' })
    const second = await createList(app, { kind: 'newsletter' })
    const contact = await createContact(app)
    for (const list of [first, second]) await subscribe(app, list.id, { contactId: contact.id, consent: consentPayload() })

    const manual = await suppress(app, { contactId: contact.id, scope: 'list', listId: first.id, reason: 'manual', note: 'ticket 7' })
    t.match(await decided(app, { contactId: contact.id, kind: 'newsletter', listId: first.id }), {
      allowed: false,
      reason: 'manual_block',
      evidence: { type: 'suppression', id: manual.id },
    })
    t.equal((await decided(app, { contactId: contact.id, kind: 'newsletter', listId: second.id })).allowed, true, 'the other list is untouched')

    const complaint = await suppress(app, { contactId: contact.id, scope: 'global', reason: 'complaint' })
    t.match(await decided(app, { contactId: contact.id, kind: 'newsletter', listId: second.id }), {
      reason: 'complaint',
      evidence: { type: 'suppression', id: complaint.id },
    })
  })

  t.test('marketing goes on an active consent for the list', async (t) => {
    const list = await createList(app, { kind: 'marketing', categories: ['yoga'] })
    const contact = await createContact(app)
    await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    const grant = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items[0]
    t.match(await decided(app, { contactId: contact.id, kind: 'marketing', listId: list.id }), {
      allowed: true,
      basis: 'consent',
      evidence: { type: 'consent_event', id: grant.id },
    })
  })

  t.test('marketing goes to an existing customer in a category the list is about, within 24 months, and no further', async (t) => {
    restoreClockAfter(t, app)
    const yogaOffers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
    const cookingOffers = await createList(app, { kind: 'marketing', categories: ['cooking'] })
    await putCourse(app, 'yoga-105')
    const enrolledAt = new Date(app.clock.now().getTime() - 10 * DAY)
    const enrollment = await enroll(app, 'enr-5', { courseId: 'yoga-105', contact: { email: uniqueEmail() }, enrolledAt: enrolledAt.toISOString() })

    t.match(await decided(app, { contactId: enrollment.contactId, kind: 'marketing', listId: yogaOffers.id }), {
      allowed: true,
      basis: 'legitimate_interest',
      evidence: { type: 'enrollment', id: 'enr-5' },
    })
    t.match(await decided(app, { contactId: enrollment.contactId, kind: 'marketing', listId: cookingOffers.id }), {
      allowed: false,
      reason: 'no_marketing_basis',
    }, 'a category the list is not about gives no basis')

    // The purchase was 2026-02-20T09:00Z; the window is 24 calendar months.
    app.clock.set('2028-02-20T09:00:00.000Z')
    t.equal((await decided(app, { contactId: enrollment.contactId, kind: 'marketing', listId: yogaOffers.id })).allowed, true, 'on the last moment of the window')
    app.clock.set('2028-02-20T09:00:00.001Z')
    t.match(await decided(app, { contactId: enrollment.contactId, kind: 'marketing', listId: yogaOffers.id }), {
      allowed: false,
      reason: 'no_marketing_basis',
    }, 'the purchase is older than the window')
  })

  t.test('declining marketing at enrollment is an objection that blocks marketing even to an existing customer', async (t) => {
    const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
    await putCourse(app, 'yoga-106')
    const enrollment = await enroll(app, 'enr-6', { courseId: 'yoga-106', contact: { email: uniqueEmail() }, marketingOptOut: true })
    const answer = await decided(app, { contactId: enrollment.contactId, kind: 'marketing', listId: offers.id })
    t.match(answer, { allowed: false, reason: 'objection', evidence: { type: 'suppression' } })
    t.equal((await decided(app, { contactId: enrollment.contactId, kind: 'course', courseId: 'yoga-106' })).allowed, true, 'course mail still goes')
  })

  t.test('a suppression on a bare address blocks it, and still blocks the contact created later with that address', async (t) => {
    const list = await createList(app, { kind: 'newsletter' })
    const email = uniqueEmail('complainer')
    const complaint = await suppress(app, { email, scope: 'global', reason: 'complaint' })
    t.equal(complaint.contactId, null)

    t.match(await decided(app, { email, kind: 'newsletter', listId: list.id }), {
      allowed: false,
      reason: 'complaint',
      evidence: { type: 'suppression', id: complaint.id },
      contactId: null,
    })

    const contact = await createContact(app, { email: `  ${email.toUpperCase()} ` })
    await subscribe(app, list.id, { contactId: contact.id, source: 'staff', consent: consentPayload() })
    t.match(await decided(app, { contactId: contact.id, kind: 'newsletter', listId: list.id }), {
      allowed: false,
      reason: 'complaint',
      contactId: contact.id,
    }, 'the hash of the address finds it; a consent staff recorded does not speak over a complaint')
  })

  t.test('bad requests are refused with stable codes, before anything is looked up', async (t) => {
    const contact = await createContact(app)
    const newsletter = await createList(app, { kind: 'newsletter' })
    const marketing = await createList(app, { kind: 'marketing' })
    const receipts = await createList(app, { kind: 'transactional' })
    const course = await putCourse(app, 'yoga-107')
    const missing = '00000000-0000-4000-8000-000000000000'

    const cases: [string, Record<string, unknown>, number, string][] = [
      ['no recipient', { kind: 'newsletter', listId: newsletter.id }, 400, 'recipient_required'],
      ['both recipients', { email: contact.email, contactId: contact.id, kind: 'newsletter', listId: newsletter.id }, 400, 'recipient_ambiguous'],
      ['an address that is not one', { email: 'not-an-address', kind: 'newsletter', listId: newsletter.id }, 400, 'invalid_email'],
      ['an unknown contact', { contactId: missing, kind: 'newsletter', listId: newsletter.id }, 404, 'contact_not_found'],
      ['course mail without a course', { contactId: contact.id, kind: 'course' }, 422, 'course_required'],
      ['an unknown course', { contactId: contact.id, kind: 'course', courseId: 'no-such-course' }, 404, 'course_not_found'],
      ['a newsletter without a list', { contactId: contact.id, kind: 'newsletter' }, 422, 'list_required'],
      ['marketing without a list', { contactId: contact.id, kind: 'marketing' }, 422, 'list_required'],
      ['transactional without a list', { contactId: contact.id, kind: 'transactional' }, 422, 'list_required'],
      ['an unknown list', { contactId: contact.id, kind: 'newsletter', listId: missing }, 404, 'list_not_found'],
      ['a newsletter to a marketing list', { contactId: contact.id, kind: 'newsletter', listId: marketing.id }, 422, 'kind_list_mismatch'],
      ['marketing to a newsletter list', { contactId: contact.id, kind: 'marketing', listId: newsletter.id }, 422, 'kind_list_mismatch'],
      ['transactional to a newsletter list', { contactId: contact.id, kind: 'transactional', listId: newsletter.id }, 422, 'kind_list_mismatch'],
      ['a newsletter to a course list', { contactId: contact.id, kind: 'newsletter', listId: course.listId }, 422, 'kind_list_mismatch'],
      ['course mail with another list', { contactId: contact.id, kind: 'course', courseId: 'yoga-107', listId: receipts.id }, 422, 'kind_list_mismatch'],
      ['an unknown kind', { contactId: contact.id, kind: 'sms', listId: newsletter.id }, 400, 'validation_failed'],
      ['an unknown field', { contactId: contact.id, kind: 'newsletter', listId: newsletter.id, campaign: 'x' }, 400, 'validation_failed'],
      ['a list id that is not a uuid', { contactId: contact.id, kind: 'newsletter', listId: 'abc' }, 400, 'validation_failed'],
      ['no recipient and no list: the recipient speaks first', { kind: 'newsletter' }, 400, 'recipient_required'],
      ['a bad address and no list: the address speaks first', { email: 'nope', kind: 'newsletter' }, 400, 'invalid_email'],
      ['an unknown contact and no list: the shape speaks first', { contactId: missing, kind: 'newsletter' }, 422, 'list_required'],
    ]
    for (const [name, payload, status, code] of cases) {
      const res = await decide(app, payload)
      t.equal(res.statusCode, status, `${name}: status`)
      t.equal(res.json().code, code, `${name}: code`)
      t.match(res.headers['content-type'], /^application\/problem\+json/, `${name}: a problem document`)
    }
  })

  t.test('asking for a decision changes nothing: no ledger row, no consent event, no audit entry', async (t) => {
    // Its own app: the proof is about the whole database — the whole ledger empty,
    // the whole audit table unchanged — not only the rows of this test's contact.
    const app = await build(t)
    const list = await createList(app, { kind: 'newsletter' })
    const contact = await createContact(app)
    await subscribe(app, list.id, { contactId: contact.id, consent: consentPayload() })
    const snapshot = async () => ({
      ledger: (await app.as('staff')({ method: 'GET', url: '/v1/ledger' })).json().items,
      consents: (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items,
      audit: await app.app.db.$count(auditEvents),
    })
    const before = await snapshot()
    for (let i = 0; i < 3; i++) await decided(app, { contactId: contact.id, kind: 'newsletter', listId: list.id })
    await decided(app, { email: uniqueEmail('nobody'), kind: 'newsletter', listId: list.id })
    t.same(await snapshot(), before)
    t.same(before.ledger, [])
  })

  t.test('the course system may ask about course and transactional mail only, never about a person\'s choices', async (t) => {
    const contact = await createContact(app)
    const news = await createList(app, { kind: 'newsletter' })
    const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
    await subscribe(app, news.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    await suppress(app, { contactId: contact.id, scope: 'list', listId: offers.id, reason: 'objection' })
    for (const [kind, listId] of [['newsletter', news.id], ['marketing', offers.id]]) {
      const res = await decide(app, { contactId: contact.id, kind, listId }, 'course-system')
      t.equal(res.statusCode, 403, kind)
      t.equal(res.json().code, 'forbidden')
      t.notMatch(res.body, /allowed|evidence|reason"/, 'nothing of the answer leaks')
      t.equal((await decide(app, { contactId: contact.id, kind, listId }, 'staff')).statusCode, 200, `staff may ask about ${kind}`)
    }
  })

  t.test('the course system, staff and admins may ask; nobody else', async (t) => {
    const list = await createList(app, { kind: 'transactional' })
    const payload = { email: uniqueEmail(), kind: 'transactional', listId: list.id }
    for (const role of ['course-system', 'staff', 'admin'] as const) {
      t.equal((await decide(app, payload, role)).statusCode, 200, role)
    }
    const anonymous = await app.as(null)({ method: 'POST', url: '/v1/decisions', payload })
    t.equal(anonymous.statusCode, 401)
    const forged = await app.app.inject({
      method: 'POST',
      url: '/v1/decisions',
      payload,
      headers: { authorization: `Bearer ${app.token('staff', { secret: 'another-secret-another-secret-42!!' })}` },
    })
    t.equal(forged.statusCode, 401)
  })
})
