// A message as it goes to the SMTP server: the template rendered for its
// recipient with the service's own values (links, sender, course-mail date),
// and the list headers RFC 8058 asks for. Part of the delivery worker.
import type { Config } from '../config.js'
import { signLink } from '../lib/link-tokens.js'
import { messageToken, taggedAddress } from '../returns/return-path.js'
import { localDate } from '../lib/local-date.js'
import type { ListRow } from '../lists/queries.js'
import type { MessageRow } from '../sends/service.js'
import type { TemplateRow, TemplateService } from '../templates/service.js'
import type { MessageKind } from '../vocabulary.js'
import type { OutgoingMessage } from './mailer.js'

type ComposeConfig = Pick<Config, 'linkSigningKeys' | 'publicBaseUrl' | 'unsubscribeMailto' | 'courseMailFrom' | 'mailFrom' | 'controllerName' | 'controllerEmail' | 'returns'>

/** The values the service fills that differ from one recipient to the next. */
const PER_RECIPIENT_SERVICE_VALUES = ['preferencesUrl', 'courseMailUntil']

/** The message's list headers: one-click for what can be left (RFC 8058); none for course and transactional mail. */
export function listHeaders(kind: MessageKind, link: { unsubscribeUrl: string; mailto: string | undefined; listId: string }): Record<string, string> {
  if (kind !== 'newsletter' && kind !== 'marketing') return {}
  const targets = [`<${link.unsubscribeUrl}>`]
  if (link.mailto) targets.push(`<mailto:${link.mailto}?subject=unsubscribe>`)
  return {
    'List-Unsubscribe': targets.join(', '),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': link.listId,
  }
}

/**
 * The message as it goes out: rendered for its recipient, with the service's
 * own values and headers. `shared`: its campaign's values, which the
 * message's own (the person's name) override; a campaign message queued
 * before its messages stored only the name holds them all itself, the same values.
 */
export async function composeMessage(
  deps: { config: ComposeConfig; templates: Pick<TemplateService, 'render'>; host: string },
  message: MessageRow,
  template: TemplateRow,
  list: ListRow | null,
  lockedUntil: Date | null,
  shared: Record<string, unknown> = {},
): Promise<OutgoingMessage> {
  const { config, templates, host } = deps
  const token = message.contactId && list ? signLink(config.linkSigningKeys, 'unsubscribe', { contactId: message.contactId, listId: list.id }) : null
  // The header is RFC 8058 one-click; the link a person clicks opens the preference page, on this list
  // (course mail has no header: it cannot be left while the course runs, so it links the page alone).
  const unsubscribeUrl = token ? `${config.publicBaseUrl}/unsubscribe/${token}` : ''
  const preferencesUrl = token ? `${config.publicBaseUrl}/u/${token}` : ''
  const rendered = await templates.render(
    template,
    message.locale,
    {
      ...shared,
      ...message.data,
      // The service's values last: send data cannot forge a link or a sender.
      preferencesUrl,
      courseMailUntil: lockedUntil ? localDate(lockedUntil, message.locale) : '',
      listName: list?.name ?? '',
      controllerName: config.controllerName,
      controllerEmail: config.controllerEmail,
    },
    // A campaign's messages differ in the person's own values and links: the rest of the text is shared.
    message.campaignId ? [...Object.entries(message.data ?? {}).flatMap(([name, value]) => (value !== shared[name] ? [name] : [])), ...PER_RECIPIENT_SERVICE_VALUES] : undefined,
  )
  // Addresses that name this message: a mail to them says which message it answers (src/returns).
  const mailto = config.unsubscribeMailto && token ? taggedAddress(config.unsubscribeMailto, messageToken(config.linkSigningKeys, 'unsubscribe', message.id)) : undefined
  const headers = list && token ? listHeaders(message.kind, { unsubscribeUrl, mailto, listId: `<${list.slug}.${host}>` }) : {}
  // Postmark echoes X-PM-Metadata-* in its webhooks, and nothing of the Message-ID.
  if (config.returns.providers.postmark) headers['X-PM-Metadata-samtykke-message-id'] = message.headerMessageId
  return {
    messageId: message.headerMessageId,
    returnPath: config.returns.returnPath ? taggedAddress(config.returns.returnPath, messageToken(config.linkSigningKeys, 'return-path', message.id)) : undefined,
    from: message.kind === 'course' ? config.courseMailFrom : config.mailFrom,
    to: message.toAddress!,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers,
  }
}
