import t from 'tap'
import { storedAddressHash } from '../../src/lib/email.js'
import { systemActor } from '../../src/lib/actor.js'
import { askerOf, consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, PEPPER } from '../helper.js'

// Erasure (src/data-subject-requests/erasure.ts) writes its tombstone through
// the same suppressIn used here, keyed by the address hash alone.
t.test('an address under an erasure tombstone may enter a new contract, and marketing stays blocked', async (t) => {
  const app = await build(t)
  const email = uniqueEmail('erased')
  const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
  const news = await createList(app, { kind: 'newsletter' })
  await app.app.services.suppressions.suppressIn(app.app.db, systemActor, app.clock.now(), { contactId: null, addressHash: storedAddressHash(email, PEPPER) }, {
    scope: 'global',
    reason: 'erasure',
  })
  app.clock.advance(60_000)

  await putCourse(app, 'C1')
  const enrolled = await putEnrollment(app, 'E1', { courseId: 'C1', contact: { email } })
  t.equal(enrolled.statusCode, 201, 'the new contract is accepted')
  const { contactId } = enrolled.json()

  const ask = async (payload: Record<string, unknown>) =>
    (await app.as(askerOf(payload.kind))({ method: 'POST', url: '/v1/decisions', payload: { email, ...payload } })).json()
  t.match(await ask({ kind: 'course', courseId: 'C1' }), { allowed: true, basis: 'contract', evidence: { type: 'enrollment', id: 'E1' } })
  t.match(await ask({ kind: 'marketing', listId: offers.id }), { allowed: false, reason: 'erased' }, 'the purchase does not open marketing')

  await subscribe(app, news.id, { contactId, source: 'staff', consent: consentPayload() })
  t.match(await ask({ kind: 'newsletter', listId: news.id }), { allowed: false, reason: 'erased' }, 'a consent staff recorded does not lift it')
  await subscribe(app, offers.id, { contactId, source: 'form', consent: consentPayload() })
  t.match(await ask({ kind: 'marketing', listId: offers.id }), { allowed: true, basis: 'consent' }, "the person's own new consent does")
})

t.test('an enrolled person under an erasure tombstone: no contract, so no course lock anywhere', async (t) => {
  const app = await build(t)
  const email = uniqueEmail('erased-enrolled')
  const course = await putCourse(app, 'C2')
  const { contactId } = (await putEnrollment(app, 'E2', { courseId: 'C2', contact: { email } })).json()
  app.clock.advance(60_000)
  await app.app.services.suppressions.suppressIn(app.app.db, systemActor, app.clock.now(), { contactId, addressHash: storedAddressHash(email, PEPPER) }, {
    scope: 'global',
    reason: 'erasure',
  })
  app.clock.advance(60_000)

  const decision = (await app.as('course-system')({ method: 'POST', url: '/v1/decisions', payload: { email, kind: 'course', courseId: 'C2' } })).json()
  t.match(decision, { allowed: false, reason: 'erased', lockedUntil: null, rule: 'contract_erased' })

  const explained = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/explain` })).json()
  const courseExplained = explained.courses.find((c: { course: { id: string } }) => c.course.id === 'C2')
  t.match(courseExplained, { lockedUntil: null, decision: { allowed: false, reason: 'erased', lockedUntil: null } }, 'explain shows the same: no lock')

  const leave = await app.as('staff')({ method: 'POST', url: `/v1/lists/${course.listId}/subscriptions/${contactId}/unsubscribe`, payload: { source: 'link' } })
  t.equal(leave.statusCode, 200, 'leaving the course list is not refused: nothing locks it')
  t.equal(leave.json().status, 'unsubscribed')
})
