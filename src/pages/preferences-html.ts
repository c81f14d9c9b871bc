// The preference page and the pages that answer its forms, in Norwegian or
// English. Plain HTML forms (no script), one form per choice, every control
// labelled by its own visible text, every value escaped. Each form carries the
// form token (CSRF) and the language the page was shown in.
import { localDate } from '../lib/local-date.js'
import type { Locale } from '../vocabulary.js'
import { escapeHtml, page } from './html.js'
import { JOIN_NOTICE, LEAVE_REASONS, type LeaveReason, type PreferenceList, type PreferenceOutcome, type PreferenceView } from './preferences.js'

const TEXT = {
  nb: {
    title: 'Dine e-postvalg',
    intro: (email: string) => `Her bestemmer du hvilken e-post ${email} får fra oss.`,
    otherLanguage: { label: 'English', lang: 'en' as Locale },
    listsHeading: 'Listene',
    state: {
      subscribed: 'Du får e-post fra denne listen.',
      pending: 'Venter på at du bekrefter påmeldingen.',
      unsubscribed: 'Du er meldt av denne listen.',
      not_subscribed: 'Du er ikke på denne listen.',
    },
    courseLocked: (until: string) => `Dette er kurspost. Du er påmeldt kurset, og kurspost kommer til og med ${until}. Den kan du ikke melde deg av mens kurset pågår.`,
    leavesOn: (date: string) => `Du har bedt om å bli meldt av. Det blir gjort ${date}, når kurset er over.`,
    leaveAfterCourse: (list: string) => `Meld meg av «${list}» når kurset er over`,
    leave: (list: string) => `Meld meg av «${list}»`,
    join: (list: string) => `Meld meg på «${list}»`,
    fromLink: 'Lenken du fulgte, kom fra denne listen.',
    allHeading: 'Meld deg av alt',
    allText: 'Du får ingen nyhetsbrev eller markedsføring fra oss, heller ikke fra lister du ikke er på.',
    allCourse: (courses: string) => `Kurspost fortsetter likevel mens du er påmeldt et kurs: ${courses}. Den stopper når kurset er over.`,
    allButton: 'Meld meg av alt',
    allDone: 'Du har meldt deg av alt. Vil du ha e-post fra en liste igjen, kan du melde deg på den her.',
    objectHeading: 'Markedsføring',
    objectCustomer: (lists: string[]) => `Som kunde kan du få tilbud om lignende kurs (${lists.map((l) => `«${l}»`).join(', ')}). Du kan reservere deg mot all markedsføring.`,
    objectText: 'Du kan reservere deg mot all markedsføring. Da sender vi deg ingen tilbud.',
    objectButton: 'Jeg vil ikke ha markedsføring',
    objected: 'Du har reservert deg mot markedsføring.',
    dataHeading: 'Dataene dine etter kurset',
    dataText: 'Når kurset er over, sletter vi opplysningene dine, med mindre du vil at vi tar vare på dem til neste kurs.',
    dataKeep: 'Ta vare på dataene mine til neste kurs',
    dataDelete: 'Slett dataene mine når kurset er over',
    dataLegend: 'Hva skal skje med dataene dine?',
    dataButton: 'Lagre valget',
    copyHeading: 'Kopi av dataene dine',
    copyText: 'Du kan få en kopi av alt vi har om deg. Vi svarer innen 14 virkedager.',
    copyButton: 'Be om en kopi',
    back: 'Tilbake til e-postvalgene dine',
    left: (list: string) => `Du er meldt av «${list}». Du får ikke flere e-poster fra denne listen.`,
    alreadyLeft: (list: string) => `Du var allerede meldt av «${list}».`,
    leaveKept: (list: string, date: string) => `Du er påmeldt kurset, så kurspost fra «${list}» fortsetter til og med ${date}. Vi melder deg av da.`,
    joined: (list: string) => `Du er meldt på «${list}».`,
    alreadyJoined: (list: string) => `Du var allerede på «${list}».`,
    leftAll: 'Du er meldt av alt: ingen nyhetsbrev og ingen markedsføring.',
    leftAllCourse: (list: string, date: string) => `Kurspost fra «${list}» fortsetter til og med ${date}, fordi du er påmeldt kurset. Den stopper da.`,
    objectedNow: 'Du får ingen markedsføring fra oss.',
    keepData: 'Vi tar vare på dataene dine til neste kurs.',
    deleteData: 'Vi sletter dataene dine når kurset er over.',
    copyRequested: (by: string) => `Vi har fått forespørselen din og sender en kopi av dataene dine senest ${by} (innen 14 virkedager).`,
    reasonNoted: 'Takk for svaret.',
    reasonLegend: 'Vil du si hvorfor du meldte deg av? (Frivillig)',
    reasons: { too_many: 'For mange e-poster', not_relevant: 'Innholdet passer ikke for meg', never_signed_up: 'Jeg meldte meg aldri på', other: 'Annet' } as Record<LeaveReason, string>,
    reasonButton: 'Send svaret',
    formExpired: 'Skjemaet var for gammelt eller kom ikke fra denne siden. Prøv igjen.',
    notOnPage: 'Det valget finnes ikke her.',
  },
  en: {
    title: 'Your email preferences',
    intro: (email: string) => `Here you decide which email ${email} gets from us.`,
    otherLanguage: { label: 'Norsk', lang: 'nb' as Locale },
    listsHeading: 'Lists',
    state: {
      subscribed: 'You get email from this list.',
      pending: 'Waiting for you to confirm.',
      unsubscribed: 'You have left this list.',
      not_subscribed: 'You are not on this list.',
    },
    courseLocked: (until: string) => `This is course mail. You are enrolled in the course, and course mail continues until ${until}. It cannot be opted out of while the course runs.`,
    leavesOn: (date: string) => `You asked to leave. It will be done on ${date}, when the course is over.`,
    leaveAfterCourse: (list: string) => `Leave “${list}” when the course is over`,
    leave: (list: string) => `Leave “${list}”`,
    join: (list: string) => `Join “${list}”`,
    fromLink: 'The link you followed came from this list.',
    allHeading: 'Unsubscribe from everything',
    allText: 'You get no newsletters or marketing from us, not even from lists you are not on.',
    allCourse: (courses: string) => `Course mail still continues while you are enrolled in a course: ${courses}. It stops when the course is over.`,
    allButton: 'Unsubscribe from everything',
    allDone: 'You have unsubscribed from everything. To get email from a list again, you can join it here.',
    objectHeading: 'Marketing',
    objectCustomer: (lists: string[]) => `As a customer you may get offers of similar courses (${lists.map((l) => `“${l}”`).join(', ')}). You can object to all marketing.`,
    objectText: 'You can object to all marketing: we will then send you no offers.',
    objectButton: 'I do not want marketing',
    objected: 'You have objected to marketing.',
    dataHeading: 'Your data after the course',
    dataText: 'When the course is over we delete your details, unless you want us to keep them until your next course.',
    dataKeep: 'Keep my data for my next course',
    dataDelete: 'Delete my data when my course ends',
    dataLegend: 'What should happen to your data?',
    dataButton: 'Save my choice',
    copyHeading: 'A copy of your data',
    copyText: 'You can get a copy of everything we hold about you. We answer within 14 working days.',
    copyButton: 'Ask for a copy',
    back: 'Back to your email preferences',
    left: (list: string) => `You have left “${list}”. You will get no more email from this list.`,
    alreadyLeft: (list: string) => `You had already left “${list}”.`,
    leaveKept: (list: string, date: string) => `You are enrolled in the course, so course mail from “${list}” continues until ${date}. We will unsubscribe you then.`,
    joined: (list: string) => `You have joined “${list}”.`,
    alreadyJoined: (list: string) => `You were already on “${list}”.`,
    leftAll: 'You are unsubscribed from everything: no newsletters and no marketing.',
    leftAllCourse: (list: string, date: string) => `Course mail from “${list}” continues until ${date}, because you are enrolled in the course. It stops then.`,
    objectedNow: 'You will get no marketing from us.',
    keepData: 'We will keep your data until your next course.',
    deleteData: 'We will delete your data when your course ends.',
    copyRequested: (by: string) => `We have your request and will send a copy of your data by ${by} (within 14 working days).`,
    reasonNoted: 'Thank you for telling us.',
    reasonLegend: 'Would you tell us why you left? (Optional)',
    reasons: { too_many: 'Too many emails', not_relevant: 'The content is not for me', never_signed_up: 'I never signed up', other: 'Something else' } as Record<LeaveReason, string>,
    reasonButton: 'Send',
    formExpired: 'The form was too old or did not come from this page. Please try again.',
    notOnPage: 'That choice is not available here.',
  },
} as const

export interface FormContext {
  /** The page's own address, where every form posts. */
  action: string
  /** The form token for this page (CSRF). */
  formToken: string
  locale: Locale
}

function form(context: FormContext, fields: Record<string, string>, button: string, secondary = false): string {
  const hidden = { formToken: context.formToken, lang: context.locale, ...fields }
  return `<form method="post" action="${escapeHtml(context.action)}">
${Object.entries(hidden)
  .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
  .join('\n')}
<button type="submit"${secondary ? ' class="secondary"' : ''}>${escapeHtml(button)}</button>
</form>`
}

function listItem(list: PreferenceList, context: FormContext): string {
  const t = TEXT[context.locale]
  const name = list.name
  const parts = [`<h3>${escapeHtml(name)}</h3>`]
  // A course list's description is made by the service from the course name; the lock below says more.
  if (list.description && list.kind !== 'course') parts.push(`<p>${escapeHtml(list.description)}</p>`)
  if (list.fromLink) parts.push(`<p>${escapeHtml(t.fromLink)}</p>`)
  if (list.lockedUntil) {
    parts.push(`<p class="state">${escapeHtml(t.courseLocked(localDate(list.lockedUntil, context.locale)))}</p>`)
    if (list.leavesOn) parts.push(`<p>${escapeHtml(t.leavesOn(localDate(list.leavesOn, context.locale)))}</p>`)
    else parts.push(form(context, { action: 'leave', list: list.id }, t.leaveAfterCourse(name), true))
  } else {
    parts.push(`<p class="state">${escapeHtml(t.state[list.state])}</p>`)
    if (list.state === 'subscribed' || list.state === 'pending') parts.push(form(context, { action: 'leave', list: list.id }, t.leave(name), true))
    else if (list.kind === 'newsletter' || list.kind === 'marketing') parts.push(form(context, { action: 'join', list: list.id }, t.join(name)))
  }
  return `<li>\n${parts.join('\n')}\n</li>`
}

/**
 * Beside the objection: "as a customer" only to someone the existing-customer
 * rule reaches now (the decision said so, per list); to anyone else a line
 * true for everyone. The objection itself is open to all, at any time.
 */
function marketingText(view: PreferenceView, locale: Locale): string {
  const t = TEXT[locale]
  return view.customerOffers.length > 0 ? t.objectCustomer(view.customerOffers.map((o) => o.name)) : t.objectText
}

function languageSwitch(context: FormContext): string {
  const other = TEXT[context.locale].otherLanguage
  return `<p><a href="${escapeHtml(`${context.action}?lang=${other.lang}`)}" hreflang="${other.lang}" lang="${other.lang}">${other.label}</a></p>`
}

/** The page itself, with the answer to the last choice on top when there is one. */
export function preferencePage(view: PreferenceView, context: FormContext, result?: string): string {
  const t = TEXT[context.locale]
  const running = view.courses.filter((c) => c.running)
  const sections = [
    languageSwitch(context),
    `<p>${escapeHtml(t.intro(view.email))}</p>`,
    result ? `<div class="result" role="status"><p>${result}</p></div>` : '',
    `<section aria-labelledby="lists-heading">
<h2 id="lists-heading">${t.listsHeading}</h2>
<ul class="lists">
${view.lists.map((l) => listItem(l, context)).join('\n')}
</ul>
<p><small>${escapeHtml(JOIN_NOTICE[context.locale].text)}</small></p>
</section>`,
    `<section aria-labelledby="all-heading">
<h2 id="all-heading">${t.allHeading}</h2>
${
  view.unsubscribedFromAll
    ? `<p>${escapeHtml(t.allDone)}</p>`
    : `<p>${escapeHtml(t.allText)}</p>
${running.length > 0 ? `<p>${escapeHtml(t.allCourse(running.map((c) => `${c.name} (${localDate(c.endsAt, context.locale)})`).join(', ')))}</p>` : ''}
${form(context, { action: 'leave-all' }, t.allButton)}`
}
</section>`,
    `<section aria-labelledby="marketing-heading">
<h2 id="marketing-heading">${t.objectHeading}</h2>
${view.objectedToMarketing ? `<p>${escapeHtml(t.objected)}</p>` : `<p>${escapeHtml(marketingText(view, context.locale))}</p>\n${form(context, { action: 'object-marketing' }, t.objectButton, true)}`}
</section>`,
    view.courses.length > 0
      ? `<section aria-labelledby="data-heading">
<h2 id="data-heading">${t.dataHeading}</h2>
<p>${escapeHtml(t.dataText)}</p>
<form method="post" action="${escapeHtml(context.action)}">
<input type="hidden" name="formToken" value="${escapeHtml(context.formToken)}">
<input type="hidden" name="lang" value="${context.locale}">
<input type="hidden" name="action" value="keep-data">
<fieldset>
<legend>${escapeHtml(t.dataLegend)}</legend>
<label><input type="radio" name="keep" value="yes"${view.keepDataAfterCourse ? ' checked' : ''}> ${escapeHtml(t.dataKeep)}</label>
<label><input type="radio" name="keep" value="no"${view.keepDataAfterCourse ? '' : ' checked'}> ${escapeHtml(t.dataDelete)}</label>
</fieldset>
<button type="submit">${escapeHtml(t.dataButton)}</button>
</form>
</section>`
      : '',
    `<section aria-labelledby="copy-heading">
<h2 id="copy-heading">${t.copyHeading}</h2>
<p>${escapeHtml(t.copyText)}</p>
${form(context, { action: 'request-copy' }, t.copyButton, true)}
</section>`,
  ]
  return page(context.locale, t.title, sections.filter(Boolean).join('\n'))
}

/** What a choice did, in words (escaped), for the top of the page. */
export function describeOutcome(outcome: PreferenceOutcome, locale: Locale): string {
  const t = TEXT[locale]
  switch (outcome.type) {
    case 'left':
      return escapeHtml(outcome.changed ? t.left(outcome.list.name) : t.alreadyLeft(outcome.list.name))
    case 'leave-kept':
      return escapeHtml(t.leaveKept(outcome.list.name, localDate(outcome.leavesOn, locale)))
    case 'joined':
      return escapeHtml(outcome.changed ? t.joined(outcome.list.name) : t.alreadyJoined(outcome.list.name))
    case 'left-all':
      return [t.leftAll, ...outcome.courseMailUntil.map((c) => t.leftAllCourse(c.list, localDate(c.until, locale)))].map(escapeHtml).join('</p>\n<p>')
    case 'objected':
      return escapeHtml(t.objectedNow)
    case 'keep-data':
      return escapeHtml(outcome.keep ? t.keepData : t.deleteData)
    case 'copy-requested':
      return escapeHtml(t.copyRequested(localDate(outcome.dueAt, locale)))
    case 'reason-noted':
      return escapeHtml(t.reasonNoted)
  }
}

/** After leaving a list: what happened, then — only now — the optional question why. */
export function leftPage(outcome: PreferenceOutcome & { type: 'left' | 'leave-kept' }, context: FormContext): string {
  const t = TEXT[context.locale]
  return page(
    context.locale,
    t.title,
    `<div class="result" role="status"><p>${describeOutcome(outcome, context.locale)}</p></div>
<form method="post" action="${escapeHtml(context.action)}">
<input type="hidden" name="formToken" value="${escapeHtml(context.formToken)}">
<input type="hidden" name="lang" value="${context.locale}">
<input type="hidden" name="action" value="leave-reason">
<input type="hidden" name="list" value="${escapeHtml(outcome.list.id)}">
<fieldset>
<legend>${escapeHtml(t.reasonLegend)}</legend>
${LEAVE_REASONS.map((r) => `<label><input type="radio" name="reason" value="${r}"> ${escapeHtml(t.reasons[r])}</label>`).join('\n')}
</fieldset>
<button type="submit">${escapeHtml(t.reasonButton)}</button>
</form>
<p><a href="${escapeHtml(`${context.action}?lang=${context.locale}`)}">${escapeHtml(t.back)}</a></p>`,
  )
}

/** A form that could not be taken: too old, from elsewhere, or about something not on the page. */
export function formProblemPage(kind: 'expired' | 'not-on-page', context: FormContext): string {
  const t = TEXT[context.locale]
  return page(
    context.locale,
    t.title,
    `<p>${escapeHtml(kind === 'expired' ? t.formExpired : t.notOnPage)}</p>\n<p><a href="${escapeHtml(`${context.action}?lang=${context.locale}`)}">${escapeHtml(t.back)}</a></p>`,
  )
}
