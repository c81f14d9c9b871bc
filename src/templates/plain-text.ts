// The plain-text part of a message, derived from its HTML (html-to-text),
// and derived once for many messages: a campaign's messages differ only in a
// few values per recipient (the name, the links), while the conversion of a
// ~20 KB document costs more than everything else rendering does. Pure: the
// caller (./render.ts) fills the HTML; this file converts it, and keeps per
// compiled version what it derived once.
//
// How the text is shared. Each per-recipient value is replaced by a
// sentinel of the same shape — every character a letter reserved for that
// value's word, the whitespace kept where it is — so the converter makes the
// same decisions for the sentinel as for the value: it splits words at the
// same places and wraps lines at the same lengths (what it decides depends on
// a word's length, never its letters). The converted sentinel document is
// kept (per version, locale, the values every recipient shares, and the
// shapes), and a message's text is that text with each sentinel word put
// back as the value's word. A message uses the shared text only when its
// HTML is exactly the sentinel document with the sentinels replaced by its
// escaped values, so a template that uses a value other than by printing it
// (a helper, a lookup) falls back to converting the message's own HTML.
import { compile as compileHtmlToText } from 'html-to-text'
import { handlebars } from './source-rules.js'

export const toPlainText = compileHtmlToText({
  wordwrap: 78,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['[', ']'] } },
    // Headings keep the case the author wrote; html-to-text would shout them.
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    // Paragraphs that keep the sender's line breaks in HTML keep them in text too.
    { selector: 'p[style*="pre-line"]', format: 'pre' },
  ],
})

/** html-to-text's whitespace (its `whitespaceCharacters` default): where it splits words. Kept as is in a sentinel. */
const WHITESPACE = /[ \t\r\n\f\u200b]/
const WORDS = /[^ \t\r\n\f\u200b]+/g
// Glagolitic small letters: a script no message is written in, with capitals,
// so a converter that upper-cases a sentinel (h4–h6, table headers) is seen
// (the capitals are left over) rather than given the value in the wrong case.
const FIRST_LETTER = 0x2c30
const LETTERS = 47
const ANY_SENTINEL_LETTER = /[\u2c00-\u2c5f]/
const SENTINEL_RUN = /([\u2c30-\u2c5e])\1*/g

/**
 * A value that can be put back into shared text: a non-empty string the
 * converter reads only as words. Not one that starts as an href the converter
 * rewrites ('#…' is dropped, 'mailto:' cut), nor one holding control
 * characters (the HTML parser may drop them).
 */
const substitutable = (value: unknown): value is string =>
  typeof value === 'string' && value !== '' && !value.startsWith('#') && !value.startsWith('mailto:') && !/[\0-\x08\x0b\x0e-\x1f\x7f]/.test(value)

interface Sentinels {
  /** The varying values by sentinel string; equal values share one, so the converter's comparisons (a link's text with its href) come out the same. */
  byString: Map<string, string>
  /** Each sentinel letter's word of its value. */
  wordOf: Map<string, string>
}

/** One sentinel per distinct value, its words lettered in turn; undefined when the values have more words than there are letters. */
function sentinelsFor(values: string[]): { sentinels: Sentinels; forValue: Map<string, string> } | undefined {
  const forValue = new Map<string, string>()
  const sentinels: Sentinels = { byString: new Map(), wordOf: new Map() }
  let next = 0
  for (const value of values) {
    if (forValue.has(value)) continue
    let sentinel = ''
    let inWord = false
    let letter = ''
    for (const char of value.split('')) {
      if (WHITESPACE.test(char)) {
        inWord = false
        sentinel += char
        continue
      }
      if (!inWord) {
        if (next === LETTERS) return undefined
        letter = String.fromCharCode(FIRST_LETTER + next++)
        inWord = true
      }
      sentinel += letter
    }
    const words = value.match(WORDS) ?? []
    const letters = [...new Set(sentinel.replace(/[ \t\r\n\f\u200b]/g, ''))]
    letters.forEach((l, i) => sentinels.wordOf.set(l, words[i]!))
    forValue.set(value, sentinel)
    sentinels.byString.set(sentinel, value)
  }
  return { sentinels, forValue }
}

/** The HTML and text of the sentinel document, cut where the values go. */
interface Plan {
  /** Literal HTML and, between, the sentinels whose message's values go there (escaped). */
  html: (string | { sentinel: string })[]
  /** Literal text and, between, the sentinel letters whose message's words go there. */
  text: (string | { letter: string })[]
}

/** Attributes the converter reads only as text (an href) or not at all (MJML's aria-label holds the subject): a sentinel in any other, say a style a selector matches, is not put back. */
const UNREAD_OR_HREF = /\s(href|aria-label|title|alt)="[^"]*$/

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Cuts the sentinel document's HTML and text where the values go; undefined
 * when they cannot be put back exactly: a sentinel in an attribute the
 * converter may read (UNREAD_OR_HREF), a letter left over or upper-cased, or a
 * word of another length than its value's (words run together).
 */
function planFor(sentinelHtml: string, sentinels: Sentinels, convert: (html: string) => string): Plan | undefined {
  const strings = [...sentinels.byString.keys()].sort((a, b) => b.length - a.length)
  const html: Plan['html'] = []
  let at = 0
  for (const match of sentinelHtml.matchAll(new RegExp(strings.map(escapeRegExp).join('|'), 'g'))) {
    const before = sentinelHtml.slice(0, match.index)
    if (before.lastIndexOf('<') > before.lastIndexOf('>') && !UNREAD_OR_HREF.test(before.slice(before.lastIndexOf('<')))) return undefined
    html.push(sentinelHtml.slice(at, match.index), { sentinel: match[0] })
    at = match.index + match[0].length
  }
  html.push(sentinelHtml.slice(at))
  if (html.some((part) => typeof part === 'string' && ANY_SENTINEL_LETTER.test(part))) return undefined
  const sentinelText = convert(sentinelHtml)
  const text: Plan['text'] = []
  at = 0
  for (const match of sentinelText.matchAll(SENTINEL_RUN)) {
    const word = sentinels.wordOf.get(match[1]!)
    if (word === undefined || word.length !== match[0].length) return undefined
    text.push(sentinelText.slice(at, match.index), { letter: match[1]! })
    at = match.index + match[0].length
  }
  text.push(sentinelText.slice(at))
  if (text.some((part) => typeof part === 'string' && ANY_SENTINEL_LETTER.test(part))) return undefined
  return { html, text }
}

const join = <T>(parts: (string | T)[], put: (part: T) => string) => parts.map((part) => (typeof part === 'string' ? part : put(part))).join('')

// Per version and locale (the compiled template's own object, so they go with it): a plan per
// shared values and shapes. A list's names come in a few hundred shapes; each plan holds the
// document once (~30 KB), so 500 stay near 15 MB.
const PLANS_PER_VERSION = 500
const plans = new WeakMap<object, Map<string, Plan | null>>()

/**
 * The text of `html`, filled by `fill` from `values`, through a plan shared
 * with the other messages of `version` that share all values but those
 * named in `perRecipient` and whose per-recipient values have the same
 * shape (the same shape: the same sentinels, see sentinelsFor). Exactly what
 * `convert` (toPlainText) gives for `html`.
 */
export function plainTextOf(
  version: object,
  html: string,
  values: Record<string, unknown>,
  perRecipient: readonly string[],
  fill: (values: Record<string, unknown>) => string,
  convert: (html: string) => string = toPlainText,
): string {
  const varying = perRecipient.filter((name) => substitutable(values[name]))
  const made = sentinelsFor(varying.map((name) => values[name] as string))
  if (!made || varying.length === 0) return convert(html)
  const sentinelValues = { ...values }
  for (const name of varying) sentinelValues[name] = made.forValue.get(values[name] as string)
  const shared = JSON.stringify(values, function (this: unknown, key, value) {
    return this === values && varying.includes(key) ? made.forValue.get(value as string) : value
  })
  let ofVersion = plans.get(version)
  if (!ofVersion) plans.set(version, (ofVersion = new Map()))
  let plan = ofVersion.get(shared)
  if (plan === undefined) {
    plan = planFor(fill(sentinelValues), made.sentinels, convert) ?? null
    ofVersion.set(shared, plan)
    for (const oldest of ofVersion.keys()) {
      if (ofVersion.size <= PLANS_PER_VERSION) break
      ofVersion.delete(oldest)
    }
  }
  // Only when the message's HTML is the sentinel document with its own values in: else its own conversion.
  const { byString, wordOf } = made.sentinels
  if (plan === null || join(plan.html, (p) => handlebars.Utils.escapeExpression(byString.get(p.sentinel)!)) !== html) return convert(html)
  return join(plan.text, (p) => wordOf.get(p.letter)!)
}
