// With MIGRATION_DATABASE_URL the tables' owner migrates and the service runs
// as a role with only the DML it needs: whoever holds the service's
// credentials cannot switch off the triggers that keep the ledgers
// append-only, truncate a table or delete a ledger row. PostgreSQL only: the
// embedded database has no roles.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import t from 'tap'
import { grantStatements, schemaTables, servicePrivileges } from '../../db/privileges.js'
import { buildApp } from '../../src/app.js'
import { signTestToken, testConfig, TestClock, testLogger } from '../helper.js'

t.test('every table of the schema has its privileges stated', async (t) => {
  t.same(schemaTables().sort(), Object.keys(servicePrivileges).sort())
  t.ok(grantStatements('someone', 'pgboss').every((s) => !/TRUNCATE|ALL PRIVILEGES|OWNER/.test(s) || s.startsWith('REVOKE')), 'nothing grants TRUNCATE or ownership')
})

const serverUrl = process.env.TEST_DATABASE_URL
t.test('the service role cannot disable a trigger, truncate or delete a ledger row', { skip: !serverUrl && 'needs PostgreSQL (TEST_DATABASE_URL)' }, async (t) => {
  const role = 'samtykke_test_service'
  const database = `samtykke_lp_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgres(serverUrl!, { max: 1, onnotice: () => {} })
  // Roles are cluster-wide; this one is made once and reused by later runs.
  await admin.unsafe(`do $$ begin create role ${role} login; exception when duplicate_object then null; end $$`)
  await admin.unsafe(`create database "${database}"`)
  t.teardown(async () => {
    await admin.unsafe(`drop database if exists "${database}" with (force)`)
    await admin.end()
  })
  const ownerUrl = new URL(serverUrl!)
  ownerUrl.pathname = `/${database}`
  const serviceUrl = new URL(ownerUrl)
  serviceUrl.username = role

  const config = testConfig({ databaseUrl: serviceUrl.toString(), migrationDatabaseUrl: ownerUrl.toString(), runJobs: true, rateLimitStore: 'postgres' })
  const app = await buildApp(config, { database: { engine: 'postgres', url: serviceUrl.toString() }, clock: new TestClock(), logger: testLogger(t, config).logger })
  t.teardown(() => app.close())

  // The service works as that role: it writes contacts, audit and consent rows, and its jobs run.
  const created = await app.inject({
    method: 'POST',
    url: '/v1/contacts',
    headers: { authorization: `Bearer ${signTestToken('staff')}` },
    payload: { email: 'kari@example.no', name: 'Kari Nordmann' },
  })
  t.equal(created.statusCode, 201, 'a contact was created through the service role')
  t.ok((await app.boss!.getSchedules()).length > 0, 'pg-boss schedules as the service role')
  t.equal(created.headers['x-ratelimit-remaining'], String(config.rateLimitPerMinute - 1), 'the request was counted in rate_limit_counters as the service role')

  const asService = postgres(serviceUrl.toString(), { max: 1, onnotice: () => {} })
  t.teardown(() => asService.end())
  const refusal = async (statement: string) => {
    try {
      await asService.unsafe(statement)
      return 'no error'
    } catch (error) {
      return (error as Error).message
    }
  }
  t.match(await refusal('alter table consent_events disable trigger consent_events_append_only'), /must be owner/)
  t.match(await refusal('alter table send_ledger disable trigger all'), /must be owner/)
  for (const table of ['consent_events', 'audit_events', 'send_ledger', 'suppressions', 'contacts']) {
    t.match(await refusal(`truncate ${table}`), /permission denied/, `TRUNCATE ${table} refused`)
  }
  for (const table of ['consent_events', 'audit_events', 'notices', 'token_revocations']) {
    t.match(await refusal(`delete from ${table}`), /permission denied/, `DELETE FROM ${table} refused`)
  }
  for (const table of ['audit_events', 'notices', 'token_revocations']) {
    t.match(await refusal(`update ${table} set id = id`), /permission denied/, `UPDATE ${table} refused`)
  }
  // Erasure works as that role: it deletes what goes and redacts the ledgers, whose triggers allow nothing but that.
  const erased = await app.inject({
    method: 'POST',
    url: `/v1/contacts/${created.json().id}/erase`,
    headers: { authorization: `Bearer ${signTestToken('admin')}` },
    payload: {},
  })
  t.equal(erased.statusCode, 200, 'an erasure runs as the service role')
  t.match(await refusal('delete from send_ledger'), /permission denied/, 'DELETE FROM send_ledger refused')
  t.match(await refusal('drop table contacts'), /must be owner/)
  t.match(await refusal('create table mine (id int)'), /permission denied/)
  const [row] = await asService<{ n: number }[]>`select count(*)::int as n from audit_events`
  t.ok(row!.n >= 1, 'the audit row is still there')
})
