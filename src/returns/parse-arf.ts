// Reads an RFC 5965 abuse feedback report (multipart/report;
// report-type=feedback-report) into the complaint it carries. It says what the
// report says and decides nothing: what a complaint does to a contact is
// src/returns/rules.ts's business. Pure: no database, no HTTP, no logging.
//
// Feedback loops often redact the complainant (RFC 6590): the To of the
// returned original is removed or its local part replaced. The original's
// Message-ID is then what ties the report to our message, and the recipient
// is null rather than a redacted stand-in that could match nobody, or the
// wrong contact.

import {
  fieldValue,
  fieldValues,
  openReport,
  readFieldBlocks,
  readReportDate,
  unwrapAddress,
  type FieldBlock,
} from './report-fields.js'
import { UnreadableReportError, type ParsedReport } from './report.js'

/**
 * Feedback types that are no complaint about our mail: not-spam (RFC 5965)
 * says the user took it back out of spam, auth-failure (RFC 6591) reports our
 * SPF/DKIM failing. Reading either as a complaint would suppress someone who
 * asked for nothing of the kind, and ReturnReport has no shape for them, so
 * they yield no report.
 */
const NOT_COMPLAINTS = new Set(['not-spam', 'auth-failure'])

/**
 * The complaint in an abuse feedback report: one ParsedReport, or none for a
 * not-spam or auth-failure report. Throws UnreadableReportError:
 * report_too_large, report_unparsable, or report_not_a_report when it is no
 * feedback report or its feedback-report part has no Feedback-Type.
 */
export async function parseArf(raw: Buffer | string): Promise<ParsedReport[]> {
  const opened = await openReport(raw, {
    reportType: 'feedback-report',
    fieldPartTypes: ['message/feedback-report'],
    description: 'an abuse feedback report',
  })
  // The part is one block (RFC 5965 3.1); stray empty lines in it split nothing.
  const fields: FieldBlock = new Map(readFieldBlocks(opened.fieldText).flatMap((block) => [...block]))
  const feedbackType = /^[a-z0-9-]+/.exec(fieldValue(fields, 'feedback-type')?.toLowerCase() ?? '')?.[0]
  if (feedbackType === undefined) {
    throw new UnreadableReportError('report_not_a_report', 'the feedback-report part has no Feedback-Type')
  }
  if (NOT_COMPLAINTS.has(feedbackType)) return []
  const headerMessageId = opened.original?.messageId ?? null
  return [
    {
      report: { type: 'complaint', feedbackType },
      message: headerMessageId === null ? {} : { headerMessageId },
      recipient: readComplainant(fields, opened.original?.to ?? []),
      reportKey: opened.identity,
      // Received-Date is the field's name in the drafts before RFC 5965, which some loops still send.
      occurredAt: readReportDate(fieldValue(fields, 'arrival-date') ?? fieldValue(fields, 'received-date')) ?? opened.date,
    },
  ]
}

/**
 * Who complained: Original-Rcpt-To, else the original's To, each only when it
 * names exactly one address that is not redacted. Several addresses name no
 * one in particular, so they give null too.
 */
function readComplainant(fields: FieldBlock, originalTo: string[]): string | null {
  const fromReport = fieldValues(fields, 'original-rcpt-to').map(unwrapAddress)
  const named = usableAddresses(fromReport)
  return onlyOne(named.length > 0 ? named : usableAddresses(originalTo))
}

function usableAddresses(addresses: string[]): string[] {
  const usable = addresses.filter((address) => isMailbox(address) && !isRedacted(address))
  const seen = new Set<string>()
  return usable.filter((address) => {
    const key = address.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function onlyOne(addresses: string[]): string | null {
  return addresses.length === 1 ? addresses[0]! : null
}

/** local@domain.tld with nothing in it an address cannot hold unquoted: `[redacted]@yahoo.com` is not one. */
function isMailbox(address: string): boolean {
  return /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/.test(address)
}

/** A local part replaced the ways loops redact it: "redacted", "removed", a row of x or *. */
function isRedacted(address: string): boolean {
  const local = address.slice(0, address.lastIndexOf('@'))
  return /redacted|removed/i.test(local) || /^(?:x{3,}|\*+)$/i.test(local)
}
