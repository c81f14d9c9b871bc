// Courses and enrollments from the course system. One app for the file: each
// test uses its own course and enrollment ids and its own addresses.
import t from 'tap'
import { createContact, putCourse, putEnrollment, uniqueEmail } from '../factories.js'
import { auditTrail, build } from '../helper.js'

t.test('courses and enrollments', async (t) => {
  const app = await build(t)

  t.test('the course system creates a course with its own course list, idempotently', async (t) => {
    const payload = { name: 'Yoga for beginners', category: 'yoga', startsAt: '2026-04-01T08:00:00.000Z', endsAt: '2026-06-01T16:00:00.000Z' }
    const first = await app.as('course-system')({ method: 'PUT', url: '/v1/courses/YOGA-2026-1', payload })
    t.equal(first.statusCode, 201)
    t.match(first.json(), { id: 'YOGA-2026-1', name: 'Yoga for beginners', category: 'yoga', startsAt: '2026-04-01T08:00:00.000Z' })
    const again = await app.as('course-system')({ method: 'PUT', url: '/v1/courses/YOGA-2026-1', payload })
    t.equal(again.statusCode, 200)
    t.equal(again.json().listId, first.json().listId)

    const list = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${first.json().listId}` })).json()
    t.match(list, { kind: 'course', basis: 'contract', courseId: 'YOGA-2026-1', name: 'Yoga for beginners' })

    const renamed = await app.as('course-system')({ method: 'PUT', url: '/v1/courses/YOGA-2026-1', payload: { ...payload, name: 'Yoga 1' } })
    t.equal(renamed.statusCode, 200)
    const relisted = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${first.json().listId}` })).json()
    t.equal(relisted.name, 'Yoga 1', 'the course list follows the course name')
    const trail = await app.as('staff')({ method: 'GET', url: `/v1/audit?entityType=list&entityId=${first.json().listId}` })
    t.match(trail.json().items, [
      { action: 'list.created', actorRole: 'course-system' },
      { action: 'list.updated', actorRole: 'course-system', changedFields: ['name', 'description'], changes: { name: { from: 'Yoga for beginners', to: 'Yoga 1' } } },
    ], 'the rename of the list is audited like any change to a list')
  })

  t.test('a course that ends before it starts is refused and nothing is stored', async (t) => {
    const res = await app.as('course-system')({
      method: 'PUT',
      url: '/v1/courses/BACKWARDS',
      payload: { name: 'x', category: 'yoga', startsAt: '2026-06-01T00:00:00.000Z', endsAt: '2026-04-01T00:00:00.000Z' },
    })
    t.equal(res.statusCode, 422)
    t.equal(res.json().code, 'course_ends_before_start')
    const get = await app.as('course-system')({ method: 'GET', url: '/v1/courses/BACKWARDS' })
    t.equal(get.statusCode, 404)
    t.equal(get.json().code, 'course_not_found')
  })

  t.test('course ids and dates are validated', async (t) => {
    const badId = await app.as('course-system')({
      method: 'PUT',
      url: '/v1/courses/has%20space',
      payload: { name: 'x', category: 'yoga', startsAt: '2026-04-01T00:00:00.000Z', endsAt: '2026-06-01T00:00:00.000Z' },
    })
    t.equal(badId.statusCode, 400)
    const badDate = await app.as('course-system')({
      method: 'PUT',
      url: '/v1/courses/C-bad-date',
      payload: { name: 'x', category: 'yoga', startsAt: 'tomorrow', endsAt: '2026-06-01T00:00:00.000Z' },
    })
    t.equal(badDate.statusCode, 400)
    t.equal(badDate.json().errors[0].field, 'body.startsAt')
  })

  t.test('an enrollment upserts the contact, puts them on the course list and records the contract', async (t) => {
    const course = await putCourse(app, 'C-upsert')
    const email = uniqueEmail('kari')
    const res = await putEnrollment(app, 'E-upsert', { courseId: 'C-upsert', contact: { email, name: 'Kari' }, keepDataAfterCourse: true })
    t.equal(res.statusCode, 201)
    const enrollment = res.json()
    t.match(enrollment, { id: 'E-upsert', courseId: 'C-upsert', status: 'active', keepDataAfterCourse: true, marketingOptOut: false, endedAt: null })

    const contacts = (await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}` })).json().items
    t.equal(contacts.length, 1)
    t.equal(contacts[0].id, enrollment.contactId)
    t.equal(contacts[0].name, 'Kari')

    const members = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${course.listId}/subscriptions` })).json().items
    t.match(members, [{ contactId: enrollment.contactId, status: 'active', source: 'enrollment' }])
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${enrollment.contactId}/consents` })).json().items
    t.match(history, [{ type: 'granted', basis: 'contract', source: 'enrollment', listId: course.listId, purpose: 'course', actorRole: 'course-system' }])

    const again = await putEnrollment(app, 'E-upsert', { courseId: 'C-upsert', contact: { email: email.toUpperCase() }, keepDataAfterCourse: true })
    t.equal(again.statusCode, 200, 'the same enrollment again is an update, matched by address ignoring case')
    const history2 = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${enrollment.contactId}/consents` })).json().items
    t.equal(history2.length, 1, 'an unchanged enrollment writes no new event')
  })

  t.test('an enrollment never rewrites or clears a contact; it fills what is empty, audited as the course system\'s rectification', async (t) => {
    await putCourse(app, 'C-rectify')
    const kari = await createContact(app, { email: uniqueEmail('kari'), name: 'Kari Nordmann', phone: '+47 900 00 000' })

    // The course system names Kari's address with another name, no phone, and an address she never gave.
    const res = await putEnrollment(app, 'E-rectify', {
      courseId: 'C-rectify',
      contact: { email: kari.email, name: 'Someone Else', phone: null, address: 'Storgata 1, Oslo', locale: 'en' },
    })
    t.equal(res.statusCode, 201)
    t.equal(res.json().contactId, kari.id)
    const after = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${kari.id}` })).json()
    t.match(after, { name: 'Kari Nordmann', phone: '+47 900 00 000', locale: 'nb' }, 'name, phone and locale are as staff left them')
    t.equal(after.address, 'Storgata 1, Oslo', 'the empty address is filled')

    const trail = await auditTrail(app, 'contact', kari.id)
    t.match(trail.at(-1), {
      action: 'contact.rectified',
      actorRole: 'course-system',
      changes: { address: { from: null, to: 'Storgata 1, Oslo' } },
    })
    t.notOk('name' in (trail.at(-1)!.changes ?? {}), 'nothing about the name was changed')

    const again = await putEnrollment(app, 'E-rectify', { courseId: 'C-rectify', contact: { email: kari.email, name: 'Someone Else', address: 'Elsewhere 2' } })
    t.equal(again.statusCode, 200)
    t.equal((await auditTrail(app, 'contact', kari.id)).length, trail.length, 'a filled field is not filled again')
  })

  t.test('a declined marketing offer is recorded as an objection to marketing', async (t) => {
    await putCourse(app, 'C-declined')
    const res = await putEnrollment(app, 'E-declined', { courseId: 'C-declined', contact: { email: uniqueEmail() }, marketingOptOut: true })
    const { contactId } = res.json()
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items
    t.match(history[1], { type: 'objected', purpose: 'marketing', listId: null, source: 'enrollment' })
    const suppressions = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${contactId}` })).json().items
    t.match(suppressions, [{ scope: 'purpose', purpose: 'marketing', reason: 'objection' }])
  })

  t.test('bad enrollments are refused and nothing is half-written', async (t) => {
    await putCourse(app, 'C-bad-1')
    await putCourse(app, 'C-bad-2')
    const email = uniqueEmail()

    const unknownCourse = await putEnrollment(app, 'E-bad-0', { courseId: 'NOPE', contact: { email } })
    t.equal(unknownCourse.statusCode, 404)
    t.equal(unknownCourse.json().code, 'course_not_found')
    const none = (await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}` })).json().items
    t.same(none, [], 'the contact was not created either')

    await putEnrollment(app, 'E-bad-1', { courseId: 'C-bad-1', contact: { email } })
    const moved = await putEnrollment(app, 'E-bad-1', { courseId: 'C-bad-2', contact: { email } })
    t.equal(moved.statusCode, 409)
    t.equal(moved.json().code, 'enrollment_course_changed')

    const otherPerson = uniqueEmail('other')
    const swapped = await putEnrollment(app, 'E-bad-1', { courseId: 'C-bad-1', contact: { email: otherPerson } })
    t.equal(swapped.statusCode, 409)
    t.equal(swapped.json().code, 'enrollment_contact_changed')
    const ghost = (await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(otherPerson)}` })).json().items
    t.same(ghost, [], 'the other person was not left behind')

    const badEmail = await putEnrollment(app, 'E-bad-2', { courseId: 'C-bad-1', contact: { email: 'not-an-address' } })
    t.equal(badEmail.statusCode, 400)
    t.equal(badEmail.json().code, 'invalid_email')
    const missingOptOut = await app.as('course-system')({
      method: 'PUT',
      url: '/v1/enrollments/E-bad-3',
      payload: { courseId: 'C-bad-1', contact: { email }, status: 'active' },
    })
    t.equal(missingOptOut.statusCode, 400, 'whether the opt-out was offered must be said')
    t.equal(missingOptOut.json().errors[0].field, 'body.marketingOptOut')
  })

  t.test('staff may enroll, but only the course-system, staff and admin roles reach these routes', async (t) => {
    const anon = await app.as(null)({ method: 'PUT', url: '/v1/courses/C-anonymous', payload: {} })
    t.equal(anon.statusCode, 401)
    const cs = await app.as('course-system')({ method: 'GET', url: '/v1/contacts' })
    t.equal(cs.statusCode, 403, 'the course system does not browse contacts')
  })

  t.test('concurrent puts of one new enrollment make one enrollment, one contact and one event', async (t) => {
    await putCourse(app, 'C-race')
    const email = uniqueEmail('race')
    const results = await Promise.all(Array.from({ length: 4 }, () => putEnrollment(app, 'E-race', { courseId: 'C-race', contact: { email } })))
    t.same(results.map((r) => r.statusCode).sort(), [200, 200, 200, 201])
    const contactId = results[0]!.json().contactId
    t.ok(results.every((r) => r.json().contactId === contactId))
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items
    t.equal(history.length, 1)
  })
})
