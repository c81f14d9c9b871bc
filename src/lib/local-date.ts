import type { Locale } from '../vocabulary.js'

/** A date as a person reads it in their language ("12. mars 2027", "12 March 2027"), in Norway's time zone. */
export function localDate(at: Date, locale: Locale): string {
  return new Intl.DateTimeFormat(locale === 'nb' ? 'nb-NO' : 'en-GB', { dateStyle: 'long', timeZone: 'Europe/Oslo' }).format(at)
}
