// The processing register: the file in the repo is valid and is what the API
// answers; a register with a broken reference or a missing retention number
// stops the service at start; lists may only have purposes it knows, on the
// basis it gives them.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseConfig } from '../../src/config.js'
import { checkRegister, loadRegister, type ProcessingRegister } from '../../src/register/register.js'
import { createList } from '../factories.js'
import { build } from '../helper.js'

const shipped = loadRegister()
const copy = (): ProcessingRegister => structuredClone(shipped)

t.test('the shipped register covers every kind of list and every category the policy names (P7)', async (t) => {
  t.same(
    shipped.dataCategories.map((c) => c.id),
    ['basic', 'contact', 'profile', 'payment', 'customer-history', 'customer-activity'],
  )
  const byId = new Map(shipped.purposes.map((p) => [p.id, p]))
  t.match(byId.get('course'), { legalBasis: 'contract', listKinds: ['course'], retention: { rule: 'after_course_end' } })
  t.match(byId.get('payment'), { recipients: ['stripe'], retention: { rule: 'after_withdrawal_period', days: 14 } })
  t.match(byId.get('bookkeeping'), { legalBasis: 'legal_obligation', retention: { rule: 'years', years: 5 } })
  t.match(byId.get('signup-confirmation'), { retention: { rule: 'unconfirmed_after', days: 7 } })
})

t.test('a register with a problem is refused, naming every problem', async (t) => {
  const broken = copy()
  broken.purposes[0]!.dataCategories.push('shoe-size')
  broken.purposes[0]!.recipients.push('nobody')
  delete broken.purposes[0]!.retention.days
  broken.purposes.push(structuredClone(broken.purposes[1]!))
  const message = (() => {
    try {
      checkRegister(broken)
      return 'accepted'
    } catch (error) {
      return (error as Error).message
    }
  })()
  t.match(message, /unknown data category "shoe-size"/)
  t.match(message, /unknown processor "nobody"/)
  t.match(message, /retention "after_course_end" needs days/)
  t.match(message, /purpose "transactional" appears twice/)

  const noCourse = copy()
  noCourse.purposes = noCourse.purposes.filter((p) => !p.listKinds.includes('course'))
  t.throws(() => checkRegister(noCourse), /no purpose serves course lists/)

  const wrongShape = { ...copy(), purposes: [{ ...copy().purposes[0]!, legalBasis: 'vibes' }] }
  t.throws(() => checkRegister(wrongShape), /legalBasis/)
})

t.test('the service does not start on a broken register file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'register-'))
  const file = join(dir, 'register.json')
  writeFileSync(file, '{"version": "x", ')
  t.throws(() => parseConfig({ DATA_DIR: dir, PROCESSING_REGISTER_FILE: file }), /could not be read/)
  const bad = copy()
  bad.processors[0]!.dataCategories = ['nothing-like-it']
  writeFileSync(file, JSON.stringify(bad))
  t.throws(() => parseConfig({ DATA_DIR: dir, PROCESSING_REGISTER_FILE: file }), /processor "stripe" names an unknown data category/)
  const other = copy()
  other.version = 'the other one'
  writeFileSync(file, JSON.stringify(other))
  t.equal(parseConfig({ DATA_DIR: dir, PROCESSING_REGISTER_FILE: file }).processingRegister.version, 'the other one')
})

t.test('the API', async (t) => {
  const app = await build(t, { config: { controllerName: 'Vekstly AS', controllerEmail: 'hei@vekstly.no' } })

  t.test('GET /v1/processing-register answers the register the service runs on, with the controller', async (t) => {
    const res = await app.as('staff')({ method: 'GET', url: '/v1/processing-register' })
    t.equal(res.statusCode, 200)
    const record = res.json()
    t.same(record.controller, { name: 'Vekstly AS', email: 'hei@vekstly.no' })
    t.same(record.purposes, shipped.purposes)
    t.same(record.processors, shipped.processors)
    t.equal((await app.as('course-system')({ method: 'GET', url: '/v1/processing-register' })).statusCode, 403)
    t.equal((await app.app.inject({ method: 'GET', url: '/v1/processing-register' })).statusCode, 401)
  })

  t.test('a list gets the register purpose for its kind and basis, or the one it names if that fits', async (t) => {
    t.match(await createList(app, { kind: 'newsletter' }), { purpose: 'newsletter', basis: 'consent' })
    t.match(await createList(app, { kind: 'marketing' }), { purpose: 'marketing', basis: 'legitimate_interest' })
    t.match(await createList(app, { kind: 'transactional' }), { purpose: 'transactional', basis: 'contract' })
    t.match(await createList(app, { kind: 'transactional', basis: 'legal_obligation' }), { purpose: 'bookkeeping' })
    t.match(await createList(app, { kind: 'transactional', basis: 'legal_obligation', purpose: 'signup-confirmation' }), { purpose: 'signup-confirmation' })
  })

  t.test('a purpose the register does not know, or one that does not fit the list, is refused and nothing is stored', async (t) => {
    const post = (payload: Record<string, unknown>) => app.as('staff')({ method: 'POST', url: '/v1/lists', payload })
    const unknown = await post({ slug: 'yoga-news', name: 'Yoga', kind: 'newsletter', purpose: 'yoga-news' })
    t.equal(unknown.statusCode, 422)
    t.match(unknown.json(), { code: 'purpose_unknown', purposes: ['newsletter'] })
    const wrongKind = await post({ slug: 'sneaky-marketing', name: 'Sneaky', kind: 'marketing', purpose: 'newsletter' })
    t.equal(wrongKind.statusCode, 422)
    t.equal(wrongKind.json().code, 'purpose_mismatch')
    const wrongBasis = await post({ slug: 'receipts-on-contract', name: 'Receipts', kind: 'transactional', purpose: 'bookkeeping' })
    t.equal(wrongBasis.statusCode, 422, 'bookkeeping stands on legal obligation, the list on contract')
    t.equal(wrongBasis.json().code, 'purpose_mismatch')
    const listed = (await app.as('staff')({ method: 'GET', url: '/v1/lists?limit=200' })).json().items.map((l: { slug: string }) => l.slug)
    t.notOk(listed.some((slug: string) => ['yoga-news', 'sneaky-marketing', 'receipts-on-contract'].includes(slug)))
  })
})
