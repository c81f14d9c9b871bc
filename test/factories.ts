// Factories: make rows through the real API so every test exercises the same paths users do.
import type { TestApp } from './helper.js'

let counter = 0
export const uniqueEmail = (prefix = 'person') => `${prefix}.${process.pid}.${++counter}@example.no`

export async function createContact(t: TestApp, body: Record<string, unknown> = {}) {
  const res = await t.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: uniqueEmail(), ...body } })
  if (res.statusCode !== 201) throw new Error(`createContact: ${res.statusCode} ${res.body}`)
  return res.json()
}

let listCounter = 0
export async function createList(t: TestApp, body: Record<string, unknown> = {}) {
  const res = await t.as('staff')({
    method: 'POST',
    url: '/v1/lists',
    payload: { slug: `list-${process.pid}-${++listCounter}`, name: 'A list', kind: 'newsletter', ...body },
  })
  if (res.statusCode !== 201) throw new Error(`createList: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** A consent payload as a signup form would send it: the explicit act and the notice seen. */
export const consentPayload = (version = 1, text = `Ja, send meg nyhetsbrev (v${version}).`) => ({
  given: true,
  notice: { key: 'newsletter-signup', version, text },
  ip: '192.0.2.10',
  userAgent: 'Mozilla/5.0 (test)',
})

export async function subscribe(t: TestApp, listId: string, body: Record<string, unknown>) {
  return t.as('staff')({ method: 'POST', url: `/v1/lists/${listId}/subscriptions`, payload: { source: 'staff', ...body } })
}

const DAY = 24 * 60 * 60 * 1000

/** A course from the course system; by default it started yesterday and ends in 30 days. */
export async function putCourse(t: TestApp, courseId: string, body: Record<string, unknown> = {}) {
  const now = t.clock.now().getTime()
  const res = await t.as('course-system')({
    method: 'PUT',
    url: `/v1/courses/${courseId}`,
    payload: {
      name: `Course ${courseId}`,
      category: 'yoga',
      startsAt: new Date(now - DAY).toISOString(),
      endsAt: new Date(now + 30 * DAY).toISOString(),
      ...body,
    },
  })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`putCourse: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function putEnrollment(t: TestApp, enrollmentId: string, body: Record<string, unknown>) {
  return t.as('course-system')({
    method: 'PUT',
    url: `/v1/enrollments/${enrollmentId}`,
    payload: { status: 'active', marketingOptOut: false, ...body },
  })
}

/** Who asks the decision about a kind of message: the course system sends course and transactional mail, staff the rest. */
export const askerOf = (kind: unknown) => (kind === 'course' || kind === 'transactional' ? 'course-system' : 'staff')

/** POST /v1/decisions, asked by the role that sends that kind of mail. */
export async function askDecision(t: TestApp, payload: Record<string, unknown>) {
  const res = await t.as(askerOf(payload.kind))({ method: 'POST', url: '/v1/decisions', payload })
  if (res.statusCode !== 200) throw new Error(`decide: ${res.statusCode} ${res.body}`)
  return res.json()
}
