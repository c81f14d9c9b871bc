// The access export as a page a person can read (art. 12(1): concise,
// intelligible, in clear language), in their language: the same document as
// the JSON, section by section, with headings, captioned tables and column
// headers a screen reader announces. No script, nothing loaded from elsewhere,
// every value escaped.
import { escapeHtml, htmlDocument } from '../pages/html.js'
import type { Locale } from '../vocabulary.js'
import type { ContactExport } from './export.js'

const TEXT = {
  nb: {
    title: 'Dine personopplysninger',
    intro: (controller: string, at: string) => `Dette er en kopi av alle opplysninger ${controller} har om deg i e-post- og samtykkesystemet vårt, laget ${at}.`,
    questions: (email: string) => `Spørsmål, eller vil du rette, slette eller begrense noe? Skriv til ${email}.`,
    profile: 'Opplysninger om deg',
    fields: { email: 'E-postadresse', name: 'Navn', phone: 'Telefon', address: 'Adresse', locale: 'Språk', createdAt: 'Registrert', attributes: 'Andre opplysninger' },
    purposes: 'Hvorfor vi behandler opplysningene',
    purposeColumns: ['Formål', 'Rettslig grunnlag', 'Opplysninger', 'Mottakere', 'Hvor lenge'],
    noRecipients: 'Ingen',
    bases: { consent: 'Samtykke', contract: 'Avtale', legitimate_interest: 'Berettiget interesse', legal_obligation: 'Rettslig forpliktelse' } as Record<string, string>,
    lists: 'Listene dine',
    listColumns: ['Liste', 'Status', 'Siden', 'Meldt av'],
    consent: 'Samtykkehistorikk',
    consentColumns: ['Tidspunkt', 'Hva', 'Liste eller formål', 'Hvordan', 'Teksten du så'],
    courses: 'Kurs',
    courseColumns: ['Kurs', 'Status', 'Slutter', 'Ta vare på data til neste kurs'],
    deferred: 'Avmeldinger som venter til kurset er over',
    deferredColumns: ['Liste', 'Bedt om', 'Utført'],
    suppressions: 'Sperrer',
    suppressionColumns: ['Fra', 'Omfang', 'Grunn', 'Opphevet'],
    messages: 'E-poster',
    messageColumns: ['Tidspunkt', 'Liste', 'Status', 'Grunnlag eller grunn'],
    returns: 'Svar fra e-postmottakere om e-postene til deg',
    returnColumns: ['Tidspunkt', 'Hva', 'Hva vi gjorde'],
    requests: 'Henvendelsene dine om personvern',
    requestColumns: ['Mottatt', 'Hva', 'Frist', 'Status', 'Svar'],
    audit: 'Logg over endringer',
    auditColumns: ['Tidspunkt', 'Hva', 'Hvem'],
    none: 'Ingen.',
    yes: 'Ja',
    no: 'Nei',
    security: 'Sikkerhet',
    rights: 'Rettighetene dine',
    rightsText:
      'Du kan be om innsyn, retting, sletting og begrensning, protestere mot markedsføring og be om å få opplysningene dine med deg. Vi svarer innen 14 virkedager. Du kan også klage til Datatilsynet.',
  },
  en: {
    title: 'Your personal data',
    intro: (controller: string, at: string) => `This is a copy of everything ${controller} holds about you in our email and consent system, made ${at}.`,
    questions: (email: string) => `Questions, or want something corrected, erased or restricted? Write to ${email}.`,
    profile: 'What we hold about you',
    fields: { email: 'Email address', name: 'Name', phone: 'Phone', address: 'Address', locale: 'Language', createdAt: 'Registered', attributes: 'Other details' },
    purposes: 'Why we process your data',
    purposeColumns: ['Purpose', 'Legal basis', 'Data', 'Recipients', 'How long'],
    noRecipients: 'None',
    bases: { consent: 'Consent', contract: 'Contract', legitimate_interest: 'Legitimate interest', legal_obligation: 'Legal obligation' } as Record<string, string>,
    lists: 'Your lists',
    listColumns: ['List', 'Status', 'Since', 'Left'],
    consent: 'Consent history',
    consentColumns: ['When', 'What', 'List or purpose', 'How', 'The text you saw'],
    courses: 'Courses',
    courseColumns: ['Course', 'Status', 'Ends', 'Keep data for the next course'],
    deferred: 'Unsubscribes waiting for the course to end',
    deferredColumns: ['List', 'Asked', 'Carried out'],
    suppressions: 'Blocks',
    suppressionColumns: ['Since', 'Scope', 'Reason', 'Lifted'],
    messages: 'Emails',
    messageColumns: ['When', 'List', 'Status', 'Basis or reason'],
    returns: 'What mail servers reported about emails to you',
    returnColumns: ['When', 'What', 'What we did'],
    requests: 'Your privacy requests',
    requestColumns: ['Received', 'What', 'Due', 'Status', 'Answer'],
    audit: 'Log of changes',
    auditColumns: ['When', 'What', 'Who'],
    none: 'None.',
    yes: 'Yes',
    no: 'No',
    security: 'Security',
    rights: 'Your rights',
    rightsText:
      'You can ask for access, correction, erasure and restriction, object to marketing and take your data with you. We answer within 14 working days. You can also complain to the Norwegian Data Protection Authority (Datatilsynet).',
  },
} as const

/** The stored codes, in words a person reads; a code without a word here is shown as it is. */
const WORDS: Record<Locale, Record<string, string>> = {
  nb: {
    active: 'aktiv', pending: 'venter på bekreftelse', unsubscribed: 'meldt av', completed: 'fullført', cancelled: 'avbrutt',
    granted: 'samtykke gitt', confirmed: 'samtykke bekreftet', withdrawn: 'samtykke trukket', objected: 'reservert deg',
    form: 'skjema', link: 'lenke i e-post', staff: 'registrert av oss', import: 'import', api: 'fra et annet system', enrollment: 'kurspåmelding',
    list: 'denne listen', global: 'all e-post utenom kurs og kvitteringer', purpose: 'et formål', 'all-mail': 'all e-post',
    unsubscribe: 'avmelding', objection: 'reservasjon', complaint: 'klage', bounce: 'adressen virker ikke', erasure: 'sletting', manual: 'stoppet av oss', restriction: 'begrenset behandling',
    sent: 'sendt', queued: 'i kø', deferred: 'forsinket', failed: 'feilet', bounced: 'avvist', blocked: 'ikke sendt', expired: 'utløpt',
    subscriber: 'du selv', admin: 'oss', 'course-system': 'kurssystemet',
    hard_bounce: 'adressen finnes ikke: vi sender ikke mer', soft_bounce: 'midlertidig feil', policy_block: 'avvist av mottakerens server', delivered: 'levert',
    report_complaint: 'meldt som søppelpost: vi sender ikke mer nyhetsbrev eller markedsføring', report_bounce: 'e-posten kom ikke fram', report_delivered: 'e-posten kom fram',
    access: 'innsyn', portability: 'dataportabilitet', rectification: 'retting', objection_request: 'protest', open: 'åpen', in_progress: 'under arbeid', refused: 'avslått',
  },
  en: {
    active: 'active', pending: 'waiting for confirmation', unsubscribed: 'unsubscribed', completed: 'completed', cancelled: 'cancelled',
    granted: 'consent given', confirmed: 'consent confirmed', withdrawn: 'consent withdrawn', objected: 'objected',
    form: 'form', link: 'link in an email', staff: 'recorded by us', import: 'import', api: 'from another system', enrollment: 'course enrollment',
    list: 'this list', global: 'all email except course mail and receipts', purpose: 'a purpose', 'all-mail': 'all email',
    unsubscribe: 'unsubscribe', objection: 'objection', complaint: 'complaint', bounce: 'the address does not work', erasure: 'erasure', manual: 'stopped by us', restriction: 'restricted processing',
    sent: 'sent', queued: 'queued', deferred: 'delayed', failed: 'failed', bounced: 'rejected', blocked: 'not sent', expired: 'expired',
    subscriber: 'you', admin: 'us', 'course-system': 'the course system',
    hard_bounce: 'the address does not exist: we send no more', soft_bounce: 'a temporary failure', policy_block: 'refused by the receiving server', delivered: 'delivered',
    report_complaint: 'reported as spam: we send no more newsletters or marketing', report_bounce: 'the email did not arrive', report_delivered: 'the email arrived',
    access: 'access', portability: 'portability', rectification: 'correction', objection_request: 'objection', open: 'open', in_progress: 'in progress', refused: 'refused',
  },
}

const when = (at: Date | string | null | undefined, locale: Locale) =>
  at
    ? new Intl.DateTimeFormat(locale === 'nb' ? 'nb-NO' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Oslo' }).format(new Date(at))
    : ''

function table(caption: string, columns: readonly string[], rows: string[][], none: string): string {
  if (rows.length === 0) return `<h2>${escapeHtml(caption)}</h2>\n<p>${escapeHtml(none)}</p>`
  const head = columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')
  const body = rows.map((r) => `<tr>${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n')
  return `<h2>${escapeHtml(caption)}</h2>\n<table>\n<caption class="visually-hidden">${escapeHtml(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`
}

/** Wider than the subscriber pages: the export is tables. */
const EXPORT_STYLE = `body { font-family: system-ui, -apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { border: 1px solid #c8c8c8; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef3f9; }
dt { font-weight: 600; }
dd { margin: 0 0 .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }`

/** The export as an HTML page in the person's language. */
export function exportPage(data: ContactExport): string {
  const locale = data.locale
  const t = TEXT[locale]
  const word = (code: string) => WORDS[locale][code] ?? code
  const listName = (id: string) => data.subscriptions.find((s) => s.listId === id)?.list?.name ?? id
  const c = data.contact
  const profile: [string, string][] = [
    [t.fields.email, c.email],
    [t.fields.name, c.name ?? ''],
    [t.fields.phone, c.phone ?? ''],
    [t.fields.address, c.address ?? ''],
    [t.fields.locale, c.locale],
    [t.fields.createdAt, when(c.createdAt, locale)],
    ...(Object.keys(c.attributes).length > 0 ? [[t.fields.attributes, JSON.stringify(c.attributes)] as [string, string]] : []),
  ]
  const sections = [
    `<h2>${escapeHtml(t.profile)}</h2>\n<dl>\n${profile.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}\n</dl>`,
    table(
      t.purposes,
      t.purposeColumns,
      data.processing.purposes.map((p) => [
        `${p.name}: ${p.description}`,
        t.bases[p.legalBasis] ?? p.legalBasis,
        p.dataCategories.join('; '),
        p.recipients.map((r) => `${r.name}${r.role ? ` (${r.role})` : ''}`).join(', ') || t.noRecipients,
        p.retention,
      ]),
      t.none,
    ),
    table(
      t.lists,
      t.listColumns,
      data.subscriptions.map((s) => [s.list?.name ?? s.listId, word(s.status), when(s.createdAt, locale), when(s.unsubscribedAt, locale)]),
      t.none,
    ),
    table(
      t.consent,
      t.consentColumns,
      data.consentEvents.map((e) => [when(e.occurredAt, locale), word(e.type), e.listId ? listName(e.listId) : e.purpose, word(e.source), e.notice?.text ?? '']),
      t.none,
    ),
    table(
      t.courses,
      t.courseColumns,
      data.enrollments.map((e) => [e.course.name, word(e.status), when(e.course.endsAt, locale), e.keepDataAfterCourse ? t.yes : t.no]),
      t.none,
    ),
    table(
      t.deferred,
      t.deferredColumns,
      data.deferredUnsubscribes.map((d) => [listName(d.listId), when(d.requestedAt, locale), when(d.appliedAt, locale)]),
      t.none,
    ),
    table(
      t.suppressions,
      t.suppressionColumns,
      data.suppressions.map((s) => [when(s.createdAt, locale), s.listId ? listName(s.listId) : word(s.scope), word(s.reason), when(s.liftedAt, locale)]),
      t.none,
    ),
    table(
      t.messages,
      t.messageColumns,
      data.messages.map((m) => {
        const last = m.decisions.at(-1)
        return [when(m.createdAt, locale), m.list?.name ?? m.kind, word(m.status), last ? (last.basis ? (t.bases[last.basis] ?? last.basis) : (last.reason ?? '')) : '']
      }),
      t.none,
    ),
    table(
      t.returns,
      t.returnColumns,
      data.returnReports.map((r) => [when(r.occurredAt, locale), word(`report_${r.reportType}`), r.effect && r.effect !== 'complaint' ? word(r.effect) : '']),
      t.none,
    ),
    table(
      t.requests,
      t.requestColumns,
      data.requests.map((r) => [when(r.receivedAt, locale), r.type === 'objection' ? word('objection_request') : word(r.type), r.dueOn, word(r.status), r.outcome ?? '']),
      t.none,
    ),
    table(
      t.audit,
      t.auditColumns,
      data.auditEntries.map((a) => [when(a.occurredAt, locale), a.action, a.actorName ?? word(a.actorRole)]),
      t.none,
    ),
    `<h2>${escapeHtml(t.security)}</h2>\n<p>${escapeHtml(data.processing.security)}</p>`,
    `<h2>${escapeHtml(t.rights)}</h2>\n<p>${escapeHtml(t.rightsText)}</p>\n<p>${escapeHtml(t.questions(data.controller.email))}</p>`,
  ]
  const intro = `<p>${escapeHtml(t.intro(data.controller.name, when(data.generatedAt, locale)))}</p>`
  return htmlDocument(locale, t.title, EXPORT_STYLE, `${intro}\n${sections.join('\n')}`)
}
