// An import whose service closes while it runs (a SIGTERM, a deploy): it
// stops after the batch in hand, before the database closes, and is marked
// interrupted — never left running. Importing the file again adds the rest,
// one consent event per person.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { selectRows, type DatabaseLocation } from '../../db/client.js'
import { buildApp } from '../../src/app.js'
import { freshDatabase, preparedDataDir, signTestToken, testConfig, testLogger } from '../helper.js'
import { multipart, NOTICE } from './support.js'

t.setTimeout(4 * 60_000)

const importDir = mkdtempSync(join(tmpdir(), 'samtykke-imports-'))
t.teardown(() => rmSync(importDir, { recursive: true, force: true }))

// On PGlite the database must outlive the first app: a folder (prepared already), not memory.
const database: DatabaseLocation = process.env.TEST_DATABASE_URL ? await freshDatabase(t) : { engine: 'pglite', dataDir: await preparedDataDir(t, 'samtykke-interrupt-') }
const config = testConfig({ importDir })
const open = () => buildApp(config, { database, logger: testLogger(t, config).logger })
const staff = { authorization: `Bearer ${signTestToken('staff', { config })}` }
const ROWS = 20_000
const csv = ['email', ...Array.from({ length: ROWS }, (_, i) => `avbrutt.${i}@example.no`)].join('\n')

t.test('closing the service mid-import marks it interrupted; importing again adds the rest, once each', async (t) => {
  const first = await open()
  await first.inject({ method: 'POST', url: '/v1/lists', headers: staff, payload: { slug: 'nyhetsbrev', name: 'Nyhetsbrev', kind: 'newsletter' } })
  await first.inject({ method: 'POST', url: '/v1/notices', headers: staff, payload: NOTICE })
  const form = () => multipart({ list: 'nyhetsbrev', noticeKey: NOTICE.key, noticeVersion: '1' }, { content: csv })
  const body = form()
  const started = await first.inject({ method: 'POST', url: '/v1/imports', payload: body.payload, headers: { ...staff, ...body.headers } })
  t.equal(started.statusCode, 202)
  const id = started.json().id as string
  await first.close()

  const second = await open()
  t.teardown(() => second.close())
  const report = (await second.inject({ method: 'GET', url: `/v1/imports/${id}`, headers: staff })).json()
  t.match(report.import, { status: 'interrupted', errorCode: 'import_interrupted', error: /stopped before it finished/ })
  t.ok(report.import.rowsApplied < ROWS, `not every row was applied (${report.import.rowsApplied})`)
  const [applied] = await selectRows<{ n: number }>(second.db, sql`select count(*)::int as n from consent_events where source = 'import'`)
  t.equal(applied!.n, report.import.rowsApplied, 'the job counts exactly what was committed')

  const again = form()
  const rerun = await second.inject({ method: 'POST', url: '/v1/imports', payload: again.payload, headers: { ...staff, ...again.headers } })
  for (let i = 0; i < 3000; i++) {
    const state = (await second.inject({ method: 'GET', url: `/v1/imports/${rerun.json().id}`, headers: staff })).json()
    if (state.import.status !== 'running') {
      t.match(state.import, { status: 'completed', rowsApplied: ROWS - report.import.rowsApplied, counts: { already_subscribed: report.import.rowsApplied || undefined } })
      break
    }
    await new Promise((done) => setTimeout(done, 20))
  }
  const [total] = await selectRows<{ events: number; people: number }>(
    second.db,
    sql`select count(*)::int as events, count(distinct contact_id)::int as people from consent_events where source = 'import'`,
  )
  t.same(total, { events: ROWS, people: ROWS })
})
