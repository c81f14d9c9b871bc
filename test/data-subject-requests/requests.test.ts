// Data-subject requests through the API: registered with their due date,
// listed open and overdue, taken through their steps (every one audited),
// carried out where the service can (restriction, objection), and refused
// cleanly where the input is wrong — with nothing stored.
import t from 'tap'
import { systemActor } from '../../src/lib/actor.js'
import { askDecision, createContact, createList, putCourse, putEnrollment, subscribe, consentPayload, uniqueEmail } from '../factories.js'
import { auditTrail, build, TestClock } from '../helper.js'

t.test('data-subject requests', async (t) => {
  // Monday 30 March 2026, 10:00 in Oslo: Easter week lies ahead.
  const clock = new TestClock(new Date('2026-03-30T08:00:00Z'))
  const app = await build(t, { clock })
  const staff = app.as('staff')
  const post = (payload: Record<string, unknown>) => staff({ method: 'POST', url: '/v1/requests', payload })

  t.test('a request is registered with its due date, by contact or by an address we may not hold', async (t) => {
    const contact = await createContact(app)
    const res = await post({ type: 'access', channel: 'email', contactId: contact.id, details: 'Vil ha kopi av alt' })
    t.equal(res.statusCode, 201)
    const request = res.json()
    t.match(request, {
      type: 'access',
      status: 'open',
      channel: 'email',
      contactId: contact.id,
      details: 'Vil ha kopi av alt',
      receivedAt: '2026-03-30T08:00:00.000Z',
      dueOn: '2026-04-18',
      dueAt: '2026-04-18T21:59:59.999Z',
      dueLimit: 'working_days',
      overdue: false,
      dueSoon: false,
      createdById: 'staff:test',
    })
    t.equal(res.headers.location, `/v1/requests/${request.id}`)

    const unknown = await post({ type: 'erasure', channel: 'letter', email: uniqueEmail('stranger'), receivedAt: '2026-03-27T12:00:00Z' })
    t.equal(unknown.statusCode, 201)
    t.match(unknown.json(), { contactId: null, receivedAt: '2026-03-27T12:00:00.000Z', dueOn: '2026-04-16' }, 'a letter that came on Friday is due from Friday')
    t.same(
      (await auditTrail(app, 'request', request.id)).map((e: { action: string }) => e.action),
      ['request.received'],
    )
  })

  t.test('bad requests are refused with a code and store nothing', async (t) => {
    const contact = await createContact(app)
    const before = (await staff({ method: 'GET', url: '/v1/requests?limit=200' })).json().items.length
    const cases: [Record<string, unknown>, number, string][] = [
      [{ type: 'access', channel: 'email', contactId: contact.id, email: contact.email }, 400, 'recipient_ambiguous'],
      [{ type: 'access', channel: 'email' }, 400, 'recipient_required'],
      [{ type: 'access', channel: 'email', contactId: '00000000-0000-4000-8000-000000000000' }, 404, 'contact_not_found'],
      [{ type: 'access', channel: 'email', email: 'not an address' }, 400, 'invalid_email'],
      [{ type: 'forget-me', channel: 'email', contactId: contact.id }, 400, 'validation_failed'],
      [{ type: 'access', channel: 'carrier-pigeon', contactId: contact.id }, 400, 'validation_failed'],
      [{ type: 'access', channel: 'email', contactId: contact.id, receivedAt: '2026-04-02T08:00:00Z' }, 422, 'received_in_future'],
      [{ type: 'access', channel: 'email', contactId: contact.id, receivedAt: 'yesterday' }, 400, 'validation_failed'],
    ]
    for (const [payload, status, code] of cases) {
      const res = await post(payload)
      t.equal(res.statusCode, status, JSON.stringify(payload))
      t.equal(res.json().code, code)
    }
    t.equal((await staff({ method: 'GET', url: '/v1/requests?limit=200' })).json().items.length, before)
    t.equal((await app.as('course-system')({ method: 'POST', url: '/v1/requests', payload: { type: 'access', channel: 'email', contactId: contact.id } })).statusCode, 403)
    t.equal((await staff({ method: 'GET', url: '/v1/requests/00000000-0000-4000-8000-000000000000' })).json().code, 'request_not_found')
  })

  t.test('started, completed with an outcome, and closed for good', async (t) => {
    const contact = await createContact(app)
    const { id } = (await post({ type: 'rectification', channel: 'phone', contactId: contact.id })).json()
    const step = (action: string, payload?: Record<string, unknown>) => staff({ method: 'POST', url: `/v1/requests/${id}/${action}`, payload })
    t.match((await step('start')).json(), { status: 'in_progress' })
    t.match((await step('start')).json(), { status: 'in_progress' }, 'starting again changes nothing')
    const done = await step('complete', { outcome: 'Name corrected' })
    t.equal(done.statusCode, 200)
    t.match(done.json(), { status: 'completed', outcome: 'Name corrected', closedAt: '2026-03-30T08:00:00.000Z', closedById: 'staff:test' })
    for (const [action, payload] of [['complete', { outcome: 'Again' }], ['refuse', { outcome: 'Not this time' }], ['start', undefined]] as const) {
      const res = await step(action, payload)
      t.equal(res.statusCode, 409, action)
      t.match(res.json(), { code: 'request_closed', requestStatus: 'completed' })
    }
    t.equal((await step('complete', {})).statusCode, 400, 'an outcome is required')
    t.same(
      (await auditTrail(app, 'request', id)).map((e: { action: string }) => e.action),
      ['request.received', 'request.started', 'request.completed'],
    )

    const refused = (await post({ type: 'access', channel: 'email', contactId: contact.id })).json()
    const res = await staff({ method: 'POST', url: `/v1/requests/${refused.id}/refuse`, payload: { outcome: 'Manifestly unfounded: the fifth copy this week' } })
    t.match(res.json(), { status: 'refused', outcome: 'Manifestly unfounded: the fifth copy this week' })
  })

  t.test('the open and the overdue, soonest due first', async (t) => {
    const local = new TestClock(new Date('2026-11-02T09:00:00Z'))
    const other = await build(t, { clock: local })
    const contact = await createContact(other)
    const make = async (receivedAt: string) =>
      (await other.as('staff')({ method: 'POST', url: '/v1/requests', payload: { type: 'access', channel: 'email', contactId: contact.id, receivedAt } })).json()
    const late = await make('2026-11-02T08:00:00Z')
    const early = await make('2026-10-20T08:00:00Z')
    const closed = await make('2026-10-19T08:00:00Z')
    await other.as('staff')({ method: 'POST', url: `/v1/requests/${closed.id}/complete`, payload: { outcome: 'Sent' } })
    const list = async (query: string) => (await other.as('staff')({ method: 'GET', url: `/v1/requests?${query}` })).json().items.map((r: { id: string }) => r.id)
    t.same(await list('open=true'), [early.id, late.id])
    t.same((await list('')).sort(), [late.id, early.id, closed.id].sort(), 'every request')
    t.same(await list('overdue=true'), [])
    local.set('2026-11-08T12:00:00Z')
    t.same(await list('overdue=true'), [early.id], `${early.dueOn} has passed`)
    const view = (await other.as('staff')({ method: 'GET', url: `/v1/requests/${early.id}` })).json()
    t.match(view, { overdue: true, dueSoon: true })
    t.same(await list('overdue=true&limit=1'), [early.id])
    t.same(await list('status=completed'), [closed.id])
  })

  t.test('the daily check flags requests close to their due date, once each', async (t) => {
    const local = new TestClock(new Date('2026-11-02T09:00:00Z'))
    const other = await build(t, { clock: local })
    const contact = await createContact(other)
    const request = (
      await other.as('staff')({ method: 'POST', url: '/v1/requests', payload: { type: 'portability', channel: 'email', contactId: contact.id } })
    ).json()
    t.equal(request.dueOn, '2026-11-18')
    t.same(await other.app.services.dataSubjectRequests.flagDueSoon(systemActor), { flagged: 0 })
    local.set('2026-11-16T06:00:00Z')
    t.same(await other.app.services.dataSubjectRequests.flagDueSoon(systemActor), { flagged: 1 })
    t.same(await other.app.services.dataSubjectRequests.flagDueSoon(systemActor), { flagged: 0 }, 'once')
    const after = (await other.as('staff')({ method: 'GET', url: `/v1/requests/${request.id}` })).json()
    t.match(after, { dueSoon: true, dueSoonAt: '2026-11-16T06:00:00.000Z' })
    t.equal((await auditTrail(other, 'request', request.id)).at(-1)?.action, 'request.due_soon')
  })

  t.test('a restriction stops every message, course mail too, until an admin lifts it through the request', async (t) => {
    await putCourse(app, 'restricted-course')
    const email = uniqueEmail('restricted')
    const { contactId } = (await putEnrollment(app, 'restricted-enrollment', { courseId: 'restricted-course', contact: { email } })).json()
    const news = await createList(app, { kind: 'newsletter' })
    await subscribe(app, news.id, { contactId, consent: consentPayload() })
    const course = () => askDecision(app, { contactId, kind: 'course', courseId: 'restricted-course' })
    const newsletter = () => askDecision(app, { contactId, kind: 'newsletter', listId: news.id })
    t.equal((await course()).allowed, true)

    const { id } = (await post({ type: 'restriction', channel: 'letter', contactId })).json()
    const done = (await staff({ method: 'POST', url: `/v1/requests/${id}/complete`, payload: { outcome: 'Restricted while the accuracy is checked' } })).json()
    t.ok(done.restrictionId)
    t.match(await course(), { allowed: false, reason: 'restricted' })
    t.match(await newsletter(), { allowed: false, reason: 'restricted' })

    const viaSuppressions = await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${done.restrictionId}/lift`, payload: { reason: 'trying the back door' } })
    t.equal(viaSuppressions.statusCode, 409)
    t.equal(viaSuppressions.json().code, 'suppression_not_liftable')
    const made = await staff({ method: 'POST', url: '/v1/suppressions', payload: { contactId, scope: 'all-mail', reason: 'restriction' } })
    t.equal(made.json().code, 'reason_reserved')
    t.equal((await staff({ method: 'POST', url: `/v1/requests/${id}/lift-restriction`, payload: { reason: 'Checked' } })).statusCode, 403, 'admins lift')

    const lifted = await app.as('admin')({ method: 'POST', url: `/v1/requests/${id}/lift-restriction`, payload: { reason: 'Accuracy confirmed; the person was told' } })
    t.equal(lifted.statusCode, 200)
    t.equal((await course()).allowed, true)
    t.equal((await newsletter()).allowed, true)
    const again = await app.as('admin')({ method: 'POST', url: `/v1/requests/${id}/lift-restriction`, payload: { reason: 'twice' } })
    t.equal(again.json().code, 'suppression_already_lifted')
    t.same(
      (await auditTrail(app, 'request', id)).map((e: { action: string }) => e.action),
      ['request.received', 'request.completed', 'request.restriction_lifted'],
    )

    const access = (await post({ type: 'access', channel: 'email', contactId })).json()
    const noRestriction = await app.as('admin')({ method: 'POST', url: `/v1/requests/${access.id}/lift-restriction`, payload: { reason: 'none' } })
    t.equal(noRestriction.json().code, 'no_restriction')
  })

  t.test('an objection stops marketing, and an erasure request is completed by the erasure', async (t) => {
    const contact = await createContact(app)
    const offers = await createList(app, { kind: 'marketing' })
    const { id } = (await post({ type: 'objection', channel: 'email', contactId: contact.id })).json()
    await staff({ method: 'POST', url: `/v1/requests/${id}/complete`, payload: { outcome: 'Objection to direct marketing recorded' } })
    t.match(await askDecision(app, { contactId: contact.id, kind: 'marketing', listId: offers.id }), { allowed: false, reason: 'objection' })

    const erasure = (await post({ type: 'erasure', channel: 'email', contactId: contact.id })).json()
    const res = await staff({ method: 'POST', url: `/v1/requests/${erasure.id}/complete`, payload: { outcome: 'Erased' } })
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, 'erasure_by_erase')
    t.match((await staff({ method: 'GET', url: `/v1/requests/${erasure.id}` })).json(), { status: 'open' }, 'still open')
  })
})
