// Which language a subscriber page speaks: the one the person picked on the
// page; else English for a contact whose language is English; else the
// browser's first choice between Norwegian and English; else Norwegian.
import type { Locale } from '../vocabulary.js'

const NORWEGIAN = new Set(['nb', 'no', 'nn'])

/** The first of Norwegian or English in an Accept-Language header, by preference (q). */
export function fromAcceptLanguage(header: string | undefined): Locale | null {
  if (!header) return null
  const ranked = header
    .slice(0, 500)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';')
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
      return { primary: tag.split('-')[0]!, q: q ? Number(q.slice(2)) || 0 : 1, index }
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
  for (const { primary } of ranked) {
    if (NORWEGIAN.has(primary)) return 'nb'
    if (primary === 'en') return 'en'
  }
  return null
}

export function pageLocale(input: { chosen?: unknown; contactLocale?: Locale; acceptLanguage?: string }): Locale {
  if (input.chosen === 'nb' || input.chosen === 'en') return input.chosen
  if (input.contactLocale === 'en') return 'en'
  return fromAcceptLanguage(input.acceptLanguage) ?? 'nb'
}
