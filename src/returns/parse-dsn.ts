// Reads an RFC 3464 delivery status notification (multipart/report;
// report-type=delivery-status, or its RFC 6533 UTF-8 form) into one
// ParsedReport per recipient it reports as failed, delayed, delivered or
// relayed. It says what the report says and decides nothing: whether a bounce
// suppresses anyone is src/returns/rules.ts's business, and the return-path
// token is filled in by whoever knows the envelope (src/returns/service.ts).
// Pure: no database, no HTTP, no logging.
//
// Strict on purpose: a bounce in prose ("Undelivered Mail", qmail's "Hi. This
// is the qmail-send program") has no machine-readable part and is refused as
// report_not_a_report rather than guessed at.

import { readEnhancedStatus, flattenReply } from '../delivery/smtp-reply.js'
import {
  fieldValue,
  openReport,
  readFieldBlocks,
  readReportDate,
  splitTypedValue,
  unwrapAddress,
  type FieldBlock,
  type OpenedReport,
  type ReportKind,
} from './report-fields.js'
import { UnreadableReportError, type BounceSeverity, type ParsedReport, type ReturnReport } from './report.js'

const DSN: ReportKind = {
  reportType: 'delivery-status',
  fieldPartTypes: ['message/delivery-status', 'message/global-delivery-status'],
  description: 'a delivery status notification',
}

/** Address types whose text is a mailbox we could have sent to (RFC 3464 2.1.2; utf-8 from RFC 6533). */
const MAILBOX_ADDRESS_TYPES = new Set(['rfc822', 'utf-8'])

/**
 * The ParsedReports of a delivery status notification, one per recipient
 * block that is failed, delayed, delivered or relayed, in the report's order;
 * expanded (and unknown) actions are left out, so the list may be empty.
 * Throws UnreadableReportError: report_too_large, report_unparsable, or
 * report_not_a_report when it is no DSN or reports no recipient.
 */
export async function parseDsn(raw: Buffer | string): Promise<ParsedReport[]> {
  const opened = await openReport(raw, DSN)
  const blocks = readFieldBlocks(opened.fieldText)
  const perMessage = blocks[0]
  // The first block holds the per-message fields; a sender that left out the
  // empty line after them has the first recipient in it too, so every block
  // that names a recipient counts.
  const recipientBlocks = blocks.filter((block) => readRecipient(block) !== null)
  if (recipientBlocks.length === 0) {
    throw new UnreadableReportError('report_not_a_report', 'the delivery-status part names no recipient')
  }
  const arrivedAt = readReportDate(fieldValue(perMessage, 'arrival-date'))
  return recipientBlocks.flatMap((block) => {
    const parsed = readRecipientBlock(block, opened, arrivedAt)
    return parsed === null ? [] : [parsed]
  })
}

function readRecipientBlock(block: FieldBlock, opened: OpenedReport, arrivedAt: Date | null): ParsedReport | null {
  const report = reportOfAction(block)
  if (report === null) return null
  const recipient = readRecipient(block)!
  const headerMessageId = opened.original?.messageId ?? null
  return {
    report,
    message: headerMessageId === null ? {} : { headerMessageId },
    recipient,
    reportKey: `${opened.identity} ${recipient.toLowerCase()}`,
    occurredAt: readReportDate(fieldValue(block, 'last-attempt-date')) ?? arrivedAt ?? opened.date,
  }
}

/** What the Action field reports (RFC 3464 2.3.3), or null for expanded, unknown and missing actions. */
function reportOfAction(block: FieldBlock): ReturnReport | null {
  const action = /^[a-z]+/.exec(fieldValue(block, 'action')?.toLowerCase() ?? '')?.[0]
  switch (action) {
    case 'failed': {
      const status = readStatus(block)
      return { type: 'bounce', severity: severityOfFailure(status), status, providerType: null, diagnostic: readDiagnostic(block) }
    }
    case 'delayed':
      // Still being retried: whatever the status says, it has not failed yet.
      return { type: 'bounce', severity: 'transient', status: readStatus(block), providerType: null, diagnostic: readDiagnostic(block) }
    case 'delivered':
    case 'relayed':
      return { type: 'delivered' }
    default:
      return null
  }
}

function severityOfFailure(status: string | null): BounceSeverity {
  if (status?.startsWith('5.')) return 'permanent'
  if (status?.startsWith('4.')) return 'transient'
  return 'undetermined'
}

/**
 * The Status field, normalised. When it is only the class's catch-all x.0.0
 * and the remote server's own reply carries a precise code of the same class,
 * the reply's code wins: Exim writes "Status: 5.0.0" over a "550 5.1.1" from
 * the remote, and 5.1.1 is the part that says the address does not exist.
 */
function readStatus(block: FieldBlock): string | null {
  const declared = readEnhancedStatus(fieldValue(block, 'status') ?? '')
  const diagnostic = splitTypedValue(fieldValue(block, 'diagnostic-code') ?? '')
  const replied = diagnostic.type === 'smtp' ? readEnhancedStatus(diagnostic.text) : undefined
  if (declared === undefined) return replied ?? null
  if (replied !== undefined && declared.endsWith('.0.0') && replied[0] === declared[0]) return replied
  return declared
}

/** The Diagnostic-Code's text after its type, on one line, or null. */
function readDiagnostic(block: FieldBlock): string | null {
  const value = fieldValue(block, 'diagnostic-code')
  if (value === undefined) return null
  const text = flattenReply(splitTypedValue(value).text)
  return text === '' ? null : text
}

/**
 * The recipient a block is about: Final-Recipient, else Original-Recipient,
 * preferring the one that is a mailbox address (an X.400 or unknown-typed
 * Final-Recipient gives way to an rfc822 Original-Recipient).
 */
function readRecipient(block: FieldBlock): string | null {
  const named = ['final-recipient', 'original-recipient'].flatMap((name) => {
    const value = fieldValue(block, name)
    if (value === undefined) return []
    const { type, text } = splitTypedValue(value)
    const address = unwrapAddress(text)
    return address === '' ? [] : [{ type, address }]
  })
  return (named.find((entry) => entry.type !== null && MAILBOX_ADDRESS_TYPES.has(entry.type)) ?? named[0])?.address ?? null
}
