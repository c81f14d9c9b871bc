// Reports as mail servers and feedback loops send them, made for a message
// the test sent: a DSN (RFC 3464) per recipient status, an ARF (RFC 5965);
// and the return settings the tests build the app with.
import type { ReturnsConfig } from '../../src/config.js'
import { consentPayload, createContact, subscribe, uniqueEmail } from '../factories.js'
import type { TestApp } from '../helper.js'

let counter = 0

/** The defaults of src/config.ts, with what a test sets. */
export const returnsConfig = (over: Partial<ReturnsConfig> = {}): ReturnsConfig => ({
  returnPath: undefined,
  smtp: undefined,
  softBounce: { days: 3, windowDays: 30 },
  rejectedKeepDays: 30,
  rateMinimum: 100,
  providers: {},
  ...over,
})

export interface DsnOptions {
  /** The Message-ID of the message that bounced (its original's header). */
  headerMessageId: string
  recipient: string
  status: string
  action?: 'failed' | 'delayed' | 'delivered'
  diagnostic?: string
  /** The DSN's own Message-ID: the same one again is the same report. */
  reportId?: string
  /** To: of the DSN (the return path it was mailed to). */
  to?: string
  date?: Date
}

export function dsnFor(o: DsnOptions): string {
  const boundary = `dsn-${++counter}`
  const date = (o.date ?? new Date()).toUTCString()
  const reportId = o.reportId ?? `<dsn-${process.pid}-${counter}@mx.example.net>`
  return [
    'From: MAILER-DAEMON@mx.example.net (Mail Delivery System)',
    `To: ${o.to ?? 'bounces@returns.example.no'}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${date}`,
    `Message-ID: ${reportId}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.example.net.',
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    `Arrival-Date: ${date}`,
    '',
    `Final-Recipient: rfc822; ${o.recipient}`,
    `Original-Recipient: rfc822;${o.recipient}`,
    `Action: ${o.action ?? 'failed'}`,
    `Status: ${o.status}`,
    'Remote-MTA: dns; mail.example.no',
    `Diagnostic-Code: smtp; ${o.diagnostic ?? `550 ${o.status} <${o.recipient}>: Recipient address rejected`}`,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    'From: Nyheter <nyheter@example.no>',
    `To: ${o.recipient}`,
    'Subject: Nytt i vår',
    `Message-ID: ${o.headerMessageId}`,
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n')
}

export interface ArfOptions {
  headerMessageId: string
  /** The original's To; feedback loops often redact it. */
  recipient?: string
  reportId?: string
  feedbackType?: string
}

export function arfFor(o: ArfOptions): string {
  const boundary = `arf-${++counter}`
  return [
    'From: feedbackloop@fbl.example.net',
    'To: abuse@example.no',
    'Subject: FW: Nytt i vår',
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${o.reportId ?? `<arf-${process.pid}-${counter}@fbl.example.net>`}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="US-ASCII"',
    '',
    'This is an email abuse report for an email message received from IP 192.0.2.1.',
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${o.feedbackType ?? 'abuse'}`,
    'User-Agent: SomeGenerator/1.0',
    'Version: 1',
    'Original-Mail-From: <bounces@returns.example.no>',
    ...(o.recipient ? [`Original-Rcpt-To: <${o.recipient}>`] : []),
    `Arrival-Date: ${new Date().toUTCString()}`,
    'Source-IP: 192.0.2.1',
    '',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    'From: Nyheter <nyheter@example.no>',
    `To: ${o.recipient ?? 'redacted@fbl.example.net'}`,
    'Subject: Nytt i vår',
    `Message-ID: ${o.headerMessageId}`,
    '',
    'Hei!',
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n')
}

let sends = 0

/**
 * A newsletter to a new subscriber (or to `contactId`), delivered by one run
 * of the worker: what a report about it needs to name it.
 */
export async function deliveredNewsletter(app: TestApp, listId: string, options: { email?: string; contactId?: string } = {}) {
  const email = options.email ?? uniqueEmail('reader')
  const contactId = options.contactId ?? (await createContact(app, { email, name: 'Per' })).id
  await subscribe(app, listId, { contactId, source: 'form', consent: consentPayload() })
  const res = await app.as('staff')({
    method: 'POST',
    url: '/v1/sends',
    payload: { template: 'newsletter', kind: 'newsletter', listId, contactId, idempotencyKey: `returns-${process.pid}-${++sends}`, data: { name: 'Per', headline: 'Vår', body: 'Nytt.' } },
  })
  if (res.statusCode !== 202) throw new Error(`send: ${res.statusCode} ${res.body}`)
  await app.app.deliveryWorker.runOnce()
  const message = (await app.as('staff')({ method: 'GET', url: `/v1/messages/${res.json().messageId}` })).json()
  return { email, contactId: contactId as string, messageId: message.id as string, headerMessageId: message.headerMessageId as string }
}
