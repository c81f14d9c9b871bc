// The opt-out lock of a course list while enrolled, and unsubscribe-all. One app
// for the file: each test enrolls in a course of its own.
import t, { type Test } from 'tap'
import { consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'

const DAY = 24 * 60 * 60 * 1000

/** A course and an active enrollment in it, with ids of the test's own: C-<tag> and E-<tag>. */
async function enrolled(app: TestApp, tag: string) {
  const courseId = `C-${tag}`
  const enrollmentId = `E-${tag}`
  const course = await putCourse(app, courseId)
  const res = await putEnrollment(app, enrollmentId, { courseId, contact: { email: uniqueEmail() } })
  return { course, courseId, enrollmentId, contactId: res.json().contactId as string }
}

const unsubscribe = (app: TestApp, listId: string, contactId: string) =>
  app.as('staff')({ method: 'POST', url: `/v1/lists/${listId}/subscriptions/${contactId}/unsubscribe`, payload: { source: 'link' } })

/** For a test that moves the shared clock: put it back when the test ends, for the tests after it. */
function restoreClockAfter(t: Test, app: TestApp) {
  const start = app.clock.now()
  t.teardown(() => app.clock.set(start))
}

t.test('the course-list lock', async (t) => {
  const app = await build(t)

  t.test('unsubscribing from a course list while enrolled is refused with the date the lock ends', async (t) => {
    const { course, contactId } = await enrolled(app, 'locked')
    const res = await unsubscribe(app, course.listId, contactId)
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, 'optout_locked_by_enrollment')
    t.equal(res.json().lockedUntil, course.endsAt)
    const members = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${course.listId}/subscriptions` })).json().items
    t.equal(members[0].status, 'active', 'still on the course list')
  })

  t.test('the stored wish is carried out when the enrollment is completed', async (t) => {
    restoreClockAfter(t, app)
    const { course, courseId, enrollmentId, contactId } = await enrolled(app, 'completed')
    await unsubscribe(app, course.listId, contactId)
    await unsubscribe(app, course.listId, contactId) // asking twice is one wish

    app.clock.advanceDays(3)
    const done = await putEnrollment(app, enrollmentId, { courseId, contact: { email: (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}` })).json().email }, status: 'completed' })
    t.equal(done.statusCode, 200)
    t.ok(done.json().endedAt)
    const members = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${course.listId}/subscriptions` })).json().items
    t.equal(members[0].status, 'unsubscribed')
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items
    t.same(history.map((e: { type: string }) => e.type), ['granted', 'withdrawn'], 'one withdrawal, when the lock ended')
    t.equal(history[1].source, 'link', 'with the source of the original wish')
  })

  t.test('after the course has ended by date, unsubscribing from the course list takes effect at once', async (t) => {
    restoreClockAfter(t, app)
    const { course, contactId } = await enrolled(app, 'ended')
    app.clock.set(new Date(new Date(course.endsAt).getTime() + DAY))
    const res = await unsubscribe(app, course.listId, contactId)
    t.equal(res.statusCode, 200)
    t.equal(res.json().status, 'unsubscribed')
  })

  t.test('unsubscribe-all: every other list at once, the course list at course end, and a global suppression', async (t) => {
    const { course, courseId, contactId } = await enrolled(app, 'unsubscribe-all')
    const news = await createList(app, { kind: 'newsletter' })
    const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
    const receipts = await createList(app, { kind: 'transactional' })
    await subscribe(app, news.id, { contactId, consent: consentPayload() })
    await subscribe(app, offers.id, { contactId })
    await subscribe(app, receipts.id, { contactId })

    const res = await app.as('staff')({ method: 'POST', url: `/v1/contacts/${contactId}/unsubscribe-all`, payload: { source: 'form', evidence: 'email to support' } })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.same(body.effectiveNow.map((l: { listId: string }) => l.listId).sort(), [news.id, offers.id].sort())
    t.same(body.deferred, [{ listId: course.listId, slug: body.deferred[0].slug, courseId, takesEffectAt: course.endsAt }])
    const suppression = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions/${body.suppressionId}` })).json()
    t.match(suppression, { scope: 'global', reason: 'unsubscribe', contactId })

    const subs = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/subscriptions` })).json().items
    const status = Object.fromEntries(subs.map((s: { listId: string; status: string }) => [s.listId, s.status]))
    t.equal(status[news.id], 'unsubscribed')
    t.equal(status[offers.id], 'unsubscribed')
    t.equal(status[course.listId], 'active', 'course list held until the course ends')
    t.equal(status[receipts.id], 'active', 'transactional mail is not opted out of')

    const again = await app.as('staff')({ method: 'POST', url: `/v1/contacts/${contactId}/unsubscribe-all`, payload: { source: 'form' } })
    t.equal(again.json().suppressionId, body.suppressionId, 'asking again writes no second suppression')
  })

  t.test('a cancelled enrollment releases the lock at once', async (t) => {
    const { course, courseId, enrollmentId, contactId } = await enrolled(app, 'cancelled')
    const email = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}` })).json().email
    await putEnrollment(app, enrollmentId, { courseId, contact: { email }, status: 'cancelled' })
    const res = await unsubscribe(app, course.listId, contactId)
    t.equal(res.statusCode, 200)
  })

  t.test('unsubscribe-all for an unknown contact is a 404', async (t) => {
    const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts/00000000-0000-4000-8000-000000000000/unsubscribe-all', payload: { source: 'staff' } })
    t.equal(res.statusCode, 404)
  })
})
