// Table tests for parseArf on abuse feedback reports as feedback loops send
// them (test/returns/fixtures/arf-*.eml), with the recipient given, redacted
// or removed, on small edits of those that each change one field, and on
// everything it must refuse. Every accepted case asserts the exact ParsedReport list.
import t from 'tap'
import { edit, fixture, sha256 } from './report-fixtures.js'
import { parseArf } from '../../src/returns/parse-arf.js'
import { MAX_REPORT_BYTES, UnreadableReportError, type ParsedReport } from '../../src/returns/report.js'

// --- fixtures ------------------------------------------------------------------------

const ABUSE = 'arf-abuse.eml'

const ABUSE_REPORT: ParsedReport = {
  report: { type: 'complaint', feedbackType: 'abuse' },
  message: { headerMessageId: '<01975a3e-4b5c-7d6e-8f70-8192a3b4c5d6@samtykke.example>' },
  recipient: 'marit@isp.example',
  reportKey: '<fbl.20250607180310.a1b2c3@feedback.isp.example>',
  occurredAt: new Date('2025-06-07T17:58:41Z'),
}

const FRAUD = fixture('arf-fraud-headers-only.eml')

// --- what it reads ---------------------------------------------------------------------

const accepted: { name: string; raw: string | Buffer; expected: ParsedReport[] }[] = [
  {
    name: 'an abuse report names the complainant from Original-Rcpt-To and the message from the returned original',
    raw: fixture(ABUSE),
    expected: [ABUSE_REPORT],
  },
  {
    name: 'the same report with bare LF line endings reads the same',
    raw: fixture(ABUSE).toString('utf8').replace(/\r\n/g, '\n'),
    expected: [ABUSE_REPORT],
  },
  {
    name: 'a loop that redacts the To gives a null recipient and still the Message-ID; the pre-RFC Received-Date is read',
    raw: fixture('arf-fbl-redacted-to.eml'),
    expected: [
      {
        report: { type: 'complaint', feedbackType: 'abuse' },
        message: { headerMessageId: '<01975e01-aaaa-7bbb-8ccc-dddddddddddd@samtykke.example>' },
        recipient: null,
        reportKey: '<SCOMP-20250608061233-4411@aol.net>',
        occurredAt: new Date('2025-06-08T09:40:10Z'),
      },
    ],
  },
  {
    name: 'a loop that removes the To altogether gives a null recipient and still the Message-ID',
    raw: fixture('arf-fbl-no-to.eml'),
    expected: [
      {
        report: { type: 'complaint', feedbackType: 'abuse' },
        message: { headerMessageId: '<01976210-bbbb-7ccc-8ddd-eeeeeeeeeeee@samtykke.example>' },
        recipient: null,
        reportKey: '<1749438855.2718@fbl.yahoo.example>',
        occurredAt: new Date('2025-06-09T02:50:00Z'),
      },
    ],
  },
  {
    name: 'a fraud report without a Message-ID of its own is keyed by the SHA-256 of its bytes',
    raw: FRAUD,
    expected: [
      {
        report: { type: 'complaint', feedbackType: 'fraud' },
        message: { headerMessageId: '<01976b55-cccc-7ddd-8eee-ffffffffffff@samtykke.example>' },
        recipient: 'Jonas.Vik@bank-customer.example',
        reportKey: sha256(FRAUD),
        occurredAt: new Date('2025-06-10T11:20:31Z'),
      },
    ],
  },
  {
    name: 'an auth-failure report (RFC 6591) is about our signatures, not a complaint, and gives no report',
    raw: fixture('arf-auth-failure.eml'),
    expected: [],
  },
  {
    name: 'a not-spam report takes a complaint back and gives no report',
    raw: edit(ABUSE, ['Feedback-Type: abuse', 'Feedback-Type: not-spam']),
    expected: [],
  },
  {
    name: 'the Feedback-Type is lower-cased',
    raw: edit(ABUSE, ['Feedback-Type: abuse', 'Feedback-Type: Virus']),
    expected: [{ ...ABUSE_REPORT, report: { type: 'complaint', feedbackType: 'virus' } }],
  },
  {
    name: 'a feedback type the RFC does not list is passed on as it is named',
    raw: edit(ABUSE, ['Feedback-Type: abuse', 'Feedback-Type: opt-out']),
    expected: [{ ...ABUSE_REPORT, report: { type: 'complaint', feedbackType: 'opt-out' } }],
  },
  {
    name: "without Original-Rcpt-To the original's To names the complainant",
    raw: edit(ABUSE, ['Original-Rcpt-To: <marit@isp.example>\r\n', '']),
    expected: [ABUSE_REPORT],
  },
  {
    name: "a redacted Original-Rcpt-To gives way to the original's To",
    raw: edit(ABUSE, ['Original-Rcpt-To: <marit@isp.example>', 'Original-Rcpt-To: <xxxxxxxx@isp.example>']),
    expected: [ABUSE_REPORT],
  },
  {
    name: 'Original-Rcpt-To written twice for the same address names it once',
    raw: edit(ABUSE, ['Original-Rcpt-To: <marit@isp.example>', 'Original-Rcpt-To: <marit@isp.example>\r\nOriginal-Rcpt-To: Marit@isp.example']),
    expected: [ABUSE_REPORT],
  },
  {
    name: 'Original-Rcpt-To naming two people names no one',
    raw: edit(ABUSE, ['Original-Rcpt-To: <marit@isp.example>', 'Original-Rcpt-To: <marit@isp.example>\r\nOriginal-Rcpt-To: <jon@isp.example>']),
    expected: [{ ...ABUSE_REPORT, recipient: null }],
  },
  {
    name: 'an original To of several addresses names no one',
    raw: edit(
      ABUSE,
      ['Original-Rcpt-To: <marit@isp.example>\r\n', ''],
      ['To: Marit Lunde <marit@isp.example>', 'To: Marit Lunde <marit@isp.example>, jon@isp.example'],
    ),
    expected: [{ ...ABUSE_REPORT, recipient: null }],
  },
  {
    name: 'a To redacted as [redacted]@domain is no address',
    raw: edit(ABUSE, ['Original-Rcpt-To: <marit@isp.example>\r\n', ''], ['To: Marit Lunde <marit@isp.example>', 'To: [redacted]@isp.example']),
    expected: [{ ...ABUSE_REPORT, recipient: null }],
  },
  {
    name: 'a To of only a display name is no address',
    raw: edit(ABUSE, ['Original-Rcpt-To: <marit@isp.example>\r\n', ''], ['To: Marit Lunde <marit@isp.example>', 'To: <redacted>']),
    expected: [{ ...ABUSE_REPORT, recipient: null }],
  },
  {
    name: 'without Arrival-Date the report Date is when it happened',
    raw: edit(ABUSE, [/Arrival-Date: .*\r\n/, '']),
    expected: [{ ...ABUSE_REPORT, occurredAt: new Date('2025-06-07T18:03:10Z') }],
  },
  {
    name: 'a report that returns no original has an empty message reference and Original-Rcpt-To only',
    raw: edit(ABUSE, ['Content-Type: message/rfc822', 'Content-Type: application/octet-stream']),
    expected: [{ ...ABUSE_REPORT, message: {} }],
  },
  {
    name: 'a base64-encoded feedback-report part is decoded',
    raw: edit(ABUSE, [
      /Content-Type: message\/feedback-report\r\n\r\n([^]*?)\r\n\r\n--/,
      `Content-Type: message/feedback-report\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('Feedback-Type: abuse\r\nOriginal-Rcpt-To: <marit@isp.example>\r\nArrival-Date: Sat, 7 Jun 2025 17:58:41 +0000\r\n').toString('base64')}\r\n\r\n--`,
    ]),
    expected: [ABUSE_REPORT],
  },
  {
    name: 'a quoted report-type parameter in any case is read',
    raw: edit(ABUSE, ['report-type=feedback-report', 'report-type="Feedback-Report"']),
    expected: [ABUSE_REPORT],
  },
]

for (const { name, raw, expected } of accepted) {
  t.test(name, async (t) => {
    t.strictSame(await parseArf(raw), expected)
  })
}

t.test('a Buffer and the same text as a string read the same', async (t) => {
  const raw = fixture('arf-fbl-redacted-to.eml')
  t.strictSame(await parseArf(raw.toString('utf8')), await parseArf(raw))
})

// --- what it refuses -------------------------------------------------------------------

const refused: { name: string; raw: string | Buffer; code: UnreadableReportError['code']; message: RegExp }[] = [
  { name: 'one byte over MAX_REPORT_BYTES is too large, before anything is read', raw: Buffer.alloc(MAX_REPORT_BYTES + 1, 'x'), code: 'report_too_large', message: /1048577 bytes/ },
  {
    name: 'a real report padded past MAX_REPORT_BYTES is too large',
    raw: Buffer.concat([fixture(ABUSE), Buffer.alloc(MAX_REPORT_BYTES, ' ')]),
    code: 'report_too_large',
    message: /at most 1048576/,
  },
  { name: 'an empty string is unparsable', raw: '', code: 'report_unparsable', message: /header section/ },
  { name: 'garbage bytes are unparsable', raw: Buffer.from([0x00, 0xc3, 0x28, 0xa0, 0xa1, 0x0a, 0xe2, 0x82]), code: 'report_unparsable', message: /header section/ },
  { name: 'plain text that is not a message is unparsable', raw: 'This message is spam, please stop.\r\n', code: 'report_unparsable', message: /header section/ },
  {
    name: 'a complaint forwarded as plain text is not a feedback report',
    raw: 'From: user@isp.example\r\nSubject: Fwd: spam\r\n\r\nStop sending me this.\r\n',
    code: 'report_not_a_report',
    message: /text\/plain, not an abuse feedback report/,
  },
  { name: 'a multipart/mixed message is not a feedback report', raw: fixture('reply-multipart-mixed.eml'), code: 'report_not_a_report', message: /multipart\/mixed/ },
  { name: 'a DSN is not a feedback report', raw: fixture('dsn-postfix-user-unknown.eml'), code: 'report_not_a_report', message: /report-type delivery-status, not feedback-report/ },
  { name: 'a read receipt is not a feedback report', raw: fixture('mdn-read-receipt.eml'), code: 'report_not_a_report', message: /disposition-notification/ },
  {
    name: 'a feedback-report multipart/report without the feedback-report part is not a report',
    raw: edit(ABUSE, ['Content-Type: message/feedback-report', 'Content-Type: text/plain']),
    code: 'report_not_a_report',
    message: /no message\/feedback-report part/,
  },
  {
    name: 'a feedback-report part without Feedback-Type is not a report',
    raw: edit(ABUSE, ['Feedback-Type: abuse\r\n', '']),
    code: 'report_not_a_report',
    message: /no Feedback-Type/,
  },
  {
    name: 'a feedback-report part with an empty Feedback-Type is not a report',
    raw: edit(ABUSE, ['Feedback-Type: abuse', 'Feedback-Type: ']),
    code: 'report_not_a_report',
    message: /no Feedback-Type/,
  },
]

for (const { name, raw, code, message } of refused) {
  t.test(name, async (t) => {
    const error = await parseArf(raw).then(
      () => null,
      (caught: unknown) => caught,
    )
    t.ok(error instanceof UnreadableReportError, 'refused with an UnreadableReportError')
    t.equal((error as UnreadableReportError).code, code)
    t.match((error as UnreadableReportError).message, message)
  })
}
