// Property-based tests of the send decision as the whole service takes it:
// random sequences of what people and systems do — subscribe, unsubscribe,
// unsubscribe-all, objection, complaint, bounce, enroll, complete, time
// passing — run through the real API, and after every step the answers must
// keep the promises of the policy (P3, art. 21(3), the decision table).
import fc from 'fast-check'
import t from 'tap'
import { askerOf, consentPayload, createList, putCourse, putEnrollment, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'

const DAY = 24 * 60 * 60 * 1000

type Op =
  | { op: 'subscribe'; list: 'news' | 'offers'; consent: boolean; source: 'form' | 'staff' }
  | { op: 'unsubscribe'; list: 'news' | 'offers' | 'course0' }
  | { op: 'unsubscribeAll' }
  | { op: 'objection' }
  | { op: 'complaint' }
  | { op: 'bounce' }
  | { op: 'enroll'; course: 0 | 1 }
  | { op: 'complete'; course: 0 | 1 }
  | { op: 'wait'; days: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('subscribe' as const), list: fc.constantFrom('news' as const, 'offers' as const), consent: fc.boolean(), source: fc.constantFrom('form' as const, 'staff' as const) }),
  fc.record({ op: fc.constant('unsubscribe' as const), list: fc.constantFrom('news' as const, 'offers' as const, 'course0' as const) }),
  fc.constant({ op: 'unsubscribeAll' as const }),
  fc.constant({ op: 'objection' as const }),
  fc.constant({ op: 'complaint' as const }),
  fc.constant({ op: 'bounce' as const }),
  fc.record({ op: fc.constant('enroll' as const), course: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ op: fc.constant('complete' as const), course: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ op: fc.constant('wait' as const), days: fc.integer({ min: 1, max: 45 }) }),
)

/** What the test itself knows happened: only facts, never the rules under test. */
interface World {
  email: string
  contactId: string | null
  courses: { id: string; listId: string; endsAt: Date }[]
  enrollment: ('active' | 'completed' | null)[]
  bounced: boolean
  /** Time of the latest unsubscribe-all, and whether an explicit consent came after it. */
  unsubscribedAllAt: Date | null
  consentSinceUnsubscribeAll: boolean
  objectedAt: Date | null
  ownConsentToOffersAfterObjection: boolean
}

interface Lists {
  news: string
  offers: string
  receipts: string
}

let run = 0

async function startWorld(app: TestApp): Promise<World> {
  run++
  const c0 = await putCourse(app, `P${run}-C0`, { endsAt: new Date(app.clock.now().getTime() + 20 * DAY).toISOString() })
  const c1 = await putCourse(app, `P${run}-C1`, { endsAt: new Date(app.clock.now().getTime() + 60 * DAY).toISOString() })
  return {
    email: uniqueEmail('prop'),
    contactId: null,
    courses: [c0, c1].map((c) => ({ id: c.id, listId: c.listId, endsAt: new Date(c.endsAt) })),
    enrollment: [null, null],
    bounced: false,
    unsubscribedAllAt: null,
    consentSinceUnsubscribeAll: false,
    objectedAt: null,
    ownConsentToOffersAfterObjection: false,
  }
}

async function ensureContact(app: TestApp, w: World): Promise<string> {
  if (w.contactId) return w.contactId
  const res = await app.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: w.email } })
  w.contactId = res.json().id
  return w.contactId!
}

async function apply(app: TestApp, w: World, lists: Lists, op: Op): Promise<void> {
  const staff = app.as('staff')
  const now = app.clock.now()
  switch (op.op) {
    case 'subscribe': {
      const contactId = await ensureContact(app, w)
      const res = await staff({
        method: 'POST',
        url: `/v1/lists/${lists[op.list]}/subscriptions`,
        payload: { contactId, source: op.source, ...(op.consent ? { consent: consentPayload() } : {}) },
      })
      // Only the person's own consent speaks over what they said (an unsubscribe, an objection).
      if (res.statusCode === 201 && op.consent && op.source === 'form') {
        w.consentSinceUnsubscribeAll = w.unsubscribedAllAt !== null
        if (op.list === 'offers' && op.source === 'form' && w.objectedAt) w.ownConsentToOffersAfterObjection = true
      }
      return
    }
    case 'unsubscribe': {
      if (!w.contactId) return
      const listId = op.list === 'course0' ? w.courses[0]!.listId : lists[op.list]
      await staff({ method: 'POST', url: `/v1/lists/${listId}/subscriptions/${w.contactId}/unsubscribe`, payload: { source: 'link' } })
      return
    }
    case 'unsubscribeAll': {
      if (!w.contactId) return
      const res = await staff({ method: 'POST', url: `/v1/contacts/${w.contactId}/unsubscribe-all`, payload: { source: 'form' } })
      if (res.statusCode !== 200) throw new Error(`unsubscribe-all: ${res.body}`)
      w.unsubscribedAllAt = now
      w.consentSinceUnsubscribeAll = false
      return
    }
    case 'objection':
    case 'complaint':
    case 'bounce': {
      const scope = { objection: { scope: 'purpose', purpose: 'marketing' }, complaint: { scope: 'global' }, bounce: { scope: 'all-mail' } }[op.op]
      const res = await staff({ method: 'POST', url: '/v1/suppressions', payload: { email: w.email, reason: op.op, ...scope } })
      // 201 for a new suppression, 200 when the same one is in force already.
      if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`suppression: ${res.body}`)
      if (op.op === 'bounce') w.bounced = true
      if (op.op === 'objection') {
        w.objectedAt = now
        w.ownConsentToOffersAfterObjection = false
      }
      return
    }
    case 'enroll':
    case 'complete': {
      if (op.op === 'complete' && w.enrollment[op.course] === null) return
      const course = w.courses[op.course]!
      const status = op.op === 'enroll' ? 'active' : 'completed'
      const res = await putEnrollment(app, `${course.id}-E`, { courseId: course.id, contact: { email: w.email }, status })
      if (res.statusCode >= 300) throw new Error(`enrollment: ${res.body}`)
      w.contactId = res.json().contactId
      w.enrollment[op.course] = status
      return
    }
    case 'wait':
      app.clock.advanceDays(op.days)
      return
  }
}

async function decideAll(app: TestApp, w: World, lists: Lists) {
  const ask = async (payload: Record<string, unknown>) => {
    const res = await app.as(askerOf(payload.kind))({ method: 'POST', url: '/v1/decisions', payload: { email: w.email, ...payload } })
    if (res.statusCode !== 200) throw new Error(`decide: ${res.statusCode} ${res.body}`)
    return res.json()
  }
  return {
    course: [await ask({ kind: 'course', courseId: w.courses[0]!.id }), await ask({ kind: 'course', courseId: w.courses[1]!.id })],
    news: await ask({ kind: 'newsletter', listId: lists.news }),
    offers: await ask({ kind: 'marketing', listId: lists.offers }),
    receipts: await ask({ kind: 'transactional', listId: lists.receipts }),
  }
}

/** Every allowed answer names a basis and evidence that exist in the stored data. */
async function checkEvidence(app: TestApp, w: World, answer: { allowed: boolean; basis: string; evidence: { type: string; id: string } | null }, listId: string) {
  if (!answer.allowed) return null
  if (!answer.basis || !answer.evidence) return 'allowed without basis or evidence'
  const { type, id } = answer.evidence
  if (type === 'consent_event') {
    const history = (await app.as('staff')({ method: 'GET', url: `/v1/contacts/${w.contactId}/consents` })).json().items
    const event = history.find((e: { id: string }) => e.id === id)
    if (!event || event.type !== 'granted' || event.basis !== 'consent' || event.listId !== listId) return `consent evidence ${id} is not a consent grant for the list`
  } else if (type === 'enrollment') {
    const res = await app.as('course-system')({ method: 'GET', url: `/v1/enrollments/${id}` })
    if (res.statusCode !== 200) return `enrollment evidence ${id} does not exist`
  } else if (type === 'list') {
    const res = await app.as('staff')({ method: 'GET', url: `/v1/lists/${id}` })
    if (res.statusCode !== 200 || res.json().kind !== 'transactional') return `list evidence ${id} is not a transactional list`
  } else {
    return `an allowed answer cites ${type}`
  }
  return null
}

async function checkInvariants(app: TestApp, w: World, lists: Lists, history: Op[]) {
  const now = app.clock.now()
  const answers = await decideAll(app, w, lists)
  const active = w.courses.map((c, i) => w.enrollment[i] === 'active' && now < c.endsAt)
  const where = `after ${JSON.stringify(history)}`

  for (const [i, answer] of answers.course.entries()) {
    // P3: course mail during an active enrollment is blocked only by a hard bounce (or an erasure).
    if (active[i] && !w.bounced && !answer.allowed) throw new Error(`course ${i} blocked (${answer.reason}) while enrolled ${where}`)
    if (!active[i] && answer.allowed) throw new Error(`course ${i} allowed without an active enrollment ${where}`)
    if (answer.allowed && answer.basis !== 'contract') throw new Error(`course mail on basis ${answer.basis} ${where}`)
  }
  // Transactional mail: only a hard bounce stops it.
  if (answers.receipts.allowed === w.bounced) throw new Error(`transactional allowed=${answers.receipts.allowed} with bounced=${w.bounced} ${where}`)

  // After unsubscribe-all, once every enrollment has ended, nothing but transactional mail
  // (until the person gives a new explicit consent).
  if (w.unsubscribedAllAt && !w.consentSinceUnsubscribeAll && !active.some(Boolean)) {
    for (const [name, answer] of [['course0', answers.course[0]], ['course1', answers.course[1]], ['news', answers.news], ['offers', answers.offers]] as const) {
      if (answer.allowed) throw new Error(`${name} allowed after unsubscribe-all ${where}`)
    }
  }
  // An objection to marketing is absolute until the person's own new consent.
  if (w.objectedAt && !w.ownConsentToOffersAfterObjection && answers.offers.allowed) {
    throw new Error(`marketing allowed after an objection ${where}`)
  }
  if (w.bounced && [answers.news, answers.offers, ...answers.course].some((a) => a.allowed)) {
    throw new Error(`something allowed after a hard bounce ${where}`)
  }
  const problems = [
    await checkEvidence(app, w, answers.course[0], w.courses[0]!.listId),
    await checkEvidence(app, w, answers.course[1], w.courses[1]!.listId),
    await checkEvidence(app, w, answers.news, lists.news),
    await checkEvidence(app, w, answers.offers, lists.offers),
    await checkEvidence(app, w, answers.receipts, lists.receipts),
  ].filter(Boolean)
  if (problems.length) throw new Error(`${problems.join('; ')} ${where}`)
}

/** Sequences that once mattered, always run before the random ones. */
const KNOWN_SEQUENCES: Op[][] = [
  // Found by this test: an objection after the person's own new consent must count again.
  [{ op: 'objection' }, { op: 'subscribe', list: 'offers', consent: true, source: 'form' }, { op: 'objection' }],
  // An objection does not yield to a consent that staff recorded.
  [{ op: 'objection' }, { op: 'subscribe', list: 'offers', consent: true, source: 'staff' }],
  // Nor does an unsubscribe-all; the person's own consent reopens that one list.
  [{ op: 'subscribe', list: 'news', consent: true, source: 'form' }, { op: 'unsubscribeAll' }, { op: 'subscribe', list: 'news', consent: true, source: 'staff' }, { op: 'subscribe', list: 'offers', consent: true, source: 'form' }],
  // Unsubscribe-all during a course: the course list follows at course end.
  [{ op: 'enroll', course: 0 }, { op: 'subscribe', list: 'news', consent: true, source: 'form' }, { op: 'unsubscribeAll' }, { op: 'wait', days: 25 }],
  // A complaint during a course never blocks course mail; a bounce does.
  [{ op: 'enroll', course: 1 }, { op: 'complaint' }, { op: 'unsubscribe', list: 'course0' }, { op: 'bounce' }],
  // Existing-customer marketing ends with an unsubscribe and returns only with consent.
  [{ op: 'enroll', course: 0 }, { op: 'complete', course: 0 }, { op: 'unsubscribe', list: 'offers' }, { op: 'subscribe', list: 'offers', consent: true, source: 'form' }],
]

t.test('random sequences of life events never break the policy promises', async (t) => {
  const app = await build(t)
  const lists: Lists = {
    news: (await createList(app, { kind: 'newsletter' })).id,
    offers: (await createList(app, { kind: 'marketing', categories: ['yoga'] })).id,
    receipts: (await createList(app, { kind: 'transactional' })).id,
  }
  // Sized for npm test (each sequence is a person's life through the real API); CI's PostgreSQL run asks for more.
  const numRuns = Number(process.env.PROPERTY_RUNS ?? 12)
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 16, size: 'medium' }), async (ops) => {
      const w = await startWorld(app)
      const done: Op[] = []
      for (const op of ops) {
        await apply(app, w, lists, op)
        // A minute between steps, as between real events: "after" then means after.
        app.clock.advance(60_000)
        done.push(op)
        await checkInvariants(app, w, lists, done)
      }
    }),
    { numRuns, endOnFailure: true, examples: KNOWN_SEQUENCES.map((ops) => [ops] as [Op[]]) },
  )
  t.pass(`${numRuns} random sequences kept every promise`)
})
