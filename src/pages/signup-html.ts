// The pages of a signup: the answer to a signup form (the same whether or not
// the address was known), and the confirmation link's page, whose button — a
// POST — is the only thing that confirms.
import type { Locale } from '../vocabulary.js'
import { escapeHtml, page } from './html.js'

const TEXT = {
  nb: {
    title: 'Påmelding',
    received: 'Takk! Hvis adressen kan meldes på, får du en e-post. For lister som krever det, må du bekrefte påmeldingen med lenken i den.',
    problem: 'Påmeldingen kunne ikke tas imot:',
    confirmTitle: 'Bekreft påmeldingen',
    confirmAsk: (list: string) => `Trykk på knappen for å bekrefte at du vil ha e-post fra «${list}».`,
    confirmButton: 'Bekreft påmeldingen',
    confirmed: (list: string) => `Takk! Du er påmeldt «${list}».`,
    expired: (list: string) => `Lenken for å bekrefte påmeldingen til «${list}» er for gammel. Meld deg på igjen for å få en ny.`,
  },
  en: {
    title: 'Sign up',
    received: 'Thank you! If the address can be signed up, you will get an email. Lists that ask for it need you to confirm with the link in it.',
    problem: 'The signup could not be taken:',
    confirmTitle: 'Confirm your subscription',
    confirmAsk: (list: string) => `Press the button to confirm that you want email from “${list}”.`,
    confirmButton: 'Confirm my subscription',
    confirmed: (list: string) => `Thank you! You have joined “${list}”.`,
    expired: (list: string) => `The link to confirm your subscription to “${list}” is too old. Sign up again to get a new one.`,
  },
} as const

export function signupReceivedPage(locale: Locale): string {
  return page(locale, TEXT[locale].title, `<p role="status">${escapeHtml(TEXT[locale].received)}</p>`)
}

export function signupProblemPage(locale: Locale, detail: string): string {
  return page(locale, TEXT[locale].title, `<p role="alert">${escapeHtml(TEXT[locale].problem)} ${escapeHtml(detail)}</p>`)
}

export function confirmPage(state: { state: 'pending' | 'confirmed' | 'expired'; listName: string }, locale: Locale, action: string): string {
  const t = TEXT[locale]
  if (state.state === 'confirmed') return page(locale, t.confirmTitle, `<p role="status">${escapeHtml(t.confirmed(state.listName))}</p>`)
  if (state.state === 'expired') return page(locale, t.confirmTitle, `<p>${escapeHtml(t.expired(state.listName))}</p>`)
  return page(
    locale,
    t.confirmTitle,
    `<p>${escapeHtml(t.confirmAsk(state.listName))}</p>
<form method="post" action="${escapeHtml(action)}">
<button type="submit">${escapeHtml(t.confirmButton)}</button>
</form>`,
  )
}
