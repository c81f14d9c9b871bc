// Suppressions: how they are keyed, scoped, lifted and expired. One app for the
// file: each test uses its own contacts, addresses and lists.
import { createHmac } from 'node:crypto'
import t, { type Test } from 'tap'
import { consentPayload, createContact, createList, uniqueEmail } from '../factories.js'
import { auditTrail, build, PEPPER, type TestApp } from '../helper.js'

const post = (body: Record<string, unknown>) => ({ method: 'POST' as const, url: '/v1/suppressions', payload: body })

/** For a test that moves the shared clock: put it back when the test ends, for the tests after it. */
function restoreClockAfter(t: Test, app: TestApp) {
  const start = app.clock.now()
  t.teardown(() => app.clock.set(start))
}

t.test('suppressions', async (t) => {
  const app = await build(t)

  t.test('a suppression by address is keyed by an HMAC of the normalised address, not a bare hash', async (t) => {
    const res = await app.as('staff')(post({ email: '  Ola@Example.NO ', scope: 'global', reason: 'complaint', note: 'spam report' }))
    t.equal(res.statusCode, 201)
    const expected = createHmac('sha256', PEPPER).update('ola@example.no').digest('hex')
    t.equal(res.json().addressHash, expected)
    t.equal(res.json().contactId, null, 'no contact has this address')
    t.notOk(JSON.stringify(res.json()).includes('ola@'), 'the address is not echoed back')

    const contact = await createContact(app, { email: 'OLA@example.no' })
    const byContact = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${contact.id}` })).json().items
    t.equal(byContact.length, 1, 'a contact created later is matched by the hash: nobody is resurrected')
    const byEmail = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?email=${encodeURIComponent('ola@EXAMPLE.no')}` })).json().items
    t.equal(byEmail.length, 1)
  })

  t.test('scopes need their target: list scope a list, purpose scope a purpose', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app)
    const noList = await app.as('staff')(post({ contactId: contact.id, scope: 'list', reason: 'manual' }))
    t.equal(noList.json().code, 'list_scope_needs_list')
    const stray = await app.as('staff')(post({ contactId: contact.id, scope: 'global', reason: 'manual', listId: list.id }))
    t.equal(stray.json().code, 'list_scope_needs_list')
    const noPurpose = await app.as('staff')(post({ contactId: contact.id, scope: 'purpose', reason: 'objection' }))
    t.equal(noPurpose.json().code, 'purpose_scope_needs_purpose')
    const unknownList = await app.as('staff')(post({ contactId: contact.id, scope: 'list', reason: 'manual', listId: '00000000-0000-4000-8000-000000000000' }))
    t.equal(unknownList.statusCode, 404)
    const ok = await app.as('staff')(post({ contactId: contact.id, scope: 'list', reason: 'manual', listId: list.id }))
    t.equal(ok.statusCode, 201)
    const both = await app.as('staff')(post({ contactId: contact.id, email: uniqueEmail(), scope: 'global', reason: 'manual' }))
    t.equal(both.statusCode, 400)
    t.equal(both.json().code, 'recipient_ambiguous')
    const neither = await app.as('staff')(post({ scope: 'global', reason: 'manual' }))
    t.equal(neither.json().code, 'recipient_required')
  })

  t.test('erasure suppressions come only from erasure requests, and expiry must be in the future', async (t) => {
    const erasure = await app.as('staff')(post({ email: uniqueEmail(), scope: 'global', reason: 'erasure' }))
    t.equal(erasure.statusCode, 422)
    t.equal(erasure.json().code, 'reason_reserved')
    const past = await app.as('staff')(post({ email: uniqueEmail(), scope: 'global', reason: 'manual', expiresAt: '2020-01-01T00:00:00.000Z' }))
    t.equal(past.json().code, 'expiry_in_past')
  })

  t.test('only admins lift, with a reason, audited; objections are never lifted by staff', async (t) => {
    const contact = await createContact(app)
    const manual = (await app.as('staff')(post({ contactId: contact.id, scope: 'global', reason: 'manual' }))).json()
    const objection = (await app.as('staff')(post({ contactId: contact.id, scope: 'purpose', purpose: 'marketing', reason: 'objection' }))).json()

    const byStaff = await app.as('staff')({ method: 'POST', url: `/v1/suppressions/${manual.id}/lift`, payload: { reason: 'entered by mistake' } })
    t.equal(byStaff.statusCode, 403)
    const noReason = await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${manual.id}/lift`, payload: {} })
    t.equal(noReason.statusCode, 400)

    const lifted = await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${manual.id}/lift`, payload: { reason: 'entered by mistake' } })
    t.equal(lifted.statusCode, 200)
    t.match(lifted.json(), { liftReason: 'entered by mistake', liftedById: 'admin:test' })
    t.ok(lifted.json().liftedAt)
    const twice = await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${manual.id}/lift`, payload: { reason: 'again' } })
    t.equal(twice.json().code, 'suppression_already_lifted')

    const refused = await app.as('admin')({ method: 'POST', url: `/v1/suppressions/${objection.id}/lift`, payload: { reason: 'customer asked by phone' } })
    t.equal(refused.statusCode, 409)
    t.equal(refused.json().code, 'suppression_not_liftable')

    const trail = await auditTrail(app, 'suppression', manual.id)
    t.same(trail.map((e) => e.action), ['suppression.created', 'suppression.lifted'])
    t.equal(trail[1]!.actorRole, 'admin')

    const active = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${contact.id}&active=true` })).json().items
    t.same(active.map((s: { id: string }) => s.id), [objection.id])
  })

  t.test('the same suppression twice is one row; an expired one no longer counts as active', async (t) => {
    restoreClockAfter(t, app)
    const email = uniqueEmail()
    const a = (await app.as('staff')(post({ email, scope: 'global', reason: 'complaint' }))).json()
    const b = (await app.as('staff')(post({ email, scope: 'global', reason: 'complaint' }))).json()
    t.equal(a.id, b.id)
    const later = new Date(app.clock.now().getTime() + 60_000).toISOString()
    await app.as('staff')(post({ email, scope: 'all-mail', reason: 'manual', expiresAt: later }))
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/suppressions?email=${email}&active=true` })).json().items.length, 2)
    app.clock.advance(120_000)
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/suppressions?email=${email}&active=true` })).json().items.length, 1)
  })

  t.test('an objection after the person consented again is a new suppression that blocks again', async (t) => {
    restoreClockAfter(t, app)
    const contact = await createContact(app)
    const offers = await createList(app, { kind: 'marketing' })
    const object = () => app.as('staff')(post({ contactId: contact.id, scope: 'purpose', purpose: 'marketing', reason: 'objection' }))
    const ask = async () =>
      (await app.as('staff')({ method: 'POST', url: '/v1/decisions', payload: { contactId: contact.id, kind: 'marketing', listId: offers.id } })).json()
    const first = (await object()).json()
    app.clock.advance(60_000)
    await app.as('staff')({
      method: 'POST',
      url: `/v1/lists/${offers.id}/subscriptions`,
      payload: { contactId: contact.id, source: 'form', consent: consentPayload() },
    })
    t.match(await ask(), { allowed: true, basis: 'consent' }, "the person's own consent speaks over the old objection")
    app.clock.advance(60_000)
    const second = (await object()).json()
    t.not(second.id, first.id, 'the new objection is its own row')
    t.match(await ask(), { allowed: false, reason: 'objection', evidence: { id: second.id } })
    const third = (await object()).json()
    t.equal(third.id, second.id, 'repeating it with no consent in between is still one row')
  })

  t.test('an unknown suppression is a 404', async (t) => {
    const res = await app.as('staff')({ method: 'GET', url: '/v1/suppressions/00000000-0000-4000-8000-000000000000' })
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'suppression_not_found')
  })
})
