import t from 'tap'
import { putCourse, putEnrollment, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'
import { systemActor } from '../../src/lib/actor.js'

const DAY = 24 * 60 * 60 * 1000

/** Enrolls a person, who then asks to leave the course list: the wish is held by the lock. */
async function heldWish(app: TestApp) {
  const course = await putCourse(app, 'C1')
  const { contactId } = (await putEnrollment(app, 'E1', { courseId: 'C1', contact: { email: uniqueEmail() } })).json()
  const res = await app.as('staff')({ method: 'POST', url: `/v1/lists/${course.listId}/subscriptions/${contactId}/unsubscribe`, payload: { source: 'link' } })
  if (res.statusCode !== 409) throw new Error(`expected the lock, got ${res.statusCode}`)
  return { course, contactId: contactId as string }
}

const courseListStatus = async (app: TestApp, listId: string) =>
  (await app.as('staff')({ method: 'GET', url: `/v1/lists/${listId}/subscriptions` })).json().items[0].status

t.test('the sweep carries out held opt-outs once the course is over by date, and only then', async (t) => {
  const app = await build(t)
  const { course, contactId } = await heldWish(app)
  const { optOut: subscriptions } = app.app.services

  t.equal(await subscriptions.applyDueDeferredUnsubscribes(systemActor), 0, 'nothing is due while the course runs')
  t.equal(await courseListStatus(app, course.listId), 'active')

  app.clock.set(new Date(new Date(course.endsAt).getTime() + DAY))
  t.equal(await subscriptions.applyDueDeferredUnsubscribes(systemActor), 1)
  t.equal(await courseListStatus(app, course.listId), 'unsubscribed')
  const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/consents` })).json().items
  t.match(history.at(-1), { type: 'withdrawn', source: 'link', actorId: 'system:scheduler' })
  t.equal(await subscriptions.applyDueDeferredUnsubscribes(systemActor), 0, 'a wish is carried out once')
})

t.test('pg-boss runs the sweep as a scheduled job on this database', async (t) => {
  const app = await build(t, { config: { runJobs: true } })
  const boss = app.app.boss!
  t.ok(boss, 'the job engine runs')
  const schedules = await boss.getSchedules()
  t.ok(schedules.some((s) => s.name === 'apply-deferred-unsubscribes'), 'the sweep is scheduled')

  const { course } = await heldWish(app)
  app.clock.set(new Date(new Date(course.endsAt).getTime() + DAY))
  const jobId = (await boss.send('apply-deferred-unsubscribes', {}))!
  // Wait for the job's own completion (bounded), never a fixed sleep.
  let state: string | undefined
  for (let i = 0; i < 200 && state !== 'completed' && state !== 'failed'; i++) {
    state = (await boss.getJobById('apply-deferred-unsubscribes', jobId))?.state
    if (state !== 'completed') await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(state, 'completed')
  t.equal(await courseListStatus(app, course.listId), 'unsubscribed')
})
