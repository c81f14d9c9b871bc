// Retention runs: each rule of the processing register, with its days, on a
// world of people on either side of every line. A dry run lists exactly what
// the run then does and changes nothing; the run leaves a summary in the
// audit log; a second run finds nothing more. The CLI prints the same.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { selectRows } from '../../db/client.js'
import { systemActor } from '../../src/lib/actor.js'
import { consentPayload, createContact, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { auditTrail, build, preparedDataDir, type TestApp } from '../helper.js'
import { entryPoint } from '../support/entry-point.js'

const DAY = 24 * 60 * 60 * 1000
const run = promisify(execFile)

/** A course that started and ended `endedDaysAgo` days ago (negative: ends in the future), with one enrollment. */
async function enrolledOn(app: TestApp, name: string, endedDaysAgo: number, extra: Record<string, unknown> = {}) {
  const now = app.clock.now().getTime()
  await putCourse(app, `course-${name}`, {
    startsAt: new Date(now - (endedDaysAgo + 10) * DAY).toISOString(),
    endsAt: new Date(now - endedDaysAgo * DAY).toISOString(),
  })
  const res = await putEnrollment(app, `enrollment-${name}`, {
    courseId: `course-${name}`,
    contact: { email: uniqueEmail(name) },
    enrolledAt: new Date(now - (endedDaysAgo + 20) * DAY).toISOString(),
    ...extra,
  })
  if (res.statusCode !== 201) throw new Error(`${name}: ${res.statusCode} ${res.body}`)
  return res.json().contactId as string
}

t.test('retention runs', async (t) => {
  const app = await build(t)
  const staff = app.as('staff')
  const exists = async (contactId: string) => (await staff({ method: 'GET', url: `/v1/contacts/${contactId}` })).statusCode === 200
  const count = async (query: ReturnType<typeof sql>) => (await selectRows<{ n: number }>(app.app.db, query))[0]!.n

  // Three years and more ago: a message, to someone who asked to keep their data.
  const veteran = await enrolledOn(app, 'veteran', -5, { keepDataAfterCourse: true })
  const sent = await app.as('course-system')({
    method: 'POST',
    url: '/v1/sends',
    payload: { idempotencyKey: 'retention-old', template: 'course-message', kind: 'course', courseId: 'course-veteran', contactId: veteran, data: { name: 'Vera', courseName: 'Vev', message: 'Hei' } },
  })
  t.equal(sent.statusCode, 202)
  app.clock.advance(1100 * DAY)

  const finished = await enrolledOn(app, 'finished', 40)
  const keeper = await enrolledOn(app, 'keeper', 40, { keepDataAfterCourse: true })
  // Kept their data after a first course, then took the next one, which ended too: the wish was for that course.
  const returning = await enrolledOn(app, 'returning-first', 400, { keepDataAfterCourse: true })
  const returningEmail = (await staff({ method: 'GET', url: `/v1/contacts/${returning}` })).json().email
  await putCourse(app, 'course-returning-second', {
    startsAt: new Date(app.clock.now().getTime() - 60 * DAY).toISOString(),
    endsAt: new Date(app.clock.now().getTime() - 45 * DAY).toISOString(),
  })
  await putEnrollment(app, 'enrollment-returning-second', { courseId: 'course-returning-second', contact: { email: returningEmail } })
  const reader = await enrolledOn(app, 'reader', 40)
  const news = await createList(app, { kind: 'newsletter' })
  await subscribe(app, news.id, { contactId: reader, source: 'form', consent: consentPayload() })
  const running = await enrolledOn(app, 'running', -10)
  const recent = await enrolledOn(app, 'recent', 10)
  const paidLongAgo = await enrolledOn(app, 'paid-long-ago', -30, { paymentReference: 'pi_old', enrolledAt: new Date(app.clock.now().getTime() - 20 * DAY).toISOString() })
  const paidToday = await enrolledOn(app, 'paid-today', -30, { paymentReference: 'pi_new', enrolledAt: app.clock.now().toISOString() })

  const optIn = await createList(app, { kind: 'newsletter', doubleOptIn: true, public: true })
  const signup = async (contactId?: string) =>
    (await subscribe(app, optIn.id, { contactId: contactId ?? (await createContact(app)).id, source: 'form', consent: consentPayload() })).json()
  const lonely = await signup()
  t.equal(lonely.status, 'pending')
  const readerPending = await signup(reader)
  app.clock.advance(8 * DAY)
  const fresh = await signup()

  const before = {
    ledgerNamed: await count(sql`select count(*)::int as n from send_ledger where contact_id = ${veteran}::uuid`),
    messagesNamed: await count(sql`select count(*)::int as n from messages where to_address is not null and contact_id = ${veteran}::uuid`),
  }
  t.ok(before.ledgerNamed > 0 && before.messagesNamed > 0)

  const dry = await app.app.services.retention.run(systemActor, { dryRun: true })
  t.test('a dry run lists what would go and changes nothing', async (t) => {
    t.same(dry.courseParticipantsErased.sort(), [finished, returning].sort(), 'the finished course participants with nothing else, and the one whose wish was for a course now over')
    t.equal(dry.courseParticipantsKept, 1, 'the one on a newsletter is kept')
    t.same(dry.unconfirmedSignupsDeleted.sort(), [lonely.id, readerPending.id].sort())
    t.same(dry.unconfirmedPeopleErased, [lonely.contactId], 'the person whose signup was all we held')
    t.equal(dry.paymentReferencesCleared, 1)
    t.ok(dry.ledgerRowsRedacted >= before.ledgerNamed)
    t.ok(dry.messagesRedacted >= before.messagesNamed)
    t.ok(await exists(finished))
    t.ok(await exists(lonely.contactId))
    t.equal(await count(sql`select count(*)::int as n from send_ledger where contact_id = ${veteran}::uuid`), before.ledgerNamed)
    t.equal(await count(sql`select count(*)::int as n from enrollments where payment_reference is not null`), 2)
    t.equal((await auditTrail(app, 'retention', app.clock.now().toISOString().slice(0, 10))).length, 0, 'a dry run leaves no summary')
  })

  t.test('the run does what the dry run said, and leaves a summary', async (t) => {
    const done = await app.app.services.retention.run(systemActor)
    t.same({ ...done, dryRun: true }, dry)
    t.notOk(await exists(finished), 'erased')
    t.notOk(await exists(returning), 'erased after the next course')
    t.notOk(await exists(lonely.contactId), 'erased with the signup')
    for (const kept of [keeper, reader, running, recent, veteran, paidLongAgo, paidToday, fresh.contactId]) t.ok(await exists(kept), `${kept} stays`)
    const readerLists = (await staff({ method: 'GET', url: `/v1/contacts/${reader}/subscriptions` })).json().items.map((s: { listId: string }) => s.listId)
    t.notOk(readerLists.includes(optIn.id), 'the stale pending signup went')
    t.ok(readerLists.includes(news.id), 'the confirmed list stays')
    const [fresh_] = (await staff({ method: 'GET', url: `/v1/contacts/${fresh.contactId}/subscriptions` })).json().items
    t.equal(fresh_.status, 'pending', 'a signup a day old waits')
    t.same(
      (await selectRows<{ id: string; payment_reference: string | null }>(app.app.db, sql`select id, payment_reference from enrollments where id in ('enrollment-paid-long-ago', 'enrollment-paid-today') order by id`)),
      [
        { id: 'enrollment-paid-long-ago', payment_reference: null },
        { id: 'enrollment-paid-today', payment_reference: 'pi_new' },
      ],
    )
    t.equal(await count(sql`select count(*)::int as n from send_ledger where contact_id = ${veteran}::uuid`), 0, 'old decisions keep only the hash')
    t.equal(await count(sql`select count(*)::int as n from messages where contact_id = ${veteran}::uuid or to_address is not null and created_at < now() - interval '1000 days'`), 0)
    const [summary] = await auditTrail(app, 'retention', app.clock.now().toISOString().slice(0, 10))
    t.match(summary, {
      action: 'retention.run',
      actorId: 'system:scheduler',
      changes: { courseParticipantsErased: 2, courseParticipantsKept: 1, unconfirmedSignupsDeleted: 2, unconfirmedPeopleErased: 1, paymentReferencesCleared: 1 },
    })
  })

  t.test('a second run finds nothing more to do', async (t) => {
    const again = await app.app.services.retention.run(systemActor)
    t.match(again, { courseParticipantsErased: [], unconfirmedSignupsDeleted: [], unconfirmedPeopleErased: [], paymentReferencesCleared: 0, ledgerRowsRedacted: 0, messagesRedacted: 0 })
  })
})

t.test('npm run retention -- --dry-run on the embedded database', async (t) => {
  const dataDir = await preparedDataDir(t, 'retention-cli-')
  const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' }
  delete (env as Record<string, string | undefined>).DATABASE_URL
  const { stdout } = await run(process.execPath, [...entryPoint('src/cli/retention.ts'), '--dry-run'], { env, timeout: 120_000 })
  t.match(stdout, /^Retention, dry run: nothing was changed\. A run now would:/)
  t.match(stdout, /erase course participants \(P1, days after their last course\): 0/)
  const bad = await run(process.execPath, [...entryPoint('src/cli/retention.ts'), '--everything'], { env, timeout: 60_000 }).catch((error) => error)
  t.equal(bad.code, 2)
  t.match(bad.stderr, /usage: npm run retention/)
})
