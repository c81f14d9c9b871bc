// The consent ledger: notices stored in full, consents naming them, and a
// database that refuses to rewrite either. One app for the file; every case
// uses notice keys, contacts and lists of its own.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build } from '../helper.js'

let noticeCounter = 0
/** A notice key no other case uses (notice versions are shared by the whole database). */
const uniqueNoticeKey = (prefix: string) => `${prefix}-${process.pid}-${++noticeCounter}`

t.test('consent ledger', async (t) => {
  const app = await build(t)

  t.test('notices are stored in full with their SHA-256, idempotently per text', async (t) => {
    const key = uniqueNoticeKey('signup')
    const text = 'Jeg vil motta nyhetsbrev fra Vekstly AS.'
    const first = await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: { key, version: 1, text } })
    t.equal(first.statusCode, 201)
    const { createHash } = await import('node:crypto')
    t.equal(first.json().sha256, createHash('sha256').update(text, 'utf8').digest('hex'))
    t.equal(first.json().text, text)

    const same = await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: { key, version: 1, text } })
    t.equal(same.statusCode, 200)
    t.equal(same.json().id, first.json().id)

    const altered = await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: { key, version: 1, text: text + '!' } })
    t.equal(altered.statusCode, 409)
    t.equal(altered.json().code, 'notice_version_exists')

    await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: { key, version: 2, text: 'v2', locale: 'en' } })
    const versions = (await app.as('staff')({ method: 'GET', url: `/v1/notices?key=${key}` })).json().items
    t.same(versions.map((n: { version: number }) => n.version), [1, 2])
  })

  t.test('a consent can name a stored notice by id', async (t) => {
    const notice = (await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: { key: uniqueNoticeKey('signup'), version: 1, text: 'Ja takk.' } })).json()
    const contact = await createContact(app)
    const list = await createList(app)
    const res = await subscribe(app, list.id, { contactId: contact.id, consent: { given: true, notice: { id: notice.id } } })
    t.equal(res.statusCode, 201)
    const [event] = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.equal(event.notice.id, notice.id)
  })

  t.test('a consent whose notice text differs from the stored version is refused', async (t) => {
    // consentPayload's notice, under a key of this case's own.
    const key = uniqueNoticeKey('newsletter-signup')
    const consent = (text: string) => {
      const payload = consentPayload(1, text)
      return { ...payload, notice: { ...payload.notice, key } }
    }
    const contact = await createContact(app)
    const list = await createList(app)
    await subscribe(app, list.id, { contactId: contact.id, consent: consent('Original text') })
    const other = await createContact(app)
    const res = await subscribe(app, list.id, { contactId: other.id, consent: consent('Quietly changed text') })
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, 'notice_version_exists')
  })

  t.test('the database refuses to update, delete or truncate consent events and notices', async (t) => {
    const contact = await createContact(app)
    const list = await createList(app)
    await subscribe(app, list.id, { contactId: contact.id, consent: consentPayload() })
    const db = app.app.db
    await t.rejects(db.execute(sql`update consent_events set type = 'withdrawn'`), 'update refused')
    await t.rejects(db.execute(sql`delete from consent_events`), 'delete refused')
    await t.rejects(db.execute(sql`truncate consent_events cascade`), 'truncate refused')
    await t.rejects(db.execute(sql`update notices set text = 'changed'`), 'notice update refused')
    await t.rejects(db.execute(sql`delete from notices`), 'notice delete refused')
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contact.id}/consents` })).json().items
    t.equal(history.length, 1)
    t.equal(history[0].type, 'granted')
  })

  t.test('the consent history of an unknown contact is a 404', async (t) => {
    const res = await app.as('staff')({ method: 'GET', url: '/v1/contacts/00000000-0000-4000-8000-000000000000/consents' })
    t.equal(res.statusCode, 404)
  })
})
