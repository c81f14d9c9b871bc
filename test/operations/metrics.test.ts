// GET /metrics: Prometheus's text format behind its own guard (METRICS_TOKEN,
// METRICS_ALLOW, loopback alone when neither is set), refusals as problem
// documents; every metric listed in src/operations/metrics.ts present from
// the first scrape and moving as requests, decisions, deliveries, bounces,
// complaints, requests of data subjects and jobs happen; routes counted by
// their pattern, never their path; one registry per app.
import t from 'tap'
import { arfFor } from '../returns/reports.js'
import { consentPayload, createContact, createList, subscribe, uniqueEmail } from '../factories.js'
import { build, type TestApp } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'

const TOKEN = 'metrics-token-metrics-token-metrics-42'

const scrape = (app: TestApp, options: { remoteAddress?: string; token?: string } = {}) =>
  app.app.inject({ method: 'GET', url: '/metrics', remoteAddress: options.remoteAddress, headers: options.token ? { authorization: `Bearer ${options.token}` } : {} })

/** The value of one sample in the exposition text, by name and exactly these labels; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const have = (match[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g)?.sort().join(',') ?? ''
    if (have === wanted) return Number(match[3])
  }
  return undefined
}

async function metricsText(app: TestApp): Promise<string> {
  const res = await scrape(app)
  if (res.statusCode !== 200) throw new Error(`metrics: ${res.statusCode} ${res.body}`)
  return res.body
}

t.test('without METRICS_TOKEN or METRICS_ALLOW only loopback may scrape', async (t) => {
  const app = await build(t)
  const local = await scrape(app, { remoteAddress: '127.0.0.1' })
  t.equal(local.statusCode, 200)
  t.match(local.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.equal((await scrape(app, { remoteAddress: '::1' })).statusCode, 200, 'IPv6 loopback too')
  const remote = await scrape(app, { remoteAddress: '192.0.2.7' })
  t.equal(remote.statusCode, 403)
  t.match(remote.headers['content-type'], /^application\/problem\+json/)
  t.match(remote.json(), { code: 'forbidden', detail: /loopback only/ })
})

t.test('METRICS_TOKEN: its bearer token from any address, nothing else', async (t) => {
  const app = await build(t, { config: { metrics: { token: TOKEN, allow: undefined } } })
  const none = await scrape(app, { remoteAddress: '192.0.2.7' })
  t.equal(none.statusCode, 401)
  t.match(none.json(), { code: 'unauthorized' })
  t.match(none.headers['www-authenticate'], /^Bearer/)
  const wrong = await scrape(app, { remoteAddress: '192.0.2.7', token: `${TOKEN}x` })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.json(), { code: 'token_invalid' })
  const staffJwt = await scrape(app, { remoteAddress: '192.0.2.7', token: app.token('admin') })
  t.equal(staffJwt.statusCode, 401, 'a staff token is not the metrics token')
  const right = await scrape(app, { remoteAddress: '192.0.2.7', token: TOKEN })
  t.equal(right.statusCode, 200)
  t.match(right.body, /# TYPE samtykke_http_requests_total counter/)
})

t.test('METRICS_TOKEN: guesses count as failed authentications, and too many are refused', async (t) => {
  const app = await build(t, { config: { metrics: { token: TOKEN, allow: undefined }, authFailureLimitPerMinute: 3 } })
  for (let i = 0; i < 3; i++) t.equal((await scrape(app, { remoteAddress: '192.0.2.8', token: `guess-${i}` })).statusCode, 401)
  t.equal((await scrape(app, { remoteAddress: '192.0.2.8', token: 'guess-3' })).statusCode, 429, 'one guess too many')
  const limited = await scrape(app, { remoteAddress: '192.0.2.8', token: TOKEN })
  t.equal(limited.statusCode, 429, 'even the right token waits once the address has guessed too often')
  t.match(limited.json(), { code: 'rate_limited' })
  t.equal((await scrape(app, { remoteAddress: '192.0.2.9', token: TOKEN })).statusCode, 200, 'another address is not held back')
})

t.test('METRICS_ALLOW: addresses and ranges in it, and with a token as well both are needed', async (t) => {
  const allowOnly = await build(t, { config: { metrics: { token: undefined, allow: ['192.0.2.0/24', '2001:db8::1'] } } })
  t.equal((await scrape(allowOnly, { remoteAddress: '192.0.2.9' })).statusCode, 200)
  t.equal((await scrape(allowOnly, { remoteAddress: '2001:db8::1' })).statusCode, 200)
  const outside = await scrape(allowOnly, { remoteAddress: '198.51.100.1' })
  t.equal(outside.statusCode, 403)
  t.match(outside.json(), { code: 'forbidden', detail: /METRICS_ALLOW/ })
  t.equal((await scrape(allowOnly, { remoteAddress: '127.0.0.1' })).statusCode, 403, 'loopback is not allowed unless listed')

  const both = await build(t, { config: { metrics: { token: TOKEN, allow: ['192.0.2.0/24'] } } })
  t.equal((await scrape(both, { remoteAddress: '192.0.2.9' })).statusCode, 401, 'an allowed address still needs the token')
  t.equal((await scrape(both, { remoteAddress: '198.51.100.1', token: TOKEN })).statusCode, 403, 'the token does not open another address')
  t.equal((await scrape(both, { remoteAddress: '192.0.2.9', token: TOKEN })).statusCode, 200)
})

const LISTED = [
  ['samtykke_http_requests_total', 'counter'],
  ['samtykke_http_request_duration_seconds', 'histogram'],
  ['samtykke_decisions_total', 'counter'],
  ['samtykke_messages_total', 'counter'],
  ['samtykke_job_runs_total', 'counter'],
  ['samtykke_return_reports_total', 'counter'],
  ['samtykke_delivery_queue_messages', 'gauge'],
  ['samtykke_delivery_queue_oldest_due_seconds', 'gauge'],
  ['samtykke_campaign_messages', 'gauge'],
  ['samtykke_data_subject_requests_open', 'gauge'],
  ['samtykke_data_subject_requests_overdue', 'gauge'],
  ['samtykke_return_reports_last_24h', 'gauge'],
  ['samtykke_metrics_database_up', 'gauge'],
  // prom-client's own process metrics.
  ['process_cpu_user_seconds_total', 'counter'],
  ['process_resident_memory_bytes', 'gauge'],
  ['nodejs_eventloop_lag_seconds', 'gauge'],
] as const

t.test('every metric is there from the first scrape, and moves as the work happens', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url, runJobs: true } })
  const staff = app.as('staff')

  const first = await metricsText(app)
  for (const [name, type] of LISTED) t.match(first, `# TYPE ${name} ${type}`, `${name} is a ${type}`)
  t.equal(sample(first, 'samtykke_metrics_database_up'), 1)
  t.equal(sample(first, 'samtykke_messages_total', { outcome: 'sent' }), 0, 'outcomes start at 0')
  t.equal(sample(first, 'samtykke_delivery_queue_messages', { state: 'due' }), 0)
  t.equal(sample(first, 'samtykke_data_subject_requests_open', { type: 'access' }), 0)

  // Requests, by the route's pattern: the contact's id is in the path and never in the metrics.
  const contact = await createContact(app, { email: uniqueEmail('metrics'), name: 'Målt Person' })
  t.equal((await staff({ method: 'GET', url: `/v1/contacts/${contact.id}` })).statusCode, 200)
  t.equal((await staff({ method: 'GET', url: `/v1/no-such-thing/${contact.id}` })).statusCode, 404)
  const afterRequests = await metricsText(app)
  t.equal(sample(afterRequests, 'samtykke_http_requests_total', { method: 'GET', route: '/v1/contacts/:id', status: '200' }), 1)
  t.equal(sample(afterRequests, 'samtykke_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1)
  t.equal(sample(afterRequests, 'samtykke_http_request_duration_seconds_count', { method: 'GET', route: '/v1/contacts/:id' }), 1)
  t.equal(sample(afterRequests, 'samtykke_http_requests_total', { method: 'GET', route: '/metrics', status: '200' }), 1, 'the scrape before counts too')
  t.notOk(afterRequests.includes(contact.id), 'no path, and so no id or token, reaches a label')

  // A campaign to three subscribers and one suppressed member: decisions when queued.
  const list = await createList(app, { kind: 'newsletter', name: 'Målt liste' })
  const members = [contact]
  for (let i = 0; i < 3; i++) members.push(await createContact(app, { email: uniqueEmail('member'), name: `Medlem ${i}` }))
  for (const member of members) await subscribe(app, list.id, { contactId: member.id, source: 'form', consent: consentPayload() })
  t.equal((await staff({ method: 'POST', url: '/v1/suppressions', payload: { contactId: members[3]!.id, scope: 'global', reason: 'manual' } })).statusCode, 201)
  const campaign = (await staff({ method: 'POST', url: '/v1/campaigns', payload: { name: 'Målt', listId: list.id, template: 'newsletter', data: { headline: 'Hei', body: 'Tekst' } } })).json()
  await staff({ method: 'POST', url: `/v1/campaigns/${campaign.id}/start` })
  await app.app.services.campaigns.fanOut(app.app.deliveryWorker.owner, 60_000)
  const queued = await metricsText(app)
  t.equal(sample(queued, 'samtykke_decisions_total', { stage: 'enqueue', result: 'allowed', reason: '' }), 3)
  t.equal(sample(queued, 'samtykke_decisions_total', { stage: 'enqueue', result: 'blocked', reason: 'manual_block' }), 1)
  t.equal(sample(queued, 'samtykke_delivery_queue_messages', { state: 'due' }), 3)
  t.equal(sample(queued, 'samtykke_delivery_queue_oldest_due_seconds'), 0, 'queued this instant')
  app.clock.advance(90_000)
  t.equal(sample(await metricsText(app), 'samtykke_delivery_queue_oldest_due_seconds'), 90, 'the oldest due message has waited a minute and a half')
  t.equal(sample(queued, 'samtykke_campaign_messages', { campaign: campaign.id, state: 'queued' }), 3, 'the sending campaign by its id')
  t.notOk(queued.includes('Målt'), 'campaigns are labelled by id, not name')

  // Two handed over: one taken, one refused as a bad address (a hard bounce); the third waits.
  sink.rejectNext({ code: 550, message: '5.1.1 No such user' })
  t.equal(await app.app.deliveryWorker.runOnce(2), 2)
  const delivered = await metricsText(app)
  t.equal(sample(delivered, 'samtykke_messages_total', { outcome: 'sent' }), 1)
  t.equal(sample(delivered, 'samtykke_messages_total', { outcome: 'bounced' }), 1)
  t.equal(sample(delivered, 'samtykke_decisions_total', { stage: 'delivery', result: 'allowed', reason: '' }), 2)
  t.equal(sample(delivered, 'samtykke_campaign_messages', { campaign: campaign.id, state: 'accepted' }), 1)
  t.equal(sample(delivered, 'samtykke_campaign_messages', { campaign: campaign.id, state: 'bounced' }), 1)
  t.equal(sample(delivered, 'samtykke_campaign_messages', { campaign: campaign.id, state: 'queued' }), 1)
  t.equal(sample(delivered, 'samtykke_delivery_queue_messages', { state: 'due' }), 1)
  t.equal(sample(delivered, 'samtykke_return_reports_last_24h', { effect: 'hard_bounce' }), 1)

  // A complaint comes back about the one that was taken.
  const recipients = (await staff({ method: 'GET', url: `/v1/campaigns/${campaign.id}/recipients` })).json().items
  const sent = recipients.find((r: { status: string }) => r.status === 'sent')
  const message = (await staff({ method: 'GET', url: `/v1/messages/${sent.messageId}` })).json()
  const arf = await app.as('provider')({ method: 'POST', url: '/v1/events/arf', headers: { 'content-type': 'message/rfc822' }, payload: arfFor({ headerMessageId: message.headerMessageId }) })
  t.equal(arf.statusCode, 200, arf.body)
  const complained = await metricsText(app)
  t.equal(sample(complained, 'samtykke_return_reports_total', { outcome: 'applied', effect: 'complaint' }), 1)
  t.equal(sample(complained, 'samtykke_return_reports_last_24h', { effect: 'complaint' }), 1)

  // The last one goes: the campaign is finished, and its series go with it.
  t.equal(await app.app.deliveryWorker.runOnce(), 1)
  const finished = await metricsText(app)
  t.equal(sample(finished, 'samtykke_messages_total', { outcome: 'sent' }), 2)
  t.equal(sample(finished, 'samtykke_campaign_messages', { campaign: campaign.id, state: 'accepted' }), undefined, 'only sending campaigns have series')
  t.equal(sample(finished, 'samtykke_delivery_queue_messages', { state: 'due' }), 0)

  // A data subject's request: open, then overdue once its due date has passed.
  t.equal((await staff({ method: 'POST', url: '/v1/requests', payload: { type: 'access', channel: 'email', contactId: members[1]!.id } })).statusCode, 201)
  const open = await metricsText(app)
  t.equal(sample(open, 'samtykke_data_subject_requests_open', { type: 'access' }), 1)
  t.equal(sample(open, 'samtykke_data_subject_requests_overdue', { type: 'access' }), 0)
  app.clock.advanceDays(40)
  t.equal(sample(await metricsText(app), 'samtykke_data_subject_requests_overdue', { type: 'access' }), 1)

  // A scheduled job, run by pg-boss in this process.
  await app.app.boss!.send('start-scheduled-campaigns', {})
  const deadline = Date.now() + 20_000
  let jobs: number | undefined
  while ((jobs = sample(await metricsText(app), 'samtykke_job_runs_total', { job: 'start-scheduled-campaigns', result: 'completed' })) === undefined && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 250))
  }
  t.ok(jobs! >= 1, 'the job run was counted')
})

t.test('each app counts its own: the registry is not shared between apps of one process', async (t) => {
  const one = await build(t)
  const other = await build(t)
  for (let i = 0; i < 3; i++) await one.as('staff')({ method: 'GET', url: '/v1/lists' })
  t.equal(sample(await metricsText(one), 'samtykke_http_requests_total', { method: 'GET', route: '/v1/lists', status: '200' }), 3)
  t.equal(sample(await metricsText(other), 'samtykke_http_requests_total', { method: 'GET', route: '/v1/lists', status: '200' }), undefined)
})
