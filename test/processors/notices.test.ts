// Telling third parties (P9): an erasure or a rectification writes a notice
// per processor in the register. A webhook processor (a real HTTP server in
// this process) gets an HMAC-signed POST, retried with backoff while it fails,
// and the request shows how it went; a manual processor is a task staff mark
// done. A webhook processor without its secret stops the service at start.
import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { parseConfig } from '../../src/config.js'
import { backoffMs, MAX_ATTEMPTS } from '../../src/processors/service.js'
import { loadRegister, type ProcessingRegister } from '../../src/register/register.js'
import { putCourse, putEnrollment, uniqueEmail } from '../factories.js'
import { build } from '../helper.js'

const SECRET = 'webhook-secret-webhook-secret-42'
const DAY = 24 * 60 * 60 * 1000

interface Received {
  body: string
  headers: IncomingMessage['headers']
}

/** A processor's endpoint: answers with the next status of `answers` (then 200), and keeps what it got. */
async function startEndpoint(t: { teardown: (fn: () => Promise<void>) => void }, answers: number[]) {
  const received: Received[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      received.push({ body, headers: request.headers })
      response.statusCode = answers.shift() ?? 200
      response.end('ok')
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  t.teardown(() => new Promise<void>((done) => server.close(() => done())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/samtykke`, received, answers }
}

function registerWith(url: string): ProcessingRegister {
  const register = structuredClone(loadRegister())
  register.processors.push({
    id: 'mailer',
    name: 'Mailer AS',
    role: { nb: 'E-postleverandør', en: 'Email provider' },
    dataCategories: ['contact'],
    notify: { type: 'webhook', url, secretEnv: 'MAILER_WEBHOOK_SECRET' },
  })
  return register
}

t.test('notices to third parties', async (t) => {
  const endpoint = await startEndpoint(t, [500, 503])
  const app = await build(t, { config: { processingRegister: registerWith(endpoint.url), processorSecrets: { mailer: SECRET } } })
  const staff = app.as('staff')
  const deliver = () => app.app.services.processors.deliverDue()
  const requestOf = async (id: string) => (await staff({ method: 'GET', url: `/v1/requests/${id}` })).json()

  t.test('an erasure tells every processor; a failing webhook is retried with backoff until it is taken', async (t) => {
    await putCourse(app, 'paid-course')
    const enrolled = await putEnrollment(app, 'paid-enrollment', { courseId: 'paid-course', contact: { email: uniqueEmail('paying') }, paymentReference: 'pi_3Nabc123' })
    t.equal(enrolled.statusCode, 201)
    t.equal(enrolled.json().paymentReference, 'pi_3Nabc123')
    const contactId = enrolled.json().contactId
    app.clock.advance(31 * DAY)
    const request = (await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'erasure', channel: 'email', contactId } })).json()
    const erased = (await app.as('admin')({ method: 'POST', url: `/v1/contacts/${contactId}/erase`, payload: { requestId: request.id } })).json()
    t.match(erased.notices, [
      { processorId: 'stripe', method: 'manual', status: 'manual' },
      { processorId: 'mailer', method: 'webhook', status: 'pending' },
    ])

    t.same(await deliver(), { delivered: 0, retrying: 1, failed: 0 })
    let webhook = (await requestOf(request.id)).processorNotices.find((n: { processorId: string }) => n.processorId === 'mailer')
    t.match(webhook, { status: 'pending', attempts: 1, lastError: 'HTTP 500' }, 'the request shows the failed attempt')
    t.same(await deliver(), { delivered: 0, retrying: 0, failed: 0 }, 'not again before the backoff has passed')
    app.clock.advance(backoffMs(1))
    t.same(await deliver(), { delivered: 0, retrying: 1, failed: 0 })
    app.clock.advance(backoffMs(2))
    t.same(await deliver(), { delivered: 1, retrying: 0, failed: 0 })
    webhook = (await requestOf(request.id)).processorNotices.find((n: { processorId: string }) => n.processorId === 'mailer')
    t.match(webhook, { status: 'delivered', attempts: 3, lastError: null, paymentReferences: [] }, 'the reference is cleared once delivered')
    t.equal(endpoint.received.length, 3)

    const last = endpoint.received.at(-1)!
    const [, timestamp, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(last.headers['x-samtykke-signature']))!
    t.equal(mac, createHmac('sha256', SECRET).update(`${timestamp}.${last.body}`).digest('hex'), 'signed with the processor’s secret')
    t.equal(last.headers['x-samtykke-notice'], webhook.id)
    const body = JSON.parse(last.body)
    t.match(body, { type: 'erasure', requestId: request.id, subject: { paymentReferences: ['pi_3Nabc123'], addressHash: /^[0-9a-f]{64}$/ } })
    t.notOk('current' in body.subject, 'an erasure names the person only by the processor’s reference and the keyed hash')
  })

  t.test('a manual processor’s notice is a task staff mark done, once', async (t) => {
    const open = (await staff({ method: 'GET', url: '/v1/processor-notices?open=true' })).json().items
    const manual = open.find((n: { processorId: string }) => n.processorId === 'stripe')
    t.match(manual, { status: 'manual', paymentReferences: ['pi_3Nabc123'] })
    const done = await staff({ method: 'POST', url: `/v1/processor-notices/${manual.id}/done`, payload: { note: 'Deleted in the Stripe dashboard' } })
    t.match(done.json(), { status: 'done', doneById: 'staff:test', paymentReferences: [] })
    const again = await staff({ method: 'POST', url: `/v1/processor-notices/${manual.id}/done`, payload: { note: 'again' } })
    t.equal(again.statusCode, 409)
    t.equal(again.json().code, 'notice_closed')
    t.equal((await staff({ method: 'GET', url: '/v1/processor-notices?open=true' })).json().items.length, 0)
    t.equal((await staff({ method: 'POST', url: '/v1/processor-notices/00000000-0000-4000-8000-000000000000/done', payload: { note: 'x y z' } })).json().code, 'processor_notice_not_found')
  })

  t.test('a rectification tells them too, with the current values read when the notice goes', async (t) => {
    const email = uniqueEmail('rectified')
    const { contactId } = (await putEnrollment(app, 'rectified-enrollment', { courseId: 'paid-course', contact: { email }, paymentReference: 'pi_rect' })).json()
    const request = (await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'rectification', channel: 'phone', contactId } })).json()
    await staff({ method: 'PATCH', url: `/v1/contacts/${contactId}`, payload: { name: 'Kari Rettet' } })
    await staff({ method: 'POST', url: `/v1/requests/${request.id}/complete`, payload: { outcome: 'Name corrected' } })
    t.same(await deliver(), { delivered: 1, retrying: 0, failed: 0 })
    const body = JSON.parse(endpoint.received.at(-1)!.body)
    t.match(body, { type: 'rectification', subject: { paymentReferences: ['pi_rect'], current: { email, name: 'Kari Rettet' } } })
  })

  t.test('a webhook that never takes it fails after the last attempt, shows why, and can be tried again', async (t) => {
    endpoint.answers.push(...Array.from({ length: MAX_ATTEMPTS }, () => 500))
    const { contactId } = (await putEnrollment(app, 'failing-enrollment', { courseId: 'paid-course', contact: { email: uniqueEmail('failing') }, status: 'cancelled' })).json()
    const request = (await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'erasure', channel: 'email', contactId } })).json()
    await app.as('admin')({ method: 'POST', url: `/v1/contacts/${contactId}/erase`, payload: { requestId: request.id } })
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await deliver()
      app.clock.advance(backoffMs(attempt))
    }
    const webhook = (await requestOf(request.id)).processorNotices.find((n: { processorId: string }) => n.processorId === 'mailer')
    t.match(webhook, { status: 'failed', attempts: MAX_ATTEMPTS, lastError: 'HTTP 500' })
    t.ok((await staff({ method: 'GET', url: '/v1/processor-notices?status=failed' })).json().items.some((n: { id: string }) => n.id === webhook.id))
    const retried = await staff({ method: 'POST', url: `/v1/processor-notices/${webhook.id}/retry` })
    t.match(retried.json(), { status: 'pending', attempts: 0 })
    t.same(await deliver(), { delivered: 1, retrying: 0, failed: 0 })
    t.equal((await staff({ method: 'POST', url: `/v1/processor-notices/${webhook.id}/retry` })).json().code, 'notice_not_failed')
  })
})

t.test('a webhook processor without its secret stops the start', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'processors-'))
  const file = join(dir, 'register.json')
  writeFileSync(file, JSON.stringify(registerWith('https://hooks.example.no/samtykke')))
  t.throws(() => parseConfig({ DATA_DIR: dir, PROCESSING_REGISTER_FILE: file }), /MAILER_WEBHOOK_SECRET.*webhook secret of processor "mailer"/)
  t.same(parseConfig({ DATA_DIR: dir, PROCESSING_REGISTER_FILE: file, MAILER_WEBHOOK_SECRET: SECRET }).processorSecrets, { mailer: SECRET })
})
