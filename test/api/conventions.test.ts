// The API as its clients see it: errors that say what to send, idempotent
// repeats that answer 200 with what is there, 201 with Location, the evidence
// that is the one in force, and the audit log read in pages.
import t from 'tap'
import { askDecision, consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build } from '../helper.js'

t.test('API conventions', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')

  t.test('an enum field refused names the values it allows', async (t) => {
    const res = await staff({ method: 'POST', url: '/v1/lists', payload: { slug: 'x-enum', name: 'X', kind: 'newspaper' } })
    t.equal(res.statusCode, 400)
    t.same(res.json().errors, [{ field: 'body.kind', message: 'must be one of: newsletter, marketing, course, transactional' }])
  })

  t.test('a 415 names the content type the API takes', async (t) => {
    const res = await staff({ method: 'POST', url: '/v1/contacts', headers: { 'content-type': 'application/xml' }, payload: '<contact/>' })
    t.equal(res.statusCode, 415)
    t.match(res.json().detail, /send application\/json/)
  })

  t.test('a known path with a method it does not answer is a 405 naming the methods in Allow', async (t) => {
    const res = await staff({ method: 'DELETE', url: '/v1/contacts' })
    t.equal(res.statusCode, 405)
    t.equal(res.headers.allow, 'GET, POST')
    t.match(res.json(), { code: 'method_not_allowed', status: 405 })
    const byId = await staff({ method: 'PUT', url: '/v1/contacts/00000000-0000-4000-8000-000000000000' })
    t.equal(byId.headers.allow, 'GET, PATCH')
    t.equal((await staff({ method: 'GET', url: '/v1/nothing-here' })).statusCode, 404, 'an unknown path is still a 404')
  })

  t.test('"both email and contactId" and "neither" have codes of their own', async (t) => {
    const contact = await createContact(app)
    const both = await staff({ method: 'POST', url: '/v1/suppressions', payload: { email: contact.email, contactId: contact.id, scope: 'global', reason: 'manual' } })
    t.equal(both.json().code, 'recipient_ambiguous')
    const neither = await staff({ method: 'POST', url: '/v1/suppressions', payload: { scope: 'global', reason: 'manual' } })
    t.equal(neither.json().code, 'recipient_required')
  })

  t.test('a 201 carries the new resource’s address in Location, and the address answers', async (t) => {
    const contact = await staff({ method: 'POST', url: '/v1/contacts', payload: { email: `loc.${process.pid}@example.no` } })
    t.equal(contact.headers.location, `/v1/contacts/${contact.json().id}`)
    const list = await staff({ method: 'POST', url: '/v1/lists', payload: { slug: `loc-${process.pid}`, name: 'Loc', kind: 'newsletter' } })
    t.equal(list.headers.location, `/v1/lists/${list.json().id}`)
    const sub = await subscribe(app, list.json().id, { contactId: contact.json().id, source: 'form', consent: consentPayload() })
    t.equal(sub.statusCode, 201)
    for (const res of [contact, list, sub]) {
      const followed = await staff({ method: 'GET', url: String(res.headers.location) })
      t.equal(followed.statusCode, 200, `GET ${res.headers.location}`)
      t.equal(followed.json().id, res.json().id)
    }
  })

  t.test('subscribing again with the same notice changes nothing; a new notice version is new evidence', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'newsletter' })
    const history = async () => (await staff({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.equal((await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload(1) })).statusCode, 201)
    const again = await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload(1) })
    t.equal(again.statusCode, 200, 'the same consent again is a repeat')
    t.equal(again.headers.location, undefined)
    t.equal((await history()).length, 1, 'no second event')
    const newer = await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload(2) })
    t.equal(newer.statusCode, 201, 'a new version of the notice is new evidence')
    t.equal((await history()).length, 2)
  })

  t.test('after subscribe, unsubscribe, a new consent and unsubscribe again, the newer suppression is the one cited and listed', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app, { kind: 'newsletter' })
    const leave = () => staff({ method: 'POST', url: `/v1/lists/${list.id}/subscriptions/${contact.id}/unsubscribe`, payload: { source: 'link' } })
    await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })
    app.clock.advance(60_000)
    await leave()
    app.clock.advance(60_000)
    t.equal((await subscribe(app, list.id, { contactId: contact.id, source: 'form', consent: consentPayload() })).statusCode, 201)
    app.clock.advance(60_000)
    await leave()
    app.clock.advance(60_000)

    const all = (await staff({ method: 'GET', url: `/v1/suppressions?contactId=${contact.id}&scope=list` })).json().items
    t.equal(all.length, 2, 'each unsubscribe left its suppression')
    const [first, second] = all
    const decision = await askDecision(app, { contactId: contact.id, kind: 'newsletter', listId: list.id })
    t.match(decision, { allowed: false, reason: 'unsubscribed', evidence: { type: 'suppression', id: second.id } }, 'the decision cites the newer one')
    const explained = (await staff({ method: 'GET', url: `/v1/contacts/${contact.id}/explain` })).json()
    t.match(explained.lists.find((l: { list: { id: string } }) => l.list.id === list.id).decision.evidence, { id: second.id })
    const active = (await staff({ method: 'GET', url: `/v1/suppressions?contactId=${contact.id}&active=true` })).json().items
    t.same(active.map((s: { id: string }) => s.id), [second.id], `in force: only the newer; ${first.id} was superseded by the consent after it`)
  })

  t.test('the audit log pages and filters by entity, actor, action and time', async (t) => {
    const contact = await createContact(app, { name: 'Audit Person' })
    const admin = app.as('admin')
    for (const phone of ['+47 1', '+47 2', '+47 3']) {
      app.clock.advance(1000)
      await admin({ method: 'PATCH', url: `/v1/contacts/${contact.id}`, payload: { phone } })
    }
    const first = (await staff({ method: 'GET', url: `/v1/contacts/${contact.id}/audit?limit=2` })).json()
    t.equal(first.items.length, 2)
    t.ok(first.nextCursor)
    const second = (await staff({ method: 'GET', url: `/v1/contacts/${contact.id}/audit?limit=2&cursor=${first.nextCursor}` })).json()
    t.same([...first.items, ...second.items].map((e: { action: string }) => e.action), ['contact.created', 'contact.updated', 'contact.updated', 'contact.updated'])
    t.equal(second.nextCursor, null)

    const byAdmin = (await staff({ method: 'GET', url: `/v1/audit?entityType=contact&entityId=${contact.id}&actorId=admin:test&action=contact.updated` })).json()
    t.equal(byAdmin.items.length, 3)
    const lastTime = byAdmin.items[2].occurredAt
    const since = (await staff({ method: 'GET', url: `/v1/audit?entityId=${contact.id}&from=${encodeURIComponent(lastTime)}` })).json()
    t.same(since.items.map((e: { changes: { phone: { to: string } } }) => e.changes.phone.to), ['+47 3'])
    const forged = await staff({ method: 'GET', url: '/v1/audit?cursor=bm90LWEtY3Vyc29y' })
    t.equal(forged.json().code, 'validation_failed')
    const backwards = await staff({ method: 'GET', url: '/v1/audit?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z' })
    t.equal(backwards.json().code, 'invalid_range')
  })
})

t.test('route schemas compile at first use; compileSchemas, which the server runs before it listens, compiles all the rest', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')
  t.equal((await staff({ method: 'GET', url: '/v1/lists' })).statusCode, 200)
  const compiled = app.app.compileSchemas()
  t.ok(compiled > 100, `every route's validators and serializers compile (${compiled} were still waiting)`)
  t.equal(app.app.compileSchemas(), 0, 'and then none is left')
  // Validation and serialization are the same once compiled ahead: a refused body is a 400 naming its field.
  const refused = await staff({ method: 'POST', url: '/v1/contacts', payload: { email: 42 } })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().code, 'validation_failed')
  t.equal((await staff({ method: 'GET', url: '/v1/lists' })).json().items.length, 0)
})
