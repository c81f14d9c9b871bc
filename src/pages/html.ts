// The unsubscribe page, in the person's language: small, readable without
// scripts or outside resources, and every value escaped; and the page shell
// every subscriber page shares.
import { localDate } from '../lib/local-date.js'
import type { Locale } from '../vocabulary.js'
import type { LinkUnsubscribe, LinkView } from './unsubscribe.js'

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)


const TEXT = {
  nb: {
    title: 'Avmelding',
    ask: (list: string) => `Vil du melde deg av «${list}»?`,
    button: 'Meld meg av',
    courseLocked: (list: string, until: string) =>
      `Du er påmeldt kurset, og kurspost fra «${list}» kommer til og med ${until}. Den kan du ikke melde deg av mens kurset pågår.`,
    courseButton: 'Meld meg av når kurset er over',
    done: (list: string) => `Du er meldt av «${list}». Du får ikke flere e-poster fra denne listen.`,
    deferred: (list: string, until: string) => `Vi har notert ønsket ditt. Du blir meldt av «${list}» når kurset er over (${until}).`,
    invalidTitle: 'Lenken virker ikke',
    invalid: 'Denne lenken er ikke gyldig. Bruk lenken fra en nyere e-post, eller kontakt oss.',
    badRequest: 'Skjemaet manglet feltet List-Unsubscribe=One-Click.',
  },
  en: {
    title: 'Unsubscribe',
    ask: (list: string) => `Do you want to unsubscribe from “${list}”?`,
    button: 'Unsubscribe',
    courseLocked: (list: string, until: string) =>
      `You are enrolled in the course, and course mail from “${list}” continues until ${until}. It cannot be opted out of while the course runs.`,
    courseButton: 'Unsubscribe when the course is over',
    done: (list: string) => `You are unsubscribed from “${list}”. You will get no more email from this list.`,
    deferred: (list: string, until: string) => `We have noted your wish. You will be unsubscribed from “${list}” when the course is over (${until}).`,
    invalidTitle: 'This link does not work',
    invalid: 'This link is not valid. Use the link in a more recent email, or contact us.',
    badRequest: 'The form lacked the field List-Unsubscribe=One-Click.',
  },
} as const

/**
 * An HTML document in the person's language: `body` under an h1 of its
 * title, its style inline, no script and nothing loaded from elsewhere, and
 * kept out of search engines. Every page a person reads is one.
 */
export function htmlDocument(locale: Locale, title: string, style: string, body: string): string {
  return `<!doctype html>
<html lang="${locale === 'nb' ? 'nb' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
${style}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`
}

const PAGE_STYLE = `body { font-family: system-ui, -apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
button { font: inherit; padding: .6rem 1.2rem; border: 0; border-radius: .3rem; background: #1d4e89; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1d4e89; border: 2px solid #1d4e89; }
:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
a { color: #1d4e89; }
.lists { list-style: none; padding: 0; }
.lists > li { border-top: 1px solid #c8c8c8; padding: .8rem 0; }
.lists h3 { margin: 0 0 .3rem; font-size: 1.1rem; }
.state { font-weight: 600; }
.result { border-left: 4px solid #1d4e89; padding: .4rem .8rem; background: #eef3f9; }
fieldset { border: 1px solid #c8c8c8; border-radius: .3rem; }
label { display: block; margin: .3rem 0; }
form { margin: .5rem 0; }`

/** The page around every subscriber page: readable without scripts or anything loaded from elsewhere. */
export const page = (locale: Locale, title: string, body: string): string => htmlDocument(locale, title, PAGE_STYLE, body)

/** GET: what the link is for, and a button that posts (the GET itself changes nothing). */
export function unsubscribePage(view: LinkView, action: string): string {
  const t = TEXT[view.locale]
  const list = escapeHtml(view.listName)
  const locked = view.kind === 'course' && view.lockedUntil
  const question = locked ? t.courseLocked(list, escapeHtml(localDate(view.lockedUntil!, view.locale))) : t.ask(list)
  return page(
    view.locale,
    t.title,
    `<p>${question}</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<input type="hidden" name="via" value="page">
<button type="submit">${locked ? t.courseButton : t.button}</button>
</form>`,
  )
}

/** POST: what happened. */
export function unsubscribedPage(result: LinkUnsubscribe): string {
  const t = TEXT[result.locale]
  const list = escapeHtml(result.listName)
  const text = result.lockedUntil ? t.deferred(list, escapeHtml(localDate(result.lockedUntil, result.locale))) : t.done(list)
  return page(result.locale, t.title, `<p>${text}</p>`)
}

/** A link that is not one of ours, or no longer names anyone: says so in both languages, and nothing else. */
export function invalidLinkPage(): string {
  return page('nb', `${TEXT.nb.invalidTitle} / ${TEXT.en.invalidTitle}`, `<p>${TEXT.nb.invalid}</p>\n<p lang="en">${TEXT.en.invalid}</p>`)
}

export function badUnsubscribeRequestPage(locale: Locale): string {
  return page(locale, TEXT[locale].title, `<p>${TEXT[locale].badRequest}</p>`)
}
