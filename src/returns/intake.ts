// The ways in for reports, each to the one path of ./service.ts: a raw DSN
// or ARF (posted, or mailed to the inbound listener), an email provider's
// signed events, and a mailto: unsubscribe mailed to the inbound listener. Each
// reads and verifies what it got; what cannot be read, is forged, or names no
// message we sent is refused with a stable code and changes nothing but the
// record of its rejection. Knows nothing of HTTP or SMTP sessions.
import { AppError, type ErrorCode } from '../lib/errors.js'
import { subscriberActor } from '../lib/actor.js'
import type { Clock } from '../lib/clock.js'
import type { ContactService } from '../contacts/service.js'
import type { SendService } from '../sends/service.js'
import type { OptOutService } from '../subscriptions/opt-out.js'
import type { Config } from '../config.js'
import { parseArf } from './parse-arf.js'
import { parseDsn } from './parse-dsn.js'
import { readProviderEvents } from './providers/index.js'
import { MAX_REPORT_BYTES, UnreadableReportError, type ParsedReport, type ReportChannel } from './report.js'
import { tokenIn, verifyMessageToken } from './return-path.js'
import type { ReportResult, ReturnService } from './service.js'

export type Provider = 'ses' | 'postmark' | 'sendgrid'

/** How long an SNS SubscribeURL may take to answer. */
const SUBSCRIBE_TIMEOUT_MS = 5000

/** Confirms an SNS subscription: a GET of the SubscribeURL the verified notification named (its origin checked by the SES reader). */
export async function visitSubscribeUrl(url: string): Promise<void> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(SUBSCRIBE_TIMEOUT_MS) })
  if (!response.ok) throw new Error(`SNS subscription confirmation answered ${response.status}`)
}

/** The status each refusal answers with. */
const STATUS_OF: Record<string, number> = {
  report_unparsable: 400,
  report_not_a_report: 422,
  report_signature_invalid: 401,
  report_too_large: 413,
  report_unmatched: 422,
  report_recipient_mismatch: 422,
}

/** A report refused as a whole: nothing it said was applied. */
export class ReportRefusedError extends AppError {
  constructor(code: ErrorCode, message: string, readonly results: ReportResult[] = []) {
    super(STATUS_OF[code] ?? 422, code, message, results.length > 0 ? { results } : {})
  }
}

export function createReportIntakeService(deps: {
  config: Pick<Config, 'returns' | 'unsubscribeMailto' | 'linkSigningKeys'>
  returns: Pick<ReturnService, 'receive' | 'reject'>
  sends: Pick<SendService, 'messageById'>
  contacts: Pick<ContactService, 'addressHashOf'>
  optOut: Pick<OptOutService, 'unsubscribeByLink'>
  db: Parameters<SendService['messageById']>[0]
  clock: Clock
  /** Visits an SNS SubscribeURL (an HTTPS GET) once its notification verified. */
  visit?: (url: string) => Promise<void>
}) {
  const { config, returns } = deps

  /** Reads with `read`; an unreadable report is kept as rejected and refused. */
  async function readOrRefuse(channel: ReportChannel, raw: Buffer, read: () => Promise<ParsedReport[]>): Promise<ParsedReport[]> {
    try {
      if (raw.length > MAX_REPORT_BYTES) throw new UnreadableReportError('report_too_large', `A report is at most ${MAX_REPORT_BYTES} bytes`)
      return await read()
    } catch (error) {
      if (!(error instanceof UnreadableReportError)) throw error
      await returns.reject(channel, error.code, raw)
      throw new ReportRefusedError(error.code, error.message)
    }
  }

  /** Applies what was read; when not one report was applied (or seen before), the whole is refused with the first reason. */
  async function apply(channel: ReportChannel, reports: ParsedReport[], context: { returnPathToken?: string } = {}): Promise<ReportResult[]> {
    const results = await returns.receive(channel, reports, context)
    const refused = results.filter((r) => r.outcome === 'rejected')
    if (results.length > 0 && refused.length === results.length) {
      const code = refused[0]!.rejection as ErrorCode
      throw new ReportRefusedError(code, code === 'report_unmatched' ? 'The report names no message we sent' : 'The report does not match the message it names', results)
    }
    return results
  }

  /** A report mailed or posted as a message: a DSN, or (by its report-type) an ARF. */
  const readReportMessage = async (raw: Buffer): Promise<{ channel: 'dsn' | 'arf'; reports: ParsedReport[] }> => {
    const head = raw.subarray(0, 64 * 1024).toString('latin1')
    const arf = /report-type\s*=\s*"?feedback-report/i.test(head)
    return { channel: arf ? 'arf' : 'dsn', reports: await (arf ? parseArf(raw) : parseDsn(raw)) }
  }

  return {
    /** POST /v1/events/dsn: a raw RFC 3464 delivery status notification. */
    async receiveDsn(raw: Buffer): Promise<ReportResult[]> {
      return apply('dsn', await readOrRefuse('dsn', raw, () => parseDsn(raw)))
    },

    /** POST /v1/events/arf: a raw RFC 5965 abuse feedback report. */
    async receiveArf(raw: Buffer): Promise<ReportResult[]> {
      return apply('arf', await readOrRefuse('arf', raw, () => parseArf(raw)))
    },

    /** POST /v1/events/delivery: a provider's events, verified its way; an SNS subscription is confirmed. */
    async receiveProviderEvents(provider: Provider, body: Buffer, headers: Record<string, string | string[] | undefined>): Promise<ReportResult[]> {
      let confirm: string | undefined
      const reports = await readOrRefuse(provider, body, async () => {
        const read = await readProviderEvents(provider, { body, headers }, config.returns.providers, { clock: deps.clock })
        confirm = read.confirmSubscription
        return read.reports
      })
      if (confirm) {
        await deps.visit?.(confirm)
        return []
      }
      return reports.length === 0 ? [] : apply(provider, reports)
    },

    /**
     * Mail to the inbound listener, to one of our tagged addresses: a bounce to
     * a message's return path, or a mailto: unsubscribe answering a message.
     * Returns null when the address is none of ours (the listener refuses it at RCPT).
     */
    recipientKind(address: string): 'return-path' | 'unsubscribe' | null {
      if (config.returns.returnPath && tokenIn(config.returns.returnPath, address)) return 'return-path'
      if (config.unsubscribeMailto && tokenIn(config.unsubscribeMailto, address)) return 'unsubscribe'
      return null
    },

    /** A bounce or feedback report mailed to a message's return path: the address's token names the message. */
    async receiveBounceMail(raw: Buffer, to: string): Promise<ReportResult[]> {
      const returnPathToken = tokenIn(config.returns.returnPath ?? '', to) ?? undefined
      let channel: 'dsn' | 'arf' = 'dsn'
      const reports = await readOrRefuse('smtp', raw, async () => {
        const read = await readReportMessage(raw)
        channel = read.channel
        return read.reports
      })
      // An ARF names its message by Message-ID; the return path is the DSN's.
      return apply('smtp', reports, channel === 'dsn' ? { returnPathToken } : {})
    },

    /**
     * A mailto: unsubscribe (RFC 2369, RFC 8058 § 3.2): a mail to the tagged
     * address of one message, from the address that message went to, leaves
     * that message's list — through the same opt-out as the one-click link, so
     * course mail stays locked while the course runs. From anyone else, or for
     * a token that does not verify, nothing happens.
     */
    async unsubscribeByMail(to: string, from: string): Promise<'unsubscribed' | 'refused'> {
      const token = config.unsubscribeMailto ? tokenIn(config.unsubscribeMailto, to) : null
      const messageId = token ? verifyMessageToken(config.linkSigningKeys, 'unsubscribe', token) : null
      const message = messageId ? await deps.sends.messageById(deps.db, messageId) : undefined
      if (!message || !message.contactId || !message.listId || deps.contacts.addressHashOf(from) !== message.addressHash) return 'refused'
      await deps.optOut.unsubscribeByLink(message.listId, message.contactId, { source: 'link', evidence: `mailto: unsubscribe answering message ${message.id}` }, subscriberActor(message.contactId))
      return 'unsubscribed'
    },
  }
}
export type ReportIntakeService = ReturnType<typeof createReportIntakeService>
