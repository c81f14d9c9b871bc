// Contacts: create, read, search, rectify. One app for the file; every case
// makes its own contacts with addresses no other case uses.
import t from 'tap'
import { createContact, uniqueEmail } from '../factories.js'
import { auditTrail, build } from '../helper.js'

t.test('contacts', async (t) => {
  const app = await build(t)

  t.test('staff create a contact and read it back', async (t) => {
    const res = await app.as('staff')({
      method: 'POST',
      url: '/v1/contacts',
      payload: { email: '  Kari.Nordmann@Example.NO ', name: 'Kari Nordmann', locale: 'en', attributes: { tier: 'gold' } },
    })
    t.equal(res.statusCode, 201)
    const contact = res.json()
    t.equal(contact.email, 'Kari.Nordmann@example.no', 'trimmed, domain lower-cased, local part kept')
    t.equal(contact.locale, 'en')
    t.same(contact.attributes, { tier: 'gold' })

    const got = await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}` })
    t.equal(got.statusCode, 200)
    t.same(got.json(), contact)
  })

  t.test('an address that differs only in case is the same person: 409', async (t) => {
    const email = uniqueEmail('ola')
    await createContact(app, { email })
    const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: email.toUpperCase() } })
    t.equal(res.statusCode, 409)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'email_taken')
  })

  t.test('internationalised domains are accepted and stored in Unicode form', async (t) => {
    const contact = await createContact(app, { email: 'per@BLÅBÆR.no' })
    t.equal(contact.email, 'per@blåbær.no')
    const again = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: 'per@xn--blbr-roah.no' } })
    t.equal(again.statusCode, 409, 'the punycode spelling of the same domain is the same address')
  })

  for (const email of ['no-at-sign', 'a@b', '@example.no', 'a@@example.no', 'two words@example.no', 'a@-bad-.no', 'a@example.123']) {
    t.test(`an invalid address is refused with a clear error: ${JSON.stringify(email)}`, async (t) => {
      const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email } })
      t.equal(res.statusCode, 400)
      t.equal(res.json().code, 'invalid_email')
      t.equal(res.json().errors[0].field, 'body.email')
    })
  }

  t.test('list pages through contacts with a cursor and searches by email', async (t) => {
    // A word only these five addresses hold: the pages are of this case's contacts alone.
    const tag = `pager${process.pid}x${Date.now().toString(36)}`
    const made = []
    for (let i = 0; i < 5; i++) {
      made.push(await createContact(app, { email: uniqueEmail(`${tag}.page${i}`) }))
      app.clock.advance(1000)
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/v1/contacts?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await app.as('staff')({ method: 'GET', url })).json()
      t.ok(page.items.length <= 2)
      seen.push(...page.items.map((c: { id: string }) => c.id))
      cursor = page.nextCursor
    } while (cursor)
    t.same(seen, made.map((c) => c.id), 'every contact once, in creation order')

    const byEmail = await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(made[3].email.toUpperCase())}` })
    t.same(byEmail.json().items.map((c: { id: string }) => c.id), [made[3].id])

    const bad = await app.as('staff')({ method: 'GET', url: '/v1/contacts?cursor=not-a-cursor' })
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().code, 'validation_failed')
  })

  t.test('rectification updates fields and writes what changed to the audit log', async (t) => {
    const contact = await createContact(app, { name: 'Old Name' })
    const res = await app.as('staff')({
      method: 'PATCH',
      url: `/v1/contacts/${contact.id}`,
      payload: { name: 'New Name', phone: '+47 900 00 000' },
    })
    t.equal(res.statusCode, 200)
    t.equal(res.json().name, 'New Name')
    const trail = await auditTrail(app, 'contact', contact.id)
    t.same(
      trail.map((e) => e.action),
      ['contact.created', 'contact.updated'],
    )
    t.same(trail[1]!.changes, { name: { from: 'Old Name', to: 'New Name' }, phone: { from: null, to: '+47 900 00 000' } })
    t.equal(trail[1]!.actorRole, 'staff')

    const url = `/v1/audit?entityType=contact&entityId=${contact.id}`
    const overHttp = await app.as('staff')({ method: 'GET', url })
    t.equal(overHttp.statusCode, 200)
    t.match(overHttp.json().items[1], { action: 'contact.updated', changedFields: ['name', 'phone'], actorId: 'staff:test' })
    const underContact = await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/audit` })
    t.same(underContact.json().items.map((e: { id: string }) => e.id), overHttp.json().items.map((e: { id: string }) => e.id), 'the same entries under the contact')
    t.equal((await app.as('course-system')({ method: 'GET', url })).statusCode, 403, 'the audit log is for staff')
    t.equal((await app.as('staff')({ method: 'GET', url: '/v1/audit?entityType=Contact!' })).statusCode, 400)
  })

  t.test('rectifying the email to one another contact has is a conflict and changes nothing', async (t) => {
    const a = await createContact(app)
    const b = await createContact(app)
    const res = await app.as('staff')({ method: 'PATCH', url: `/v1/contacts/${b.id}`, payload: { email: a.email.toUpperCase() } })
    t.equal(res.statusCode, 409)
    const after = await app.as('staff')({ method: 'GET', url: `/v1/contacts/${b.id}` })
    t.equal(after.json().email, b.email)
  })

  t.test('attributes over the size limit are refused', async (t) => {
    const res = await app.as('staff')({
      method: 'POST',
      url: '/v1/contacts',
      payload: { email: uniqueEmail(), attributes: { blob: 'x'.repeat(17 * 1024) } },
    })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'attributes_too_large')
  })

  t.test('an unknown contact is a 404 problem', async (t) => {
    const res = await app.as('staff')({ method: 'GET', url: '/v1/contacts/00000000-0000-4000-8000-000000000000' })
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'contact_not_found')
  })

  t.test('concurrent creation of the same address: exactly one wins, the other gets 409', async (t) => {
    const email = uniqueEmail('race')
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: i % 2 ? email.toUpperCase() : email } }),
      ),
    )
    const codes = results.map((r) => r.statusCode).sort()
    t.same(codes, [201, 409, 409, 409, 409, 409])
    const list = await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}` })
    t.equal(list.json().items.length, 1)
  })
})
