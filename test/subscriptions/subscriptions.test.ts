// Subscribing, confirming and unsubscribing, and what the consent history keeps.
// One app for the file: each test makes its own contacts and lists.
import t, { type Test } from 'tap'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build, type TestApp } from '../helper.js'

/** For a test that moves the shared clock: put it back when the test ends, for the tests after it. */
function restoreClockAfter(t: Test, app: TestApp) {
  const start = app.clock.now()
  t.teardown(() => app.clock.set(start))
}

t.test('subscriptions', async (t) => {
  const app = await build(t)

  t.test('a consent list needs an explicit consent; with it the contact is subscribed and the ledger has the grant', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'newsletter' })

    const without = await subscribe(app, list.id, { contactId: contact.id })
    t.equal(without.statusCode, 422)
    t.equal(without.json().code, 'consent_required')

    const notGiven = await subscribe(app, list.id, { contactId: contact.id, consent: { ...consentPayload(), given: false } })
    t.equal(notGiven.statusCode, 400, 'given must be literally true')
    t.equal(notGiven.json().errors[0].field, 'body.consent.given')

    const res = await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    t.equal(res.statusCode, 201)
    t.match(res.json(), { status: 'active', source: 'form', contactId: contact.id, listId: list.id })

    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.equal(history.length, 1)
    t.match(history[0], {
      type: 'granted',
      basis: 'consent',
      source: 'form',
      listId: list.id,
      purpose: 'newsletter',
      ip: '192.0.2.10',
      userAgent: 'Mozilla/5.0 (test)',
      actorRole: 'staff',
      notice: { key: 'newsletter-signup', version: 1 },
    })
    t.match(history[0].notice.sha256, /^[0-9a-f]{64}$/)
  })

  t.test('double opt-in: pending until confirmed, and the confirmation is an event', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { doubleOptIn: true })
    const res = await subscribe(app, list.id, { contactId: contact.id, consent: consentPayload() })
    t.equal(res.json().status, 'pending')
    t.equal(res.json().confirmedAt, null)

    const confirm = await app.as('staff')({
      method: 'POST',
      url: `/v1/lists/${list.id}/subscriptions/${contact.id}/confirm`,
      payload: { source: 'link', ip: '192.0.2.11' },
    })
    t.equal(confirm.statusCode, 200)
    t.equal(confirm.json().status, 'active')
    t.ok(confirm.json().confirmedAt)
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.same(history.map((e: { type: string }) => e.type), ['granted', 'confirmed'])
  })

  t.test('a legitimate-interest list takes members without consent, recorded with that basis', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'marketing' })
    const res = await subscribe(app, list.id, { contactId: contact.id, evidence: 'crm-import-42' })
    t.equal(res.statusCode, 201)
    const again = await subscribe(app, list.id, { contactId: contact.id })
    t.equal(again.statusCode, 200, 'subscribing again changes nothing')
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.equal(history.length, 1, 'no second event for a no-op')
    t.match(history[0], { type: 'granted', basis: 'legitimate_interest', evidence: 'crm-import-42', notice: null })
  })

  t.test('unsubscribing withdraws, and re-subscribing needs a new explicit consent', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'marketing' })
    await subscribe(app, list.id, { contactId: contact.id })
    const un = await app.as('staff')({
      method: 'POST',
      url: `/v1/lists/${list.id}/subscriptions/${contact.id}/unsubscribe`,
      payload: { source: 'staff', evidence: 'phone call' },
    })
    t.equal(un.statusCode, 200)
    t.equal(un.json().status, 'unsubscribed')
    t.ok(un.json().unsubscribedAt)

    const back = await subscribe(app, list.id, { contactId: contact.id })
    t.equal(back.statusCode, 409)
    t.equal(back.json().code, 'explicit_consent_required')

    const withConsent = await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    t.equal(withConsent.statusCode, 201)
    t.equal(withConsent.json().status, 'active')
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.same(
      history.map((e: { type: string; basis: string }) => `${e.type}:${e.basis}`),
      ['granted:legitimate_interest', 'withdrawn:legitimate_interest', 'granted:consent'],
    )
  })

  t.test('unsubscribing twice is idempotent and an unknown subscription is a 404', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'marketing' })
    const missing = await app.as('staff')({
      method: 'POST',
      url: `/v1/lists/${list.id}/subscriptions/${contact.id}/unsubscribe`,
      payload: { source: 'staff' },
    })
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'subscription_not_found')
    await subscribe(app, list.id, { contactId: contact.id })
    for (let i = 0; i < 2; i++) {
      const res = await app.as('staff')({
        method: 'POST',
        url: `/v1/lists/${list.id}/subscriptions/${contact.id}/unsubscribe`,
        payload: { source: 'staff' },
      })
      t.equal(res.statusCode, 200)
    }
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.equal(history.filter((e: { type: string }) => e.type === 'withdrawn').length, 1)
  })

  t.test('confirming something not pending is refused', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'marketing' })
    await subscribe(app, list.id, { contactId: contact.id })
    await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${contact.id}/unsubscribe`, payload: { source: 'staff' } })
    const res = await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${contact.id}/confirm`, payload: { source: 'link' } })
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, 'subscription_not_pending')
  })

  t.test('archived lists, unknown contacts and the reserved enrollment source are refused; nothing is written', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'marketing' })
    const reserved = await subscribe(app, list.id, { contactId: contact.id, source: 'enrollment' })
    t.equal(reserved.json().code, 'source_reserved')
    const unknown = await subscribe(app, list.id, { contactId: '00000000-0000-4000-8000-000000000000' })
    t.equal(unknown.statusCode, 404)
    t.equal(unknown.json().code, 'contact_not_found')
    await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/archive` })
    const archived = await subscribe(app, list.id, { contactId: contact.id })
    t.equal(archived.statusCode, 409)
    t.equal(archived.json().code, 'list_archived')
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.same(history, [])
  })

  t.test('a consent naming a notice that was never stored is refused and writes nothing', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app)
    const res = await subscribe(app, list.id, {
      contactId: contact.id,
      consent: { given: true, notice: { key: 'never-published', version: 3 } },
    })
    t.equal(res.statusCode, 422)
    t.equal(res.json().code, 'notice_not_found')
    const members = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${list.id}/subscriptions` })).json()
    t.same(members.items, [])
  })

  t.test('members are listed with pagination and a status filter; a contact sees their lists', async (t) => {
    restoreClockAfter(t, app)
    const list = await createList(app, { kind: 'marketing' })
    const people = []
    for (let i = 0; i < 5; i++) {
      const c = await createContact(app)
      people.push(c)
      await subscribe(app, list.id, { contactId: c.id })
      app.clock.advance(1000)
    }
    await app.as('staff')({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${people[1].id}/unsubscribe`, payload: { source: 'staff' } })

    const page1 = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${list.id}/subscriptions?limit=3` })).json()
    t.equal(page1.items.length, 3)
    t.ok(page1.nextCursor)
    const page2 = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${list.id}/subscriptions?limit=3&cursor=${page1.nextCursor}` })).json()
    t.equal(page2.items.length, 2)
    t.equal(page2.nextCursor, null)
    t.equal(page1.items[0].email, people[0].email)

    const unsubscribed = (await app.as('staff')({ method: 'GET', url: `/v1/lists/${list.id}/subscriptions?status=unsubscribed` })).json()
    t.same(unsubscribed.items.map((m: { contactId: string }) => m.contactId), [people[1].id])

    const mine = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${people[0].id}/subscriptions` })).json()
    t.match(mine.items, [{ listId: list.id, listSlug: list.slug, listKind: 'marketing', status: 'active' }])
  })

  t.test('concurrent subscribes of one person to one list make one subscription and one event', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'marketing' })
    const results = await Promise.all(Array.from({ length: 5 }, () => subscribe(app, list.id, { contactId: contact.id })))
    t.same(results.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 201])
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.equal(history.length, 1)
  })
})
