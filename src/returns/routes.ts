// The ways in for reports over HTTP, and what staff read of them. Raw
// reports (DSN, ARF) come from mail servers with a `provider` token; an email
// provider's events are verified its own way (an SNS signature, basic auth,
// SendGrid's ECDSA signature), since a provider cannot carry our token. Every
// body is read as its bytes: a signature is over them, and MIME is not JSON.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ValidationError } from '../lib/errors.js'
import { decodeCursor, toPage } from '../lib/pagination.js'
import { errorResponses, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { Role } from '../vocabulary.js'
import { MAX_REPORT_BYTES } from './report.js'
import { DailyQuery, DailyRates, ProviderQuery, RawBody, ReportResults, ReturnReportPage, ReturnReportQuery } from './schemas.js'

const tags = ['returns']

/** Mail servers and providers post reports; admins may too (a report forwarded by hand). */
const reporters = [Role.provider, Role.admin] as const

/**
 * Providers post in bursts while a campaign's reports come back (SES sends one
 * notification per recipient): far above the anonymous limit, per address.
 */
const PROVIDER_EVENTS_PER_MINUTE = 6000

const MAX_DAILY_RANGE_DAYS = 92

const REPORT_TYPES = ['message/rfc822', 'multipart/report', 'text/plain', 'application/octet-stream']
const EVENT_TYPES = ['application/json', 'text/plain']

export const returnRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { reportIntake, returns } = app.services

  // In this plugin only: every body is its bytes, one character each (latin1 keeps them exact).
  // A body a little over the limit still reaches the intake, which keeps its rejection.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REPORT_BYTES * 2 }, (_request, body, done) => done(null, (body as Buffer).toString('latin1')))
  const bytesOf = (body: unknown) => Buffer.from(typeof body === 'string' ? body : '', 'latin1')

  app.post('/events/dsn', {
    config: { roles: reporters },
    bodyLimit: MAX_REPORT_BYTES * 2,
    schema: {
      operationId: 'postDeliveryStatusNotification',
      summary: 'Take a raw delivery status notification (RFC 3464)',
      description:
        'The bounce as a mail server sent it (`multipart/report; report-type=delivery-status`), matched to our message by its return path or Message-ID. ' +
        'A hard bounce suppresses all mail to the address; a policy refusal is noted on the message; soft bounces count once a day. ' +
        'A report that is over 1 MiB, unreadable, not a DSN, or names no message we sent changes nothing. The same report again is a duplicate.',
      tags,
      body: RawBody(REPORT_TYPES, 'The DSN, as a message'),
      response: { 200: ref(ReportResults, 'What became of each recipient’s report'), ...errorResponses(401, 403, 413, 422) },
    },
    handler: async (request) => ({ results: await reportIntake.receiveDsn(bytesOf(request.body)) }),
  })

  app.post('/events/arf', {
    config: { roles: reporters },
    bodyLimit: MAX_REPORT_BYTES * 2,
    schema: {
      operationId: 'postAbuseFeedbackReport',
      summary: 'Take a raw abuse feedback report (RFC 5965)',
      description:
        'A spam complaint from a feedback loop, matched by the original’s Message-ID: newsletter and marketing mail to the person stop, and an objection is recorded; course and transactional mail go on.',
      tags,
      body: RawBody(REPORT_TYPES, 'The feedback report, as a message'),
      response: { 200: ref(ReportResults, 'What became of the report'), ...errorResponses(401, 403, 413, 422) },
    },
    handler: async (request) => ({ results: await reportIntake.receiveArf(bytesOf(request.body)) }),
  })

  app.post('/events/delivery', {
    config: { public: true, rateLimit: { max: PROVIDER_EVENTS_PER_MINUTE, timeWindow: 60_000 } },
    bodyLimit: MAX_REPORT_BYTES * 2,
    schema: {
      operationId: 'postProviderEvents',
      summary: 'Take an email provider’s events: Amazon SES (through SNS), Postmark, SendGrid',
      description:
        'No bearer token: each provider is verified its own way — SES by the SNS message signature and its topic, Postmark by the basic-auth credentials in its webhook URL, SendGrid by its signed event webhook. ' +
        'A provider that is not configured is refused. Bounces, complaints and deliveries are applied as the raw reports are; other events are taken and ignored. An SNS subscription confirmation is confirmed.',
      tags,
      // No bearer token: the provider's own signature or credentials (checked by the intake).
      security: [],
      querystring: ProviderQuery,
      body: RawBody(EVENT_TYPES, 'The provider’s JSON, as it signed it'),
      response: { 200: ref(ReportResults, 'What became of each event'), ...errorResponses(400, 401, 413, 422) },
    },
    handler: async (request) => ({ results: await reportIntake.receiveProviderEvents(request.query.provider, bytesOf(request.body), request.headers) }),
  })

  app.get('/returns', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listReturnReports',
      summary: 'Reports that came back, newest first: applied ones, and rejected ones while they are kept',
      tags,
      querystring: ReturnReportQuery,
      response: { 200: ref(ReturnReportPage, 'A page of reports') },
    },
    handler: async (request) => {
      const limit = request.query.limit ?? 50
      const rows = await returns.listReports({ outcome: request.query.outcome, messageId: request.query.messageId, before: decodeCursor(request.query.cursor), limit: limit + 1 })
      return toPage(rows, limit, (r) => ({ at: r.receivedAt, id: r.id }))
    },
  })

  app.get('/returns/daily', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getDailyReturnRates',
      summary: 'Per day: messages delivered, bounces, complaints and their rates',
      tags,
      querystring: DailyQuery,
      response: { 200: ref(DailyRates, 'One row per day with anything to count'), ...errorResponses(422) },
    },
    handler: async (request) => {
      const from = new Date(`${request.query.from}T00:00:00Z`)
      const to = new Date(new Date(`${request.query.to}T00:00:00Z`).getTime() + 86_400_000)
      if (to.getTime() <= from.getTime() || to.getTime() - from.getTime() > MAX_DAILY_RANGE_DAYS * 86_400_000) {
        throw new ValidationError([{ field: 'querystring.to', message: `must be on or after from, and at most ${MAX_DAILY_RANGE_DAYS} days after it` }], 'invalid_range')
      }
      return { items: await returns.dailyRates(from, to) }
    },
  })
}
