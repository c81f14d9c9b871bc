// GET /v1/contacts/{id}/explain: why each list and course would or would not
// get mail, from stored data alone — and the same answer POST /v1/decisions gives.
// One app for the file: each test makes its own contacts, lists and courses.
import t, { type Test } from 'tap'
import { askerOf, consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'

const explain = (app: TestApp, id: string, role: 'staff' | 'admin' | 'course-system' = 'staff') =>
  app.as(role)({ method: 'GET', url: `/v1/contacts/${id}/explain` })

async function explained(app: TestApp, id: string) {
  const res = await explain(app, id)
  if (res.statusCode !== 200) throw new Error(`explain: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** An explained decision is the decision's answer plus its rule in words. */
function withoutText({ ruleText, ...decision }: Record<string, unknown>) {
  if (typeof ruleText !== 'string' || ruleText.length === 0) throw new Error('an explained decision says its rule in words')
  return decision
}

async function decision(app: TestApp, payload: Record<string, unknown>) {
  const res = await app.as(askerOf(payload.kind))({ method: 'POST', url: '/v1/decisions', payload })
  if (res.statusCode !== 200) throw new Error(`decide: ${res.statusCode} ${res.body}`)
  const { contactId, decidedAt, ...rest } = res.json()
  return rest
}

async function enroll(app: TestApp, id: string, body: Record<string, unknown>) {
  const res = await putEnrollment(app, id, body)
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`enroll: ${res.statusCode} ${res.body}`)
  return res.json()
}

interface ListEntry {
  list: { id: string; slug: string; kind: string }
  decision: Record<string, unknown>
  subscription: { id: string; status: string } | null
  consentEvents: { id: string; type: string; listId: string | null; purpose: string; notice: unknown }[]
  suppressions: { id: string; reason: string; scope: string; active: boolean }[]
}

async function courseListSlug(app: TestApp, listId: string) {
  return (await app.as('staff')({ method: 'GET', url: `/v1/lists/${listId}` })).json().slug
}

/** For a test that moves the shared clock: put it back when the test ends, for the tests after it. */
function restoreClockAfter(t: Test, app: TestApp) {
  const start = app.clock.now()
  t.teardown(() => app.clock.set(start))
}

t.test('explaining a contact', async (t) => {
  const app = await build(t)

  t.test('every list and course is explained with the answer the decision endpoint gives, and the rows behind it', async (t) => {
    // Its own app: it proves that every open list is explained, so it needs a
    // database holding only the lists it made.
    const app = await build(t)
    const newsletter = await createList(app, { kind: 'newsletter', slug: 'news' })
    const offers = await createList(app, { kind: 'marketing', slug: 'yoga-offers', categories: ['yoga'] })
    const receipts = await createList(app, { kind: 'transactional', slug: 'receipts' })
    const course = await putCourse(app, 'yoga-301')
    const enrollment = await enroll(app, 'enr-301', { courseId: 'yoga-301', contact: { email: uniqueEmail() } })
    const contactId = enrollment.contactId
    await subscribe(app, newsletter.id, { contactId, source: 'form', consent: consentPayload() })

    const body = await explained(app, contactId)
    t.equal(body.contactId, contactId)
    t.equal(body.explainedAt, app.clock.now().toISOString())
    const bySlug = new Map<string, ListEntry>(body.lists.map((e: ListEntry) => [e.list.slug, e]))
    t.same([...bySlug.keys()].sort(), ['news', 'receipts', 'yoga-offers', course.listId && (await courseListSlug(app, course.listId))].sort(), 'open lists and the course list the contact is on')

    for (const [slug, list] of [['news', newsletter], ['yoga-offers', offers], ['receipts', receipts]] as const) {
      const entry = bySlug.get(slug)!
      t.same(withoutText(entry.decision), await decision(app, { contactId, kind: list.kind, listId: list.id }), `${slug}: the same answer as POST /v1/decisions`)
    }
    const news = bySlug.get('news')!
    t.match(news, { list: { id: newsletter.id, kind: 'newsletter', purpose: 'newsletter' }, decision: { allowed: true, basis: 'consent' }, subscription: { status: 'active' } })
    t.same(news.consentEvents.map((e) => e.type), ['granted'])
    t.equal(news.decision.evidence && (news.decision.evidence as { id: string }).id, news.consentEvents[0]!.id, 'the evidence is among the events shown')
    t.match(news.consentEvents[0], { source: 'form', notice: { key: 'newsletter-signup', version: 1 } })

    const marketing = bySlug.get('yoga-offers')!
    t.match(marketing, { decision: { allowed: true, basis: 'legitimate_interest', evidence: { type: 'enrollment', id: 'enr-301' } }, subscription: null, consentEvents: [], suppressions: [] })
    t.match(bySlug.get('receipts'), { decision: { allowed: true, basis: 'contract', evidence: { type: 'list', id: receipts.id } } })

    t.equal(body.courses.length, 1)
    const [explainedCourse] = body.courses
    t.same(withoutText(explainedCourse.decision), await decision(app, { contactId, kind: 'course', courseId: 'yoga-301' }))
    t.match(explainedCourse, {
      course: { id: 'yoga-301', name: course.name, category: 'yoga', startsAt: course.startsAt, endsAt: course.endsAt },
      decision: { allowed: true, basis: 'contract', evidence: { type: 'enrollment', id: 'enr-301' }, lockedUntil: course.endsAt },
      lockedUntil: course.endsAt,
      deferredUnsubscribe: null,
    })
    t.match(explainedCourse.enrollments, [{ id: 'enr-301', status: 'active', marketingOptOut: false, endedAt: null }])
    t.same(body.suppressions, [])
  })

  t.test('an objection at enrollment shows as the objected event and the suppression that block marketing', async (t) => {
    const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
    const news = await createList(app, { kind: 'newsletter' })
    await putCourse(app, 'yoga-302')
    const { contactId } = await enroll(app, 'enr-302', { courseId: 'yoga-302', contact: { email: uniqueEmail() }, marketingOptOut: true })

    const body = await explained(app, contactId)
    const entry = body.lists.find((e: ListEntry) => e.list.id === offers.id) as ListEntry
    t.same(withoutText(entry.decision), await decision(app, { contactId, kind: 'marketing', listId: offers.id }))
    t.match(entry.decision, { allowed: false, reason: 'objection', evidence: { type: 'suppression' } })
    t.match(entry.consentEvents, [{ type: 'objected', listId: null, purpose: 'marketing', source: 'enrollment' }])
    t.equal(entry.suppressions.length, 1)
    t.match(entry.suppressions[0], { id: (entry.decision.evidence as { id: string }).id, scope: 'purpose', reason: 'objection', active: true })

    const newsEntry = body.lists.find((e: ListEntry) => e.list.id === news.id) as ListEntry
    t.same(newsEntry.suppressions, [], 'a marketing objection does not apply to the newsletter')
    t.same(newsEntry.consentEvents, [])
    t.match(newsEntry.decision, { allowed: false, reason: 'not_subscribed' })
    t.equal(body.suppressions.length, 1)
  })

  t.test('an opt-out from the course list during the course is shown as deferred until the course ends', async (t) => {
    restoreClockAfter(t, app)
    const course = await putCourse(app, 'yoga-303')
    const { contactId } = await enroll(app, 'enr-303', { courseId: 'yoga-303', contact: { email: uniqueEmail() } })
    const optOut = await app.as('staff')({
      method: 'POST',
      url: `/v1/lists/${course.listId}/subscriptions/${contactId}/unsubscribe`,
      payload: { source: 'link' },
    })
    t.equal(optOut.statusCode, 409)
    t.equal(optOut.json().code, 'optout_locked_by_enrollment')
    t.equal(optOut.json().lockedUntil, course.endsAt)

    const body = await explained(app, contactId)
    const [explainedCourse] = body.courses
    t.same(explainedCourse.deferredUnsubscribe, { requestedAt: app.clock.now().toISOString(), takesEffectAt: course.endsAt, appliedAt: null })
    t.match(explainedCourse.decision, { allowed: true, lockedUntil: course.endsAt }, 'course mail still goes meanwhile')
    const listEntry = body.lists.find((e: ListEntry) => e.list.id === course.listId) as ListEntry
    t.match(listEntry, { list: { kind: 'course' }, subscription: { status: 'active' }, decision: { allowed: true, basis: 'contract' } })

    app.clock.set(new Date(new Date(course.endsAt).getTime() + 1000))
    const after = await explained(app, contactId)
    t.match(after.courses[0], {
      decision: { allowed: false, reason: 'enrollment_ended' },
      lockedUntil: null,
      deferredUnsubscribe: { takesEffectAt: app.clock.now().toISOString(), appliedAt: null },
    }, 'with the lock gone, the wish is due now')
  })

  t.test('unsubscribe-all during a course: every other list stops now, the course list is deferred', async (t) => {
    const news = await createList(app, { kind: 'newsletter' })
    const receipts = await createList(app, { kind: 'transactional' })
    const course = await putCourse(app, 'yoga-304')
    const { contactId } = await enroll(app, 'enr-304', { courseId: 'yoga-304', contact: { email: uniqueEmail() } })
    await subscribe(app, news.id, { contactId, consent: consentPayload() })
    const res = await app.as('staff')({ method: 'POST', url: `/v1/contacts/${contactId}/unsubscribe-all`, payload: { source: 'link' } })
    t.equal(res.statusCode, 200)

    const body = await explained(app, contactId)
    const newsEntry = body.lists.find((e: ListEntry) => e.list.id === news.id) as ListEntry
    t.same(withoutText(newsEntry.decision), await decision(app, { contactId, kind: 'newsletter', listId: news.id }))
    t.match(newsEntry, { decision: { allowed: false, reason: 'unsubscribed' }, subscription: { status: 'unsubscribed' } })
    t.same(newsEntry.consentEvents.map((e) => e.type), ['granted', 'withdrawn'])
    t.ok(newsEntry.suppressions.some((s) => s.scope === 'global' && s.reason === 'unsubscribe'), 'the global suppression applies to it')

    const receiptsEntry = body.lists.find((e: ListEntry) => e.list.id === receipts.id) as ListEntry
    t.match(receiptsEntry, { decision: { allowed: true }, suppressions: [] }, 'transactional mail is untouched')

    t.match(body.courses[0], { decision: { allowed: true }, deferredUnsubscribe: { takesEffectAt: course.endsAt, appliedAt: null } })
  })

  t.test('a lifted suppression is kept for the record but no longer applies to any list', async (t) => {
    const news = await createList(app, { kind: 'newsletter' })
    const contact = await createContact(app)
    await subscribe(app, news.id, { contactId: contact.id, consent: consentPayload() })
    const manual = (await app.as('staff')({ method: 'POST', url: '/v1/suppressions', payload: { contactId: contact.id, scope: 'global', reason: 'manual' } })).json()

    let body = await explained(app, contact.id)
    let entry = body.lists.find((e: ListEntry) => e.list.id === news.id) as ListEntry
    t.match(entry, { decision: { allowed: false, reason: 'manual_block', evidence: { id: manual.id } }, suppressions: [{ id: manual.id, active: true }] })

    const lift = await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${manual.id}/lift`, payload: { reason: 'entered by mistake' } })
    t.equal(lift.statusCode, 200)
    body = await explained(app, contact.id)
    entry = body.lists.find((e: ListEntry) => e.list.id === news.id) as ListEntry
    t.match(entry, { decision: { allowed: true }, suppressions: [] })
    t.match(body.suppressions, [{ id: manual.id, active: false, liftReason: 'entered by mistake' }])
    t.ok(body.suppressions[0].liftedAt)
  })

  t.test('archived lists are explained only when the contact is on them', async (t) => {
    const kept = await createList(app, { kind: 'newsletter' })
    const gone = await createList(app, { kind: 'newsletter' })
    const contact = await createContact(app)
    await subscribe(app, kept.id, { contactId: contact.id, consent: consentPayload() })
    for (const list of [kept, gone]) await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/archive` })
    const body = await explained(app, contact.id)
    // The open lists of the other tests are explained too: look at this test's two lists.
    const mine = body.lists.filter((e: ListEntry) => e.list.id === kept.id || e.list.id === gone.id)
    t.same(mine.map((e: ListEntry) => e.list.slug), [kept.slug])
    t.match(mine[0].decision, { allowed: false, reason: 'list_archived' })
    t.same(body.courses, [])
  })

  t.test('explaining an unknown contact is a 404, and only staff and admins may ask', async (t) => {
    const missing = await explain(app, '00000000-0000-4000-8000-000000000000')
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'contact_not_found')
    t.equal((await explain(app, 'not-a-uuid')).statusCode, 400)
    const contact = await createContact(app)
    t.equal((await explain(app, contact.id, 'admin')).statusCode, 200)
    t.equal((await explain(app, contact.id, 'course-system')).statusCode, 403)
    t.equal((await app.as(null)({ method: 'GET', url: `/v1/contacts/${contact.id}/explain` })).statusCode, 401)
  })
})
