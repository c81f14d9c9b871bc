import t from 'tap'
import { storedAddressHash } from '../../src/lib/email.js'
import { systemActor } from '../../src/lib/actor.js'
import { suppressIn } from '../../src/suppressions/service.js'
import { askerOf, consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, PEPPER } from '../helper.js'

// Erasure requests arrive in a later issue; they write their tombstone through
// the same suppressIn used here, keyed by the address hash alone.
t.test('an address under an erasure tombstone may enter a new contract, and marketing stays blocked', async (t) => {
  const app = await build(t)
  const email = uniqueEmail('erased')
  const offers = await createList(app, { kind: 'marketing', categories: ['yoga'] })
  const news = await createList(app, { kind: 'newsletter' })
  await suppressIn(app.app.db, systemActor, app.clock.now(), { contactId: null, addressHash: storedAddressHash(email, PEPPER) }, {
    scope: 'global',
    reason: 'erasure',
  })
  app.clock.advance(60_000)

  await putCourse(app, 'C1')
  const enrolled = await putEnrollment(app, 'E1', { courseId: 'C1', contact: { email } })
  t.equal(enrolled.statusCode, 201, 'the new contract is accepted')
  const { contactId } = enrolled.json()

  const ask = async (payload: Record<string, unknown>) =>
    (await app.as(askerOf(payload.kind))({ method: 'POST', url: '/v1/decisions', payload: { email, ...payload } })).json()
  t.match(await ask({ kind: 'course', courseId: 'C1' }), { allowed: true, basis: 'contract', evidence: { type: 'enrollment', id: 'E1' } })
  t.match(await ask({ kind: 'marketing', listId: offers.id }), { allowed: false, reason: 'erased' }, 'the purchase does not open marketing')

  await subscribe(app, news.id, { contactId, source: 'staff', consent: consentPayload() })
  t.match(await ask({ kind: 'newsletter', listId: news.id }), { allowed: false, reason: 'erased' }, 'a consent staff recorded does not lift it')
  await subscribe(app, offers.id, { contactId, source: 'form', consent: consentPayload() })
  t.match(await ask({ kind: 'marketing', listId: offers.id }), { allowed: true, basis: 'consent' }, "the person's own new consent does")
})
