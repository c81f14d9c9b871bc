// `npm run bench:indexes`: the plans and times of the queries that grow with
// the number of people, on 1,000,000 contacts — with the index each needs, and
// again with that index dropped (what the queries did before it existed).
// Not part of the test suite: it asserts nothing.
//
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:indexes   # PostgreSQL
//   npm run bench:indexes                                                            # embedded PGlite
//   BENCH_CONTACTS=100000 npm run bench:indexes                                      # fewer people
import { performance } from 'node:perf_hooks'
import { sql, type SQL } from 'drizzle-orm'
import { systemActor } from '../../src/lib/actor.js'
import { createList } from '../factories.js'
import { build, type TestApp } from '../helper.js'

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000)
/** One in five people is on the big list; one in a thousand has an open course-list opt-out wish. */
const MEMBERS = Math.floor(CONTACTS / 5)
const OPEN_WISHES = Math.max(1, Math.floor(CONTACTS / 1000))

const teardowns: (() => Promise<unknown> | unknown)[] = []
const fakeTest = { teardown: (fn: () => unknown) => teardowns.push(fn) } as never

async function rows<T>(app: TestApp, query: SQL): Promise<T[]> {
  const result = (await app.app.db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}

async function explain(app: TestApp, query: SQL): Promise<string> {
  const plan = await rows<Record<string, string>>(app, sql`explain (analyze, costs off, timing off, summary on) ${query}`)
  return plan.map((r) => Object.values(r)[0]).join('\n')
}

async function timed(label: string, fn: () => Promise<unknown>, iterations = 20) {
  await fn()
  const started = performance.now()
  for (let i = 0; i < iterations; i++) await fn()
  const ms = (performance.now() - started) / iterations
  console.log(`${label.padEnd(64)} ${ms.toFixed(2)} ms`)
  return ms
}

async function seed(app: TestApp, listId: string, courseListId: string) {
  const started = performance.now()
  // Set-based inserts: the point is the size of the tables, not the API's speed at filling them.
  await app.app.db.execute(sql`
    insert into contacts (email, name, created_at, updated_at)
    select 'person' || i || '@example.no', 'Person ' || i || ' Nordmann', now() - (i || ' seconds')::interval, now()
    from generate_series(1, ${CONTACTS}) as i`)
  await app.app.db.execute(sql`
    insert into subscriptions (contact_id, list_id, status, source, created_at, updated_at, confirmed_at)
    select id, ${listId}, (case when n % 10 = 0 then 'unsubscribed' else 'active' end)::subscription_status, 'form', created_at, now(), now()
    from (select id, created_at, row_number() over (order by created_at, id) as n from contacts) c
    where n % 5 = 0`)
  await app.app.db.execute(sql`
    insert into deferred_unsubscribes (contact_id, list_id, source, requested_at, requested_by_id, applied_at)
    select id, ${courseListId}, 'link', created_at, 'bench', case when (n / 100) % 10 = 0 then null else now() end
    from (select id, created_at, row_number() over (order by created_at, id) as n from contacts) c
    where n % 100 = 0 and n / 100 <= ${OPEN_WISHES * 10}`)
  await app.app.db.execute(sql`analyze`)
  console.log(`seeded ${CONTACTS} contacts, ${MEMBERS} members, ${OPEN_WISHES} open wishes in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

async function main() {
  const app = await build(fakeTest, { config: { runJobs: false } })
  const engine = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'
  console.log(`engine: ${engine}`)
  const list = await createList(app, { kind: 'newsletter' })
  const course = (await app.as('course-system')({
    method: 'PUT',
    url: '/v1/courses/BENCH-C1',
    payload: { name: 'Bench', category: 'yoga', startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-02-01T00:00:00Z' },
  })).json()
  await seed(app, list.id, course.listId)
  const staff = app.as('staff')

  const [middle] = await rows<{ created_at: string; id: string }>(
    app,
    sql`select created_at::text, id from subscriptions where list_id = ${list.id} order by created_at, id offset ${Math.floor(MEMBERS / 2)} limit 1`,
  )
  // The same shape as subscriptions/queries.ts findListMembers with a cursor (db/pagination.ts afterCursor).
  const membersPage = sql`select * from subscriptions where list_id = ${list.id}
    and (created_at, id) > (${middle!.created_at}::timestamptz, ${middle!.id}::uuid)
    order by created_at, id limit 51`
  const middleCursor = Buffer.from(`${new Date(middle!.created_at).toISOString()}|${middle!.id}`).toString('base64url')
  // The same shape as contacts/queries.ts listContactRows with q.
  const search = sql`select * from contacts where email ilike '%on123456%' or name ilike '%on123456%' order by created_at, id limit 51`
  const sweepPage = sql`select * from deferred_unsubscribes where applied_at is null order by requested_at, id limit 200`

  const cases: { label: string; query: SQL; index: string; recreate: string; http?: () => Promise<unknown> }[] = [
    {
      label: "a list's members, a page in the middle, no status filter",
      query: membersPage,
      index: 'subscriptions_list_created_idx',
      recreate: 'create index subscriptions_list_created_idx on subscriptions (list_id, created_at, id)',
      http: () => staff({ method: 'GET', url: `/v1/lists/${list.id}/subscriptions?limit=50&cursor=${middleCursor}` }),
    },
    {
      label: 'contact search for part of an address or name',
      query: search,
      index: 'contacts_email_trgm_idx, contacts_name_trgm_idx',
      recreate:
        'create index contacts_email_trgm_idx on contacts using gin (email gin_trgm_ops); create index contacts_name_trgm_idx on contacts using gin (name gin_trgm_ops)',
      http: () => staff({ method: 'GET', url: '/v1/contacts?q=on123456' }),
    },
    {
      label: "the sweep's page of open opt-out wishes",
      query: sweepPage,
      index: 'deferred_unsubscribes_open_idx',
      recreate: 'create index deferred_unsubscribes_open_idx on deferred_unsubscribes (requested_at, id) where applied_at is null',
    },
  ]

  for (const c of cases) {
    console.log(`\n=== ${c.label}`)
    console.log(`--- with ${c.index}\n${await explain(app, c.query)}`)
    const withIndex = await timed('query, with the index', () => app.app.db.execute(c.query))
    const httpWith = c.http ? await timed('over HTTP, with the index', c.http) : null
    for (const name of c.index.split(', ')) await app.app.db.execute(sql.raw(`drop index ${name}`))
    console.log(`--- without\n${await explain(app, c.query)}`)
    const without = await timed('query, without the index', () => app.app.db.execute(c.query), 3)
    const httpWithout = c.http ? await timed('over HTTP, without the index', c.http, 3) : null
    for (const statement of c.recreate.split('; ')) await app.app.db.execute(sql.raw(statement))
    console.log(`ratio without/with: query ${(without / withIndex).toFixed(1)}x${httpWith && httpWithout ? `, HTTP ${(httpWithout / httpWith).toFixed(1)}x` : ''}`)
  }

  const sweepStarted = performance.now()
  const applied = await app.app.services.optOut.applyDueDeferredUnsubscribes(systemActor)
  console.log(`\nthe sweep over ${OPEN_WISHES} open wishes, ${Math.ceil(OPEN_WISHES / 200)} pages of 200: ${applied} carried out in ${(performance.now() - sweepStarted).toFixed(0)} ms`)
  for (const fn of teardowns.reverse()) await fn()
}

await main()
