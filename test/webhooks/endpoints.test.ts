// Webhook endpoints (issue 29), admin only: registering one shows its secret
// once, in the Standard Webhooks form; every change has an audit entry; bad
// input is a problem document with a stable code.
import t from 'tap'
import { parseConfig } from '../../src/config.js'
import { ROTATION_OVERLAP_MS } from '../../src/webhooks/service.js'
import { auditTrail, build, failureOf } from '../helper.js'

const HTTPS = 'https://kurs.example.no/hooks/samtykke'

t.test('webhook endpoints', async (t) => {
  const app = await build(t)
  const admin = app.as('admin')
  const create = (payload: Record<string, unknown>) => admin({ method: 'POST', url: '/v1/webhooks', payload })

  t.test('an endpoint is registered with a secret shown once, and read back without it', async (t) => {
    const created = await create({ url: HTTPS, description: 'Kurssystemet', eventTypes: ['subscription.unsubscribed', 'contact.erased'] })
    t.equal(created.statusCode, 201)
    const body = created.json()
    t.equal(created.headers.location, `/v1/webhooks/${body.id}`)
    t.match(body, { url: HTTPS, description: 'Kurssystemet', eventTypes: ['subscription.unsubscribed', 'contact.erased'], includeEmail: false, status: 'active', failingSince: null })
    t.match(body.secret, /^whsec_[A-Za-z0-9+/]+=*$/)
    t.equal(Buffer.from(body.secret.slice('whsec_'.length), 'base64').length, 24, '24 random bytes')
    const read = (await admin({ method: 'GET', url: `/v1/webhooks/${body.id}` })).json()
    t.notOk('secret' in read, 'the secret is not shown again')
    t.notOk(JSON.stringify(read).includes(body.secret.slice(6)))
    const listed = (await admin({ method: 'GET', url: '/v1/webhooks' })).json()
    t.ok(listed.items.some((e: { id: string }) => e.id === body.id))
    t.notOk(JSON.stringify(listed).includes('whsec_'))
    const entries = await auditTrail(app, 'webhook_endpoint', body.id)
    t.match(entries, [{ action: 'webhook_endpoint.created' }])
    t.notOk(JSON.stringify(entries).includes(body.secret.slice(6)), 'the audit log keeps no secret')
  })

  t.test('update, disable, enable and rotate each leave an audit entry', async (t) => {
    const { id, secret } = (await create({ url: HTTPS, eventTypes: ['contact.erased'] })).json()
    const updated = await admin({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { includeEmail: true, eventTypes: ['contact.erased', 'message.bounced'] } })
    t.equal(updated.statusCode, 200)
    t.match(updated.json(), { includeEmail: true, eventTypes: ['contact.erased', 'message.bounced'] })
    t.match((await admin({ method: 'POST', url: `/v1/webhooks/${id}/disable` })).json(), { status: 'disabled', disabledReason: 'manual' })
    t.match((await admin({ method: 'POST', url: `/v1/webhooks/${id}/disable` })).json(), { status: 'disabled' }, 'disabling again changes nothing')
    t.match((await admin({ method: 'POST', url: `/v1/webhooks/${id}/enable` })).json(), { status: 'active', disabledReason: null })
    const rotated = (await admin({ method: 'POST', url: `/v1/webhooks/${id}/rotate-secret` })).json()
    t.not(rotated.secret, secret)
    t.equal(new Date(rotated.previousSecretExpiresAt).getTime(), app.clock.now().getTime() + ROTATION_OVERLAP_MS, 'the old secret signs for the overlap')
    const entries = await auditTrail(app, 'webhook_endpoint', id)
    t.same(
      entries.map((e: { action: string }) => e.action),
      ['webhook_endpoint.created', 'webhook_endpoint.updated', 'webhook_endpoint.disabled', 'webhook_endpoint.enabled', 'webhook_endpoint.secret_rotated'],
    )
    t.same(entries[1]!.changedFields.sort(), ['eventTypes', 'includeEmail'])
  })

  t.test('bad input is a problem document with a stable code', async (t) => {
    const problem = async (response: Awaited<ReturnType<typeof admin>>, status: number, code: string) => {
      t.equal(response.statusCode, status, code)
      t.match(response.headers['content-type'], /^application\/problem\+json/)
      t.equal(response.json().code, code)
      return response.json()
    }
    await problem(await create({ url: 'http://kurs.example.no/hooks', eventTypes: ['contact.erased'] }), 422, 'webhook_url_not_allowed')
    await problem(await create({ url: 'http://10.0.0.5/hooks', eventTypes: ['contact.erased'] }), 422, 'webhook_url_not_allowed')
    await problem(await create({ url: 'https://user:pass@kurs.example.no/hooks', eventTypes: ['contact.erased'] }), 422, 'webhook_url_not_allowed')
    await problem(await create({ url: 'ftp://kurs.example.no/hooks', eventTypes: ['contact.erased'] }), 422, 'webhook_url_not_allowed')
    t.equal((await create({ url: 'http://127.0.0.1:9/hooks', eventTypes: ['contact.erased'] })).statusCode, 201, 'http to loopback, in development')
    const unknownType = await problem(await create({ url: HTTPS, eventTypes: ['contact.deleted'] }), 400, 'validation_failed')
    t.match(unknownType.errors, [{ field: 'body.eventTypes.0' }])
    await problem(await create({ url: HTTPS, eventTypes: [] }), 400, 'validation_failed')
    await problem(await create({ url: HTTPS, eventTypes: ['contact.erased', 'contact.erased'] }), 400, 'validation_failed')

    const missing = '00000000-0000-4000-8000-000000000000'
    await problem(await admin({ method: 'GET', url: `/v1/webhooks/${missing}` }), 404, 'webhook_endpoint_not_found')
    await problem(await admin({ method: 'PATCH', url: `/v1/webhooks/${missing}`, payload: { includeEmail: true } }), 404, 'webhook_endpoint_not_found')
    await problem(await admin({ method: 'POST', url: `/v1/webhooks/${missing}/rotate-secret` }), 404, 'webhook_endpoint_not_found')
    await problem(await admin({ method: 'GET', url: `/v1/webhooks/${missing}/deliveries` }), 404, 'webhook_endpoint_not_found')
    const { id } = (await create({ url: HTTPS, eventTypes: ['contact.erased'] })).json()
    await problem(await admin({ method: 'POST', url: `/v1/webhooks/${id}/events/${missing}/replay` }), 404, 'webhook_event_not_found')
    await problem(await admin({ method: 'PATCH', url: `/v1/webhooks/${id}`, payload: { url: 'http://kurs.example.no/' } }), 422, 'webhook_url_not_allowed')
    const at = app.clock.now().toISOString()
    await problem(await admin({ method: 'POST', url: `/v1/webhooks/${id}/replay`, payload: { from: at, to: at } }), 400, 'invalid_range')
    await admin({ method: 'POST', url: `/v1/webhooks/${id}/disable` })
    await problem(await admin({ method: 'POST', url: `/v1/webhooks/${id}/replay`, payload: { from: '2026-01-01T00:00:00Z', to: at } }), 409, 'webhook_endpoint_disabled')
    await problem(await app.as('staff')({ method: 'GET', url: '/v1/webhooks' }), 403, 'forbidden')
    await problem(await app.as('course-system')({ method: 'POST', url: '/v1/webhooks', payload: { url: HTTPS, eventTypes: ['contact.erased'] } }), 403, 'forbidden')
  })

  t.test('a replay of an event of a type the endpoint does not take is refused', async (t) => {
    const { recordWebhookEvent } = await import('../../src/webhooks/record.js')
    const event = await recordWebhookEvent(app.app.db, app.clock.now(), { type: 'campaign.finished', contactId: null, data: { campaignId: '00000000-0000-4000-8000-000000000001', status: 'finished' } })
    const { id } = (await create({ url: HTTPS, eventTypes: ['contact.erased'] })).json()
    const response = await admin({ method: 'POST', url: `/v1/webhooks/${id}/events/${event.id}/replay` })
    t.equal(response.statusCode, 422)
    t.equal(response.json().code, 'webhook_event_not_subscribed')
  })
})

t.test('plain http to loopback only where the configuration allows it', async (t) => {
  const app = await build(t, { config: { webhookAllowHttpLoopback: false } })
  const response = await app.as('admin')({ method: 'POST', url: '/v1/webhooks', payload: { url: 'http://localhost:8080/hooks', eventTypes: ['contact.erased'] } })
  t.equal(response.statusCode, 422)
  t.equal(response.json().code, 'webhook_url_not_allowed')
  t.equal(parseConfig({}).webhookAllowHttpLoopback, true, 'on by default in development')
  t.equal(parseConfig({ WEBHOOK_ALLOW_HTTP_LOOPBACK: 'false' }).webhookAllowHttpLoopback, false)
  const production = { NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://samtykke.example.no', CONTROLLER_NAME: 'Kurs AS', MAIL_FROM: 'Kurs AS <post@kurs.example.no>', CONTROLLER_EMAIL: 'personvern@kurs.example.no' }
  t.equal(parseConfig(production).webhookAllowHttpLoopback, false, 'off in production')
  t.match(await failureOf(Promise.resolve().then(() => parseConfig({ ...production, WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true' }))), /WEBHOOK_ALLOW_HTTP_LOOPBACK/, 'and refused there')
})
