// The email providers whose events POST /v1/events/delivery takes: one entry
// point that verifies a post the way its provider signs it and only then
// reads it into our report shape. A provider with no settings is refused
// outright, so an unconfigured provider can never be used to post unverified
// events. No database, no logging, no Fastify: the route hands over the raw
// body and headers; matching and rules are src/returns/service.ts's.
import type { Clock } from '../../lib/clock.js'
import { UnreadableReportError } from '../report.js'
import type { HeaderRecord, ProviderEvents } from './input.js'
import { parsePostmarkEvent, verifyPostmarkRequest, type PostmarkSettings } from './postmark.js'
import { parseSendGridEvents, verifySendGridRequest, type SendGridSettings } from './sendgrid.js'
import { parseSesMessage, verifySesRequest, type SesSettings } from './ses.js'
import type { CertificateCache, FetchText } from './sns-signature.js'

export type { HeaderRecord, ProviderEvents } from './input.js'
export { POSTMARK_MESSAGE_ID_METADATA } from './postmark.js'
export { CertificateCache, SigningCertificateUnavailableError, type FetchText } from './sns-signature.js'

export type ProviderName = 'ses' | 'postmark' | 'sendgrid'

/** Each provider's settings; a provider left out takes no events. */
export interface ProviderSettings {
  ses?: SesSettings
  postmark?: PostmarkSettings
  sendgrid?: SendGridSettings
}

export interface ProviderDeps {
  clock?: Clock
  /** How SNS signing certificates are fetched (default: fetch, 5 s, 64 KiB). */
  fetchText?: FetchText
  /** Where they are kept (default: one cache shared by the process). */
  certificates?: CertificateCache
}

const PROVIDER_NAMES: Record<ProviderName, string> = { ses: 'Amazon SES', postmark: 'Postmark', sendgrid: 'SendGrid' }

/**
 * Verifies one provider post and reads its reports. Throws UnreadableReportError
 * when the post cannot be taken, and SigningCertificateUnavailableError when an
 * SNS certificate could not be fetched (answer 5xx: SNS will retry).
 */
export async function readProviderEvents(
  provider: ProviderName,
  request: { body: Buffer; headers: HeaderRecord },
  settings: ProviderSettings,
  deps: ProviderDeps = {},
): Promise<ProviderEvents> {
  switch (provider) {
    case 'ses': {
      const ses = configured(provider, settings.ses)
      return parseSesMessage(await verifySesRequest(request, ses, deps))
    }
    case 'postmark': {
      verifyPostmarkRequest(request, configured(provider, settings.postmark))
      return { reports: parsePostmarkEvent(request.body) }
    }
    case 'sendgrid': {
      verifySendGridRequest(request, configured(provider, settings.sendgrid), deps)
      return { reports: parseSendGridEvents(request.body) }
    }
    default:
      // Only reachable from untyped callers; the route's schema names the three.
      throw new UnreadableReportError('report_not_a_report', `${String(provider satisfies never)} is not a provider we take events from`)
  }
}

function configured<T>(provider: ProviderName, settings: T | undefined): T {
  if (settings === undefined) {
    throw new UnreadableReportError('report_signature_invalid', `${PROVIDER_NAMES[provider]} events are not configured: none are taken`)
  }
  return settings
}
