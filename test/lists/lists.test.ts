// Lists: kinds and their legal basis, slugs, updates, archiving. One app for
// the file; every case makes its own lists with slugs no other case uses.
import t from 'tap'
import { createList } from '../factories.js'
import { auditTrail, build, type TestApp } from '../helper.js'

/** The ids of every list the listing returns for a query, all pages followed. */
async function listedIds(app: TestApp, query = ''): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const url: string = `/v1/lists?limit=200${query}${cursor ? `&cursor=${cursor}` : ''}`
    const page = (await app.as('staff')({ method: 'GET', url })).json()
    ids.push(...page.items.map((l: { id: string }) => l.id))
    cursor = page.nextCursor
  } while (cursor)
  return ids
}

t.test('lists', async (t) => {
  const app = await build(t)

  t.test('the legal basis follows from the kind and is stored on the list', async (t) => {
    const newsletter = await createList(app, { kind: 'newsletter', doubleOptIn: true, public: true })
    t.match(newsletter, { kind: 'newsletter', basis: 'consent', purpose: 'newsletter', doubleOptIn: true, public: true })
    const marketing = await createList(app, { kind: 'marketing' })
    t.match(marketing, { basis: 'legitimate_interest', purpose: 'marketing' })
    const receipts = await createList(app, { kind: 'transactional', basis: 'legal_obligation', purpose: 'bookkeeping' })
    t.match(receipts, { basis: 'legal_obligation', purpose: 'bookkeeping' })
    const defaults = await createList(app, { kind: 'transactional' })
    t.equal(defaults.basis, 'contract')
  })

  t.test('a list other than transactional cannot choose its basis', async (t) => {
    const res = await app.as('staff')({
      method: 'POST',
      url: '/v1/lists',
      payload: { slug: 'sneaky', name: 'Sneaky', kind: 'marketing', basis: 'consent' },
    })
    t.equal(res.statusCode, 422)
    t.equal(res.json().code, 'basis_follows_kind')
    const bad = await app.as('staff')({
      method: 'POST',
      url: '/v1/lists',
      payload: { slug: 'receipts', name: 'Receipts', kind: 'transactional', basis: 'consent' },
    })
    t.equal(bad.json().code, 'basis_not_transactional')
  })

  t.test('course lists are made by courses, not by staff', async (t) => {
    const res = await app.as('staff')({ method: 'POST', url: '/v1/lists', payload: { slug: 'c', name: 'C', kind: 'course' } })
    t.equal(res.statusCode, 422)
    t.equal(res.json().code, 'course_list_via_course')
  })

  t.test('slugs are unique and well-formed', async (t) => {
    await createList(app, { slug: 'nyheter' })
    const dup = await app.as('staff')({ method: 'POST', url: '/v1/lists', payload: { slug: 'nyheter', name: 'x', kind: 'newsletter' } })
    t.equal(dup.statusCode, 409)
    t.equal(dup.json().code, 'slug_taken')
    const bad = await app.as('staff')({ method: 'POST', url: '/v1/lists', payload: { slug: 'Not A Slug', name: 'x', kind: 'newsletter' } })
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().errors[0].field, 'body.slug')
  })

  t.test('update changes name and flags, refuses kind, and audits', async (t) => {
    const list = await createList(app)
    const res = await app.as('staff')({ method: 'PATCH', url: `/v1/lists/${list.id}`, payload: { name: 'Nyhetsbrev', public: true } })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { name: 'Nyhetsbrev', public: true })
    const kind = await app.as('staff')({ method: 'PATCH', url: `/v1/lists/${list.id}`, payload: { kind: 'marketing' } })
    t.equal(kind.statusCode, 400, 'kind is not an updatable field')
    const trail = await auditTrail(app, 'list', list.id)
    t.same(trail.map((e) => e.action), ['list.created', 'list.updated'])
  })

  t.test('archived lists leave the default listing, refuse changes, and stay readable', async (t) => {
    const keep = await createList(app)
    const gone = await createList(app)
    const archived = await app.as('staff')({ method: 'POST', url: `/v1/lists/${gone.id}/archive` })
    t.equal(archived.statusCode, 200)
    t.ok(archived.json().archivedAt)
    // Other cases' lists share the database: look only at the two made here.
    const ours = (ids: string[]) => ids.filter((id) => id === keep.id || id === gone.id)
    const active = ours(await listedIds(app))
    t.same(active, [keep.id])
    const all = ours(await listedIds(app, '&archived=true'))
    t.equal(all.length, 2)
    const change = await app.as('staff')({ method: 'PATCH', url: `/v1/lists/${gone.id}`, payload: { name: 'x' } })
    t.equal(change.statusCode, 409)
    t.equal(change.json().code, 'list_archived')
  })

  t.test('an unknown list is a 404 problem and a course-system token is refused', async (t) => {
    const res = await app.as('staff')({ method: 'GET', url: '/v1/lists/00000000-0000-4000-8000-000000000000' })
    t.equal(res.statusCode, 404)
    t.equal(res.json().code, 'list_not_found')
    const forbidden = await app.as('course-system')({ method: 'GET', url: '/v1/lists' })
    t.equal(forbidden.statusCode, 403)
  })
})
