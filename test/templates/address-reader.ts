// Reading a document for the addresses in it, for no-third-party.test.ts:
// the attributes that take an address, srcset, meta refresh, CSS url(),
// @import and image-set() in style elements and attributes, inside comments
// too (Outlook reads conditional ones); which of them leave an origin; and
// what a person can do on a page: post its forms, follow its links.

/** An address a document names, and where: the client would fetch it, or lead the reader to it. */
export interface Reference {
  url: string
  where: string
}

// The attributes whose value is one address that a client fetches (src,
// background, poster, data, manifest, icon) or goes to (href, action,
// formaction, cite, longdesc); ping is a list of them, srcset a list with sizes.
const URL_ATTRIBUTES = new Set(['src', 'href', 'xlink:href', 'background', 'action', 'formaction', 'poster', 'data', 'manifest', 'icon', 'cite', 'longdesc'])
const LIST_ATTRIBUTES = new Set(['ping'])
const SRCSET_ATTRIBUTES = new Set(['srcset', 'imagesrcset'])

const decodeEntities = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt);/gi, (_whole, entity: string) => {
    const lower = entity.toLowerCase()
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16))
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)))
    return ({ amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' } as Record<string, string>)[lower]!
  })

/** url(…), @import "…" and image-set("…") in CSS. */
export function cssReferences(css: string, where: string): Reference[] {
  const found: Reference[] = []
  for (const m of css.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*?))\s*\)/gi)) found.push({ url: m[1] ?? m[2] ?? m[3] ?? '', where: `${where} url()` })
  for (const m of css.matchAll(/@import\s+(?:"([^"]*)"|'([^']*)')/gi)) found.push({ url: m[1] ?? m[2] ?? '', where: `${where} @import` })
  for (const m of css.matchAll(/image-set\(([^;}]*)/gi)) {
    for (const s of (m[1] ?? '').matchAll(/"([^"]*)"|'([^']*)'/g)) found.push({ url: s[1] ?? s[2] ?? '', where: `${where} image-set()` })
  }
  return found
}

/** Every address in an HTML document, comments included: Outlook reads what stands in <!--[if mso]> … <![endif]-->. */
export function htmlReferences(html: string): Reference[] {
  const found: Reference[] = []
  for (const tag of html.matchAll(/<([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
    const name = tag[1]!.toLowerCase()
    const attributes = new Map<string, string>()
    for (const a of (tag[2] ?? '').matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
      attributes.set(a[1]!.toLowerCase(), decodeEntities(a[2] ?? a[3] ?? a[4] ?? ''))
    }
    for (const [attribute, value] of attributes) {
      const where = `<${name} ${attribute}>`
      // A namespace (xmlns, xmlns:v, xmlns:o, and the Office ones MSO
      // conditional comments use) is a name compared as a string; no client
      // fetches it, so it is not a reference.
      if (attribute === 'xmlns' || attribute.startsWith('xmlns:')) continue
      if (URL_ATTRIBUTES.has(attribute)) found.push({ url: value.trim(), where })
      else if (LIST_ATTRIBUTES.has(attribute)) found.push(...value.split(/\s+/).filter(Boolean).map((url) => ({ url, where })))
      else if (SRCSET_ATTRIBUTES.has(attribute)) found.push(...value.split(',').map((c) => ({ url: c.trim().split(/\s+/)[0] ?? '', where })))
      else if (attribute === 'style') found.push(...cssReferences(value, where))
    }
    const refresh = name === 'meta' && attributes.get('http-equiv')?.toLowerCase() === 'refresh' ? /url\s*=\s*['"]?([^'"]+)/i.exec(attributes.get('content') ?? '') : null
    if (refresh) found.push({ url: refresh[1]!.trim(), where: '<meta http-equiv="refresh">' })
  }
  for (const style of html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi)) found.push(...cssReferences(style[1] ?? '', '<style>'))
  return found
}

/**
 * The references that leave our origin. Fine are: fragments (this document),
 * mailto: (the reader's own mail program writes to us; nothing is fetched),
 * data: (the bytes are in the document itself), and http(s) on our origin,
 * which relative addresses resolve to. Anything else fails, javascript: and
 * other schemes included.
 */
export function foreign(references: Reference[], base: string): string[] {
  const origin = new URL(base).origin
  return references
    .filter(({ url }) => {
      if (url === '' || url.startsWith('#') || /^(mailto|data):/i.test(url)) return false
      try {
        const resolved = new URL(url, base)
        return !(['http:', 'https:'].includes(resolved.protocol) && resolved.origin === origin)
      } catch {
        return true
      }
    })
    .map(({ url, where }) => `${where}: ${url}`)
}

// ---- What a person can do on a page ----

/** What a browser would submit for a form: its hidden fields and, per radio group, the checked choice or else the first. */
export function formsOf(html: string): { action: string; fields: Record<string, string> }[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((form) => {
    const action = decodeEntities(/\saction="([^"]*)"/.exec(form[1] ?? '')?.[1] ?? '')
    const fields: Record<string, string> = {}
    const checked = new Set<string>()
    for (const input of (form[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const attribute = (name: string) => decodeEntities(new RegExp(`\\s${name}="([^"]*)"`).exec(input[1] ?? '')?.[1] ?? '')
      const name = attribute('name')
      const type = attribute('type')
      if (name === '' || !['hidden', 'radio'].includes(type)) continue
      const isChecked = /\schecked\b/.test(input[1] ?? '')
      if (type === 'hidden' || !(name in fields) || (isChecked && !checked.has(name))) fields[name] = attribute('value')
      if (isChecked) checked.add(name)
    }
    return { action, fields }
  })
}

/** The links a reader can follow on a page: on our origin, not to the same page's fragment. */
export const linksOf = (html: string, base: string) =>
  htmlReferences(html)
    .filter((r) => r.where === '<a href>' && !r.url.startsWith('#') && !/^mailto:/i.test(r.url))
    .map((r) => new URL(r.url, base))
    .filter((url) => url.origin === new URL(base).origin)
    .map((url) => `${url.pathname}${url.search}`)
