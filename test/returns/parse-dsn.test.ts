// Table tests for parseDsn on delivery status notifications as Postfix, Exim,
// sendmail, Office 365 and Gmail send them (test/returns/fixtures/), on small
// edits of those that each change one field, and on everything it must refuse.
// Every accepted case asserts the exact ParsedReport list.
import t from 'tap'
import { edit, fixture, sha256 } from './report-fixtures.js'
import { parseDsn } from '../../src/returns/parse-dsn.js'
import { MAX_REPORT_BYTES, UnreadableReportError, type ParsedReport } from '../../src/returns/report.js'

// --- fixtures ------------------------------------------------------------------------

const POSTFIX = 'dsn-postfix-user-unknown.eml'
const POSTFIX_ID = '<20250602081502.4bC1xY2zQFz9sT@relay.samtykke.example>'
const POSTFIX_ORIGINAL = { headerMessageId: '<0197305c-1b2a-7c3d-9e4f-5a6b7c8d9e0f@samtykke.example>' }

const POSTFIX_USER_UNKNOWN: ParsedReport = {
  report: {
    type: 'bounce',
    severity: 'permanent',
    status: '5.1.1',
    providerType: null,
    diagnostic: '550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
  },
  message: POSTFIX_ORIGINAL,
  recipient: 'nobody@example.org',
  reportKey: `${POSTFIX_ID} nobody@example.org`,
  // Postfix writes no Last-Attempt-Date: the per-message Arrival-Date is the best it says.
  occurredAt: new Date('2025-06-02T08:14:58Z'),
}

const EXIM_REPORT: ParsedReport = {
  report: {
    type: 'bounce',
    severity: 'permanent',
    status: '5.1.1',
    providerType: null,
    diagnostic: '550 5.1.1 <ingen@fjord.example>: Recipient address rejected: User unknown in local recipient table',
  },
  message: { headerMessageId: '<01973c1e-9f80-7a1b-8c2d-3e4f5a6b7c8d@samtykke.example>' },
  recipient: 'ingen@fjord.example',
  reportKey: '<E1uMp3X-000AbC-2Q@mail.fjord.example> ingen@fjord.example',
  occurredAt: new Date('2025-06-04T06:45:13Z'),
}

const EXIM_WITHOUT_MESSAGE_ID = edit('dsn-exim-generic-status.eml', ['Message-Id: <E1uMp3X-000AbC-2Q@mail.fjord.example>\r\n', ''])

/** A minimal DSN around the given delivery-status part, for cases no fixture has. */
function dsnWith(statusPart: string, partHeaders = 'Content-Type: message/delivery-status'): string {
  return [
    'From: MAILER-DAEMON@mx.example.net',
    'Message-ID: <dsn-1@mx.example.net>',
    'Date: Thu, 12 Jun 2025 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'Delivery report.',
    '--b',
    partHeaders,
    '',
    statusPart,
    '--b--',
    '',
  ].join('\r\n')
}

// --- what it reads ---------------------------------------------------------------------

const accepted: { name: string; raw: string | Buffer; expected: ParsedReport[] }[] = [
  {
    name: 'a Postfix bounce for an unknown user is one permanent bounce naming the returned message',
    raw: fixture(POSTFIX),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'the same bounce with bare LF line endings reads the same',
    raw: fixture(POSTFIX).toString('utf8').replace(/\r\n/g, '\n'),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'a Postfix bounce quoting an Outlook 5.7.1 block-list refusal keeps the whole reply on one line',
    raw: fixture('dsn-postfix-policy-5.7.1.eml'),
    expected: [
      {
        report: {
          type: 'bounce',
          severity: 'permanent',
          status: '5.7.1',
          providerType: null,
          diagnostic:
            "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [VI1EUR04FT012.eop-eur04.prod.protection.outlook.com 2025-06-03T09:12:44.123Z 08DDA2B1C0D9E8F7]",
        },
        message: { headerMessageId: '<01973523-4e5f-7a6b-8c9d-0e1f2a3b4c5d@samtykke.example>' },
        // As the report names it; only the key is lower-cased.
        recipient: 'Kari.Nordmann@outlook.com',
        reportKey: '<20250603091245.4bD2pQ8rStV4wX@relay.samtykke.example> kari.nordmann@outlook.com',
        occurredAt: new Date('2025-06-03T09:12:41Z'),
      },
    ],
  },
  {
    name: 'a Postfix delay warning with only the original headers is a transient bounce with the X-Postfix diagnostic',
    raw: fixture('dsn-postfix-delayed.eml'),
    expected: [
      {
        report: {
          type: 'bounce',
          severity: 'transient',
          status: '4.4.1',
          providerType: null,
          diagnostic: 'connect to mx.treg.example.net[198.51.100.9]:25: Connection timed out',
        },
        message: { headerMessageId: '<01973614-aa01-7b02-8c03-d4e5f6a7b8c9@samtykke.example>' },
        recipient: 'ola@treg.example.net',
        reportKey: '<20250603122011.4bD7kL9mNpZ3rW@relay.samtykke.example> ola@treg.example.net',
        occurredAt: new Date('2025-06-03T08:19:42Z'),
      },
    ],
  },
  {
    name: 'a sendmail DSN with one failed and one delayed recipient gives two reports in order, upper-case types read',
    raw: fixture('dsn-sendmail-two-recipients.eml'),
    expected: [
      {
        report: { type: 'bounce', severity: 'permanent', status: '5.1.1', providerType: null, diagnostic: '550 5.1.1 <per.hansen@kurs.example>... User unknown' },
        message: { headerMessageId: '<01973577-5d6e-7f80-9a1b-2c3d4e5f6071@samtykke.example>' },
        recipient: 'per.hansen@kurs.example',
        reportKey: '<202506031302.553D2Aa0123456@mail.kurs.example> per.hansen@kurs.example',
        occurredAt: new Date('2025-06-03T13:02:10Z'),
      },
      {
        report: {
          type: 'bounce',
          severity: 'transient',
          status: '4.3.0',
          providerType: null,
          diagnostic: '451 4.3.0 Temporary system failure. Please try again later.',
        },
        message: { headerMessageId: '<01973577-5d6e-7f80-9a1b-2c3d4e5f6071@samtykke.example>' },
        recipient: 'lise.berg@kurs.example',
        reportKey: '<202506031302.553D2Aa0123456@mail.kurs.example> lise.berg@kurs.example',
        occurredAt: new Date('2025-06-03T13:02:09Z'),
      },
    ],
  },
  {
    name: "an Exim bounce's catch-all Status 5.0.0 gives way to the remote's 5.1.1, and its Date stands in for the missing dates",
    raw: fixture('dsn-exim-generic-status.eml'),
    expected: [EXIM_REPORT],
  },
  {
    name: 'a DSN without a Message-ID is keyed by the SHA-256 of its bytes plus the recipient',
    raw: EXIM_WITHOUT_MESSAGE_ID,
    expected: [{ ...EXIM_REPORT, reportKey: `${sha256(EXIM_WITHOUT_MESSAGE_ID)} ingen@fjord.example` }],
  },
  {
    name: 'an Office 365 NDR returning only text/rfc822-headers keeps the five-digit status 5.1.10',
    raw: fixture('dsn-office365-headers-only.eml'),
    expected: [
      {
        report: {
          type: 'bounce',
          severity: 'permanent',
          status: '5.1.10',
          providerType: null,
          diagnostic: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
        },
        message: { headerMessageId: '<01974590-2b3c-7d4e-8f5a-6b7c8d9e0f1a@samtykke.example>' },
        recipient: 'ingrid@contoso.example',
        reportKey: '<b3a2c1d0-1234-4abc-9def-0123456789ab@AM9PR01MB7654.eurprd01.prod.exchangelabs.com> ingrid@contoso.example',
        occurredAt: new Date('2025-06-05T11:29:58Z'),
      },
    ],
  },
  {
    name: "a Gmail bounce's folded Diagnostic-Code is unfolded and its Last-Attempt-Date with a zone comment is read",
    raw: fixture('dsn-gmail-no-such-user.eml'),
    expected: [
      {
        report: {
          type: 'bounce',
          severity: 'permanent',
          status: '5.1.1',
          providerType: null,
          diagnostic:
            "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a-ade3b1c2d4esi123456766b.456 - gsmtp",
        },
        message: { headerMessageId: '<01974712-3c4d-7e5f-8a6b-7c8d9e0f1a2b@samtykke.example>' },
        recipient: 'finnes.ikke@gmail.com',
        reportKey: '<6841a1b2.170a0220.3c4d5e.0000.GMR@mx.google.com> finnes.ikke@gmail.com',
        occurredAt: new Date('2025-06-05T07:31:09Z'),
      },
    ],
  },
  {
    name: 'a Postfix success report is one delivered report; the expanded alias block is left out',
    raw: fixture('dsn-postfix-success.eml'),
    expected: [
      {
        report: { type: 'delivered' },
        message: { headerMessageId: '<01973b70-0c1d-7e2f-8a3b-4c5d6e7f8091@samtykke.example>' },
        recipient: 'anne@example.com',
        reportKey: '<20250604144003.4bF2hJ3kLmN5pQ@relay.samtykke.example> anne@example.com',
        occurredAt: new Date('2025-06-04T14:40:01Z'),
      },
    ],
  },
  {
    name: 'a DSN reporting only expanded recipients is read and gives no report',
    raw: edit('dsn-postfix-success.eml', ['Action: relayed', 'Action: expanded']),
    expected: [],
  },
  {
    name: 'an RFC 6533 global DSN names the UTF-8 Final-Recipient and reads the message/global-headers original',
    raw: fixture('dsn-global-utf8.eml'),
    expected: [
      {
        report: { type: 'bounce', severity: 'permanent', status: '5.1.1', providerType: null, diagnostic: '550 5.1.1 Mottakeren kåre@eksempel.no finnes ikke' },
        message: { headerMessageId: '<01974a8b-7e8f-7091-8a2b-3c4d5e6f7a8b@samtykke.example>' },
        recipient: 'kåre@eksempel.no',
        reportKey: '<dsn-20250606070004-77@mx.eksempel.no> kåre@eksempel.no',
        occurredAt: new Date('2025-06-06T07:00:00Z'),
      },
    ],
  },
  {
    name: 'a failed recipient with a 4.x.x status is a transient bounce',
    raw: edit(POSTFIX, ['Status: 5.1.1', 'Status: 4.2.2']),
    expected: [{ ...POSTFIX_USER_UNKNOWN, report: { ...bounceOf(POSTFIX_USER_UNKNOWN), severity: 'transient', status: '4.2.2' } }],
  },
  {
    name: 'a status written with leading zeros is normalised',
    raw: edit(POSTFIX, ['Status: 5.1.1', 'Status: 5.01.001']),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'a block without a Status takes the enhanced code of its smtp Diagnostic-Code',
    raw: edit(POSTFIX, ['Status: 5.1.1\r\n', '']),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'a failed recipient with neither Status nor Diagnostic-Code is an undetermined bounce',
    raw: edit(POSTFIX, ['Status: 5.1.1\r\n', ''], [/Diagnostic-Code:[^]*?table\r\n/, '']),
    expected: [{ ...POSTFIX_USER_UNKNOWN, report: { type: 'bounce', severity: 'undetermined', status: null, providerType: null, diagnostic: null } }],
  },
  {
    name: 'Action: delivered is a delivered report',
    raw: edit(POSTFIX, ['Action: failed', 'Action: delivered']),
    expected: [{ ...POSTFIX_USER_UNKNOWN, report: { type: 'delivered' } }],
  },
  {
    name: 'a block with an action the RFC does not define gives no report',
    raw: edit(POSTFIX, ['Action: failed', 'Action: bounced']),
    expected: [],
  },
  {
    name: 'a Final-Recipient in angle brackets is unwrapped',
    raw: edit(POSTFIX, ['Final-Recipient: rfc822; nobody@example.org', 'Final-Recipient: rfc822; <nobody@example.org>']),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'an X.400 Final-Recipient gives way to an rfc822 Original-Recipient',
    raw: edit(POSTFIX, ['Final-Recipient: rfc822; nobody@example.org', 'Final-Recipient: x400; /G=Nobody/O=Example/C=NO/']),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'a block with only an Original-Recipient names that address',
    raw: edit(POSTFIX, ['Final-Recipient: rfc822; nobody@example.org\r\n', '']),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'a recipient block run into the per-message fields without an empty line is still read',
    raw: edit(POSTFIX, ['(CEST)\r\n\r\nFinal-Recipient', '(CEST)\r\nFinal-Recipient']),
    expected: [POSTFIX_USER_UNKNOWN],
  },
  {
    name: 'without Last-Attempt-Date or Arrival-Date the DSN Date header is when it happened',
    raw: edit(POSTFIX, [/Arrival-Date: .*\r\n/, '']),
    expected: [{ ...POSTFIX_USER_UNKNOWN, occurredAt: new Date('2025-06-02T08:15:02Z') }],
  },
  {
    name: 'a date that is not one is skipped, and without any date occurredAt is null',
    raw: edit(POSTFIX, [/Arrival-Date: .*\r\n/, 'Arrival-Date: 2025\r\n'], [/^Date: .*\r\n/m, '']),
    expected: [{ ...POSTFIX_USER_UNKNOWN, occurredAt: null }],
  },
  {
    name: 'a DSN that returns no original has an empty message reference',
    raw: edit(POSTFIX, ['Content-Type: message/rfc822', 'Content-Type: application/octet-stream']),
    expected: [{ ...POSTFIX_USER_UNKNOWN, message: {} }],
  },
  {
    name: 'a base64-encoded delivery-status part is decoded',
    raw: dsnWith(
      Buffer.from('Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n').toString('base64'),
      'Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64',
    ),
    expected: [
      {
        report: { type: 'bounce', severity: 'permanent', status: '5.2.2', providerType: null, diagnostic: null },
        message: {},
        recipient: 'a@example.org',
        reportKey: '<dsn-1@mx.example.net> a@example.org',
        occurredAt: new Date('2025-06-12T10:00:00Z'),
      },
    ],
  },
]

function bounceOf(parsed: ParsedReport): Extract<ParsedReport['report'], { type: 'bounce' }> {
  if (parsed.report.type !== 'bounce') throw new Error('not a bounce')
  return parsed.report
}

for (const { name, raw, expected } of accepted) {
  t.test(name, async (t) => {
    t.strictSame(await parseDsn(raw), expected)
  })
}

t.test('a Buffer and the same text as a string read the same', async (t) => {
  const raw = fixture('dsn-sendmail-two-recipients.eml')
  t.strictSame(await parseDsn(raw.toString('utf8')), await parseDsn(raw))
})

t.test('a report of exactly MAX_REPORT_BYTES is still read', async (t) => {
  const raw = fixture(POSTFIX)
  const padded = Buffer.concat([raw, Buffer.alloc(MAX_REPORT_BYTES - raw.length, ' ')])
  t.strictSame(await parseDsn(padded), [POSTFIX_USER_UNKNOWN])
})

// --- what it refuses -------------------------------------------------------------------

const tooManyParts = dsnWith(
  `${Array.from({ length: 1100 }, (_, i) => `--inner\r\nContent-Type: text/plain\r\n\r\n${i}\r\n`).join('')}--inner--\r\n`,
  'Content-Type: multipart/mixed; boundary="inner"',
)

const refused: { name: string; raw: string | Buffer; code: UnreadableReportError['code']; message: RegExp }[] = [
  { name: 'one byte over MAX_REPORT_BYTES is too large, before anything is read', raw: Buffer.alloc(MAX_REPORT_BYTES + 1, 'x'), code: 'report_too_large', message: /1048577 bytes/ },
  {
    name: 'a string is measured in bytes, not characters',
    raw: 'ø'.repeat(MAX_REPORT_BYTES / 2 + 1),
    code: 'report_too_large',
    message: /1048578 bytes/,
  },
  { name: 'an empty string is unparsable', raw: '', code: 'report_unparsable', message: /header section/ },
  { name: 'an empty Buffer is unparsable', raw: Buffer.alloc(0), code: 'report_unparsable', message: /header section/ },
  { name: 'plain text that is not a message is unparsable', raw: 'hello world\nthis is not mail\n', code: 'report_unparsable', message: /header section/ },
  { name: 'garbage bytes are unparsable', raw: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x9c, 0x0a, 0x0d, 0x0a, 0x41, 0x80]), code: 'report_unparsable', message: /header section/ },
  { name: 'MIME with more parts than the parser takes is unparsable', raw: tooManyParts, code: 'report_unparsable', message: /not readable MIME/ },
  { name: "qmail's prose bounce without a machine-readable part is not a report", raw: fixture('bounce-qmail-plain-text.eml'), code: 'report_not_a_report', message: /text\/plain, not a delivery status notification/ },
  { name: 'a multipart/mixed reply is not a report', raw: fixture('reply-multipart-mixed.eml'), code: 'report_not_a_report', message: /multipart\/mixed/ },
  { name: 'an abuse feedback report is not a DSN', raw: fixture('arf-abuse.eml'), code: 'report_not_a_report', message: /report-type feedback-report, not delivery-status/ },
  { name: 'a read receipt (disposition-notification) is not a DSN', raw: fixture('mdn-read-receipt.eml'), code: 'report_not_a_report', message: /disposition-notification/ },
  {
    name: 'a multipart/report without a report-type is not a DSN',
    raw: edit(POSTFIX, ['report-type=delivery-status;', '']),
    code: 'report_not_a_report',
    message: /report-type \(none\)/,
  },
  { name: 'a delivery-status report without a delivery-status part is not a report', raw: fixture('dsn-no-status-part.eml'), code: 'report_not_a_report', message: /no message\/delivery-status/ },
  { name: 'a delivery-status part whose only recipient block names no recipient is not a report', raw: fixture('dsn-no-recipient-block.eml'), code: 'report_not_a_report', message: /names no recipient/ },
  { name: 'an empty delivery-status part is not a report', raw: dsnWith(''), code: 'report_not_a_report', message: /names no recipient/ },
]

for (const { name, raw, code, message } of refused) {
  t.test(name, async (t) => {
    const error = await parseDsn(raw).then(
      () => null,
      (caught: unknown) => caught,
    )
    t.ok(error instanceof UnreadableReportError, 'refused with an UnreadableReportError')
    t.equal((error as UnreadableReportError).code, code)
    t.match((error as UnreadableReportError).message, message)
  })
}
