// What comes back after a message left: a report, in one shape whichever way
// it arrived (a delivery status notification, an abuse feedback report, an
// email provider's event, our own relay's reply). Parsers turn their input
// into these; src/returns/service.ts matches each to the message it is about
// and applies the rules (src/returns/rules.ts). Pure types: no I/O.

/** How a report reached us. */
export const ReportChannel = {
  /** A raw RFC 3464 delivery status notification, posted to /v1/events/dsn. */
  dsn: 'dsn',
  /** A raw RFC 5965 abuse feedback report, posted to /v1/events/arf. */
  arf: 'arf',
  /** Amazon SES through an SNS notification, posted to /v1/events/delivery. */
  ses: 'ses',
  /** A Postmark webhook, posted to /v1/events/delivery. */
  postmark: 'postmark',
  /** A SendGrid event webhook, posted to /v1/events/delivery. */
  sendgrid: 'sendgrid',
  /** Mail to the inbound SMTP listener: a bounce to a return path, or a mailto: unsubscribe. */
  smtp: 'smtp',
  /** Our own relay's reply while the message was handed over (the delivery worker). */
  relay: 'relay',
} as const
export type ReportChannel = (typeof ReportChannel)[keyof typeof ReportChannel]

/**
 * What a report names of the message it is about; a report is matched by any
 * of them. The return-path token is signed by us, so it proves the message;
 * the Message-ID is what the message went out with.
 */
export interface MessageReference {
  /** The token of a VERP return path, `bounces+<token>@domain` (src/returns/return-path.ts). */
  returnPathToken?: string
  /** The Message-ID header the message went out with, angle brackets included, e.g. "<0192…@samtykke.example>". */
  headerMessageId?: string
}

/** How sure the reporter is that the failure will not pass. */
export type BounceSeverity = 'permanent' | 'transient' | 'undetermined'

export type ReturnReport =
  | {
      type: 'bounce'
      severity: BounceSeverity
      /** The RFC 3463 enhanced status ("5.1.1"), normalised, when the report gives one. */
      status: string | null
      /** The provider's own classification when it gives one ("General", "NoEmail", "MailboxFull", "HardBounce"…). */
      providerType: string | null
      /** The remote server's words (Diagnostic-Code, the provider's reason), one line; may quote the address. */
      diagnostic: string | null
    }
  | {
      type: 'complaint'
      /** RFC 5965 Feedback-Type ("abuse", "fraud", "other"…) or the provider's. */
      feedbackType: string | null
    }
  | {
      /** The recipient's server took the message (a provider's delivery event, a DSN with Action: delivered). */
      type: 'delivered'
    }

/** One report as a parser reads it, with what it needs for matching and for telling a repeat from a new one. */
export interface ParsedReport {
  report: ReturnReport
  message: MessageReference
  /** The address the report is about as the report names it (Final-Recipient, the provider's email field), if it does. */
  recipient: string | null
  /**
   * What makes this report itself unique at its reporter (the SNS MessageId,
   * SendGrid's sg_event_id, the DSN's own Message-ID plus recipient…): the
   * same key again is a repeat and changes nothing.
   */
  reportKey: string
  /** When the reporter says it happened; null: when it reached us. */
  occurredAt: Date | null
}

/** A report that cannot be taken: the reason is a stable code the answer and the kept record carry. */
export class UnreadableReportError extends Error {
  constructor(
    readonly code: 'report_unparsable' | 'report_not_a_report' | 'report_signature_invalid' | 'report_too_large',
    message: string,
  ) {
    super(message)
    this.name = 'UnreadableReportError'
  }
}

/** Reports larger than this are refused unread: a real DSN or ARF with the original's headers is a few KiB. */
export const MAX_REPORT_BYTES = 1024 * 1024
