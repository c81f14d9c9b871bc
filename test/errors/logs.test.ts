import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildApp, loggerOptions } from '../../src/app.js'
import { freshDatabase, signTestToken, testConfig, TestClock } from '../helper.js'

t.test('the log never carries addresses, names or tokens in clear text', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) })
  const config = testConfig({ logLevel: 'info' })
  const app = await buildApp(config, {
    database: await freshDatabase(t),
    clock: new TestClock(),
    logger: { ...loggerOptions(config), stream },
  })
  t.teardown(() => app.close())
  const token = signTestToken('staff', { sub: 'staff:kari', name: 'Kari Nordmann' })
  const headers = { authorization: `Bearer ${token}` }
  await app.inject({ method: 'POST', url: '/v1/contacts', headers, payload: { email: 'secret.person@example.no', name: 'Secret Person' } })
  await app.inject({ method: 'POST', url: '/v1/contacts', headers, payload: { email: 'secret.person@example.no' } })
  await app.inject({ method: 'GET', url: '/v1/contacts?email=secret.person%40example.no', headers })
  await app.inject({ method: 'POST', url: '/v1/contacts', headers, payload: { email: 'not-an-address-secret' } })
  // A failing query: drizzle's error message carries the statement's parameters.
  await app.db.execute(sql`create function boom() returns trigger language plpgsql as $$ begin raise exception 'boom'; end $$`)
  await app.db.execute(sql`create trigger boom before insert on contacts for each row execute function boom()`)
  const failed = await app.inject({ method: 'POST', url: '/v1/contacts', headers, payload: { email: 'secret.person2@example.no' } })
  t.equal(failed.statusCode, 500)
  const log = lines.join('')
  t.ok(log.includes('/v1/contacts?email=…'), 'the query parameter name is kept')
  for (const secret of ['secret.person', 'Secret Person', 'Kari Nordmann', token, 'not-an-address-secret']) {
    t.notOk(log.includes(secret), `the log does not contain ${secret.slice(0, 20)}`)
  }
})
