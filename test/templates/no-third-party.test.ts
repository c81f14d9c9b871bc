// No third-party requests in mail or pages (issue 24): an opened message or a
// page that loads a font, a stylesheet or an image from another server tells
// that server who read it, which a consent service must never do. Here every
// shipped template, filled in every locale, a confirmation mail as it really
// leaves, every page a person can reach from the entry points below (its
// forms posted and its links followed), the access export as a page and the
// API docs with the scripts, styles and spec they load are read for every
// address they would fetch or lead to; each must be on PUBLIC_BASE_URL's
// origin. The reader (address-reader.ts) is small and honest about what it
// reads: the attributes that take an address, srcset, meta refresh, CSS url()
// and @import in style elements and attributes, inside comments too (Outlook
// reads conditional ones), and for the docs the http(s) addresses in their
// scripts.
import { runInNewContext } from 'node:vm'
import t, { type Test } from 'tap'
import { signLink } from '../../src/lib/link-tokens.js'
import { SERVICE_VARIABLES, compileTemplate, renderMessage, shippedTemplates, variablesOf } from '../../src/templates/render.js'
import { consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { build, LINK_SECRET, type TestApp } from '../helper.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { cssReferences, foreign, formsOf, htmlReferences, linksOf } from './address-reader.js'

/** Our own origin: https, and not localhost, so nothing passes for being "local". */
const PUBLIC_BASE_URL = 'https://post.kurshuset.example'

// ---- The reader ----

t.test('the reader finds every kind of address it claims to read', async (t) => {
  const html = `<html xmlns="http://www.w3.org/1999/xhtml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv="refresh" content="0; url=https://a.example/refresh">
<!--[if !mso]><!--><link href="https://fonts.googleapis.com/css?family=Roboto" rel="stylesheet"><!--<![endif]-->
<style>@import url(https://b.example/import.css); @import 'https://c.example/quoted.css'; .x { background: url("//d.example/protocol-relative.png") }</style></head>
<body background="https://e.example/bg.png"><!--[if mso]><v:image src="https://f.example/outlook.png" /><![endif]-->
<img srcset="/ours.png 1x, https://g.example/2x.png 2x" src="https://h&#x2E;example/entity.png">
<div style="background-image: image-set('https://i.example/set.png' 1x)"></div>
<form action="https://j.example/post"></form><a href="javascript:alert(1)">x</a><a ping="/ours https://k.example/ping" href="/ours">ok</a>
<a href="#top">ok</a><a href="mailto:personvern@kurshuset.example">ok</a><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><a href="${PUBLIC_BASE_URL}/u/abc">ok</a>
</body></html>`
  t.same(
    foreign(htmlReferences(html), `${PUBLIC_BASE_URL}/page`).map((line) => line.replace(/^.*?: /, '')).sort(),
    [
      '//d.example/protocol-relative.png',
      'https://a.example/refresh',
      'https://b.example/import.css',
      'https://c.example/quoted.css',
      'https://e.example/bg.png',
      'https://f.example/outlook.png',
      'https://fonts.googleapis.com/css?family=Roboto',
      'https://g.example/2x.png',
      'https://h.example/entity.png',
      'https://i.example/set.png',
      'https://j.example/post',
      'https://k.example/ping',
      'javascript:alert(1)',
    ],
  )
})

// ---- Mail ----

/** A value for each name a template reads: addresses on our origin (the service makes them), plain words otherwise. */
function sampleValues(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    names.map((name) => [name, name.endsWith('Url') ? `${PUBLIC_BASE_URL}/sample/${name}` : name.endsWith('Email') ? 'personvern@kurshuset.example' : `Eksempel på ${name}`]),
  )
}

t.test('every shipped template, filled in every locale, names no other server', async (t) => {
  const shipped = shippedTemplates()
  t.ok(shipped.length > 0)
  for (const source of shipped) {
    const compiled = await compileTemplate(`no-third-party-${source.name}`, source)
    for (const locale of compiled.locales) {
      const message = renderMessage(compiled, locale, sampleValues([...SERVICE_VARIABLES, ...variablesOf(source)]))
      const references = htmlReferences(message.html)
      t.same(foreign(references, PUBLIC_BASE_URL), [], `${source.name} in ${locale}`)
    }
  }
})

// ---- Pages ----

const NOTICE = { key: 'no-third-party-skjema', version: 1, text: 'Ja, send meg nyhetsbrev.' }

interface Visit {
  method: 'GET' | 'POST'
  url: string
  fields?: Record<string, string>
  staff?: boolean
}

/**
 * Opens each page, reads it, then posts each of its forms and follows each of
 * its links, to `depth` steps from the entry: the answer pages are reached as
 * a person reaches them. A form or link already taken (the same action and
 * fields, less the form token) is not taken again.
 */
async function crawl(t: Test, app: TestApp, entries: Visit[], depth = 2): Promise<string[]> {
  const seen = new Set<string>()
  const visited: string[] = []
  const keyOf = (visit: Visit) => {
    const { formToken: _token, ...fields } = visit.fields ?? {}
    return `${visit.method} ${visit.url} ${JSON.stringify(Object.entries(fields).sort())}`
  }
  let frontier = entries
  for (let step = 0; step <= depth && frontier.length > 0; step++) {
    const next: Visit[] = []
    for (const visit of frontier) {
      if (seen.has(keyOf(visit))) continue
      seen.add(keyOf(visit))
      const request = app.as(visit.staff ? 'staff' : null)
      let res = await request({
        method: visit.method,
        url: visit.url,
        ...(visit.fields ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(visit.fields).toString() } : {}),
      })
      for (let redirects = 0; res.statusCode >= 300 && res.statusCode < 400 && redirects < 3; redirects++) {
        const location = new URL(String(res.headers.location), `${PUBLIC_BASE_URL}${visit.url}`)
        t.equal(location.origin, PUBLIC_BASE_URL, `${visit.method} ${visit.url} redirects to our origin`)
        res = await request({ method: 'GET', url: `${location.pathname}${location.search}` })
      }
      if (!String(res.headers['content-type']).startsWith('text/html')) continue
      const base = `${PUBLIC_BASE_URL}${visit.url}`
      visited.push(`${visit.method} ${visit.url.replace(/\/[\w.-]{40,}/, '/…')}${visit.fields?.action ? ` ${visit.fields.action}` : ''} ${res.statusCode}`)
      t.same(foreign(htmlReferences(res.body), base), [], `${visit.method} ${visit.url} (${res.statusCode}) names no other server`)
      if (visit.staff) continue
      for (const form of formsOf(res.body)) {
        const action = new URL(form.action || visit.url, base)
        if (action.origin === PUBLIC_BASE_URL) next.push({ method: 'POST', url: `${action.pathname}${action.search}`, fields: form.fields })
      }
      for (const link of linksOf(res.body, base)) next.push({ method: 'GET', url: link })
    }
    frontier = next
  }
  return visited
}

t.test('every page a person can see names no other server', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const app = await build(t, { config: { smtpUrl: sink.url, publicBaseUrl: PUBLIC_BASE_URL } })
  const keys = [{ id: 'test', secret: LINK_SECRET }]
  const link = (contactId: string, listId: string) => signLink(keys, 'unsubscribe', { contactId, listId })

  // A person on a course (course mail locked until it ends), on a newsletter, offered a public list to join.
  const newsletter = await createList(app, { kind: 'newsletter', name: 'Månedsbrev' })
  await createList(app, { kind: 'marketing', name: 'Tilbud', public: true, doubleOptIn: true })
  const course = await putCourse(app, 'no-third-party-yoga', { name: 'Yoga høst' })
  const enrolled = await putEnrollment(app, 'no-third-party-1', { courseId: 'no-third-party-yoga', contact: { email: uniqueEmail('pages'), name: 'Kari' } })
  t.equal(enrolled.statusCode, 201)
  const contactId = enrolled.json().contactId as string
  t.equal((await subscribe(app, newsletter.id, { contactId, source: 'form', consent: consentPayload() })).statusCode, 201)

  // A signup to a double opt-in list: its confirmation mail, as it leaves, and the link in it.
  t.equal((await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: NOTICE })).statusCode, 201)
  const news = await createList(app, { kind: 'newsletter', name: 'Nyheter', slug: `nyheter-${process.pid}`, public: true, doubleOptIn: true })
  const signupFields = { email: uniqueEmail('signup'), lists: news.slug, noticeKey: NOTICE.key, noticeVersion: String(NOTICE.version) }
  t.equal((await app.as(null)({ method: 'POST', url: '/subscribe', payload: signupFields })).statusCode, 202)
  await app.app.deliveryWorker.runOnce()
  const [mail] = await sink.waitFor(1)
  const mailHtml = String(mail!.parsed.html)
  t.same(foreign(htmlReferences(mailHtml), PUBLIC_BASE_URL), [], 'the confirmation mail as it leaves names no other server')
  const confirmUrl = htmlReferences(mailHtml).map((r) => r.url).find((url) => url.startsWith(`${PUBLIC_BASE_URL}/confirm/`))
  t.ok(confirmUrl, 'the mail links to the confirmation page')

  const visited = await crawl(t, app, [
    { method: 'GET', url: `/u/${link(contactId, newsletter.id)}` },
    { method: 'GET', url: `/u/${link(contactId, newsletter.id)}?lang=en` },
    { method: 'POST', url: `/u/${link(contactId, newsletter.id)}`, fields: { action: 'leave-all' } },
    { method: 'GET', url: `/u/${link(contactId, newsletter.id).slice(0, -3)}AAA` },
    { method: 'GET', url: `/unsubscribe/${link(contactId, newsletter.id)}` },
    { method: 'GET', url: `/unsubscribe/${link(contactId, course.listId)}` },
    { method: 'POST', url: `/unsubscribe/${link(contactId, newsletter.id)}`, fields: { via: 'page' } },
    { method: 'GET', url: new URL(confirmUrl!).pathname },
    { method: 'POST', url: '/subscribe', fields: { ...signupFields, email: uniqueEmail('form'), lang: 'en' } },
    { method: 'POST', url: '/subscribe', fields: { ...signupFields, lists: 'finnes-ikke' } },
    { method: 'GET', url: `/v1/contacts/${contactId}/export?format=html`, staff: true },
  ])
  // The crawl must have reached every answer, not only the entries.
  const answers = ['leave', 'leave-reason', 'join', 'leave-all', 'object-marketing', 'keep-data', 'request-copy'].map((action) => `POST /u/… ${action} 200`)
  for (const page of ['GET /u/… 200', 'GET /u/…?lang=en 200', ...answers, 'POST /u/… leave-all 403', 'GET /u/… 404', 'GET /unsubscribe/… 200', 'POST /unsubscribe/… 200', 'POST /unsubscribe/… 400', 'GET /confirm/… 200', 'POST /confirm/… 200', 'POST /subscribe 200', 'POST /subscribe 422', `GET /v1/contacts/${contactId}/export?format=html 200`]) {
    t.ok(visited.includes(page), `reached ${page}`)
  }
})

// ---- The API docs ----

/**
 * The http(s) addresses in Swagger UI's vendored scripts that a browser never
 * fetches, each with why. A new version of Swagger UI with an address not
 * here fails this test until someone has looked at what it does with it.
 */
const NOT_FETCHED_BY_SWAGGER_UI: { address: RegExp; why: string }[] = [
  { address: /^http:\/\/www\.w3\.org\//, why: 'XML namespaces (SVG, XHTML, XLink, MathML, XML): names, compared as strings' },
  { address: /^https?:\/\/json-schema\.org\/draft/, why: 'JSON Schema dialect identifiers ($schema values), compared as strings' },
  { address: /^https:\/\/spec\.openapis\.org\/oas\//, why: 'OpenAPI dialect and schema identifiers, compared as strings' },
  { address: /^https:\/\/validator\.swagger\.io\/validator$/, why: "Swagger UI's default validatorUrl, fetched for a badge unless it is null: the initializer sets it to null (checked below)" },
  { address: /^https:\/\/(datatracker\.ietf\.org|www\.rfc-editor\.org)\//, why: 'RFC references in comments and parser error messages' },
  { address: /^https:\/\/(reactjs\.org|redux\.js\.org)\/|^http:\/\/fb\.me\//, why: "addresses in React's and Redux's error messages, printed, not fetched" },
  { address: /^https:\/\/github\.com\//, why: 'license and code comments' },
  { address: /^https:\/\/spdx\.org\/licenses\/$/, why: "where Swagger UI links a spec's SPDX license identifier: a link, not a fetch (and our spec names no license)" },
  { address: /^https:\/\/(twitter\.com|www\.facebook\.com|instagram\.com|www\.tiktok\.com|soundcloud\.com)\/[\w/@]*$/, why: "Autolinker's link targets for hashtags and mentions in Markdown: links, only when a description has one" },
  { address: /^https:\/\/(example\.com|실례\.com)\//, why: 'sample values Swagger UI shows for the uri and iri string formats' },
  { address: /^https:\/\/(base|vladimirgorej\.com|swagger\.io)$/, why: 'base addresses for resolving relative ones with new URL(x, base): parsed, never fetched' },
  { address: /^https:\/\/stackoverflow\.com\//, why: "a comment in @fastify/swagger-ui's initializer" },
]

/** Whether an address found in a script or the spec is on our origin; one that does not parse is not. */
function isOurs(address: string): boolean {
  try {
    return new URL(address).origin === PUBLIC_BASE_URL
  } catch {
    return false
  }
}

/** The configuration the served initializer hands Swagger UI, by running it against stand-ins for the browser and Swagger UI. */
function swaggerUiConfig(initializer: string, pageUrl: string): Record<string, unknown> {
  let config: Record<string, unknown> | undefined
  const window: { onload?: () => void; location: { href: string } } = { location: { href: pageUrl } }
  const SwaggerUIBundle = Object.assign(
    (given: Record<string, unknown>) => {
      config = given
      return { initOAuth: () => {} }
    },
    { presets: { apis: {} }, plugins: { DownloadUrl: {} } },
  )
  const anchor = () => {
    let href = ''
    return {
      get href() {
        return href
      },
      set href(value: string) {
        href = new URL(value).href
      },
    }
  }
  runInNewContext(initializer, { window, document: { createElement: anchor, querySelector: () => null, body: {} }, SwaggerUIBundle, SwaggerUIStandalonePreset: {}, MutationObserver: class {
    observe() {}
    disconnect() {}
  } })
  window.onload?.()
  if (!config) throw new Error('the initializer never started Swagger UI')
  return config
}

t.test('the API docs load nothing from another server', async (t) => {
  const app = await build(t, { config: { publicBaseUrl: PUBLIC_BASE_URL } })
  const get = (url: string) => app.as(null)({ method: 'GET', url })
  let path = '/docs'
  let res = await get(path)
  for (let redirects = 0; res.statusCode >= 300 && res.statusCode < 400 && redirects < 3; redirects++) {
    const location = new URL(String(res.headers.location), `${PUBLIC_BASE_URL}${path}`)
    t.equal(location.origin, PUBLIC_BASE_URL, 'redirects stay on our origin')
    path = location.pathname
    res = await get(path)
  }
  t.equal(res.statusCode, 200)
  const pageUrl = `${PUBLIC_BASE_URL}${path}`
  const references = htmlReferences(res.body)
  t.same(foreign(references, pageUrl), [], 'the page names no other server')

  const loaded = [...res.body.matchAll(/<(script|link)\b[^>]*\s(?:src|href)="([^"]+)"[^>]*>/gi)]
    .filter((m) => m[1]!.toLowerCase() === 'script' || /rel="stylesheet"/i.test(m[0]))
    .map((m) => ({ kind: m[1]!.toLowerCase() === 'script' ? 'script' : 'stylesheet', url: new URL(m[2]!, pageUrl) }))
  t.ok(loaded.some((l) => l.kind === 'script') && loaded.some((l) => l.kind === 'stylesheet'), 'finds the scripts and stylesheets the page loads')
  const unknown: string[] = []
  for (const { kind, url } of loaded) {
    const file = await get(`${url.pathname}${url.search}`)
    t.equal(file.statusCode, 200, `${url.pathname} is served by us`)
    if (kind === 'stylesheet') {
      t.same(foreign(cssReferences(file.body, url.pathname), pageUrl), [], `${url.pathname} loads nothing from another server`)
      continue
    }
    // A script's addresses: on our origin, or reviewed above as never fetched.
    for (const [address] of file.body.matchAll(/https?:\/\/[^\s"'`<>()\\$]+/g)) {
      if (isOurs(address)) continue
      if (!NOT_FETCHED_BY_SWAGGER_UI.some((known) => known.address.test(address))) unknown.push(`${url.pathname}: ${address}`)
    }
    if (url.pathname.endsWith('/swagger-initializer.js')) {
      const config = swaggerUiConfig(file.body, pageUrl)
      t.equal(config.validatorUrl, null, 'no validator badge fetched from validator.swagger.io')
      for (const key of ['url', 'oauth2RedirectUrl']) t.equal(new URL(String(config[key])).origin, PUBLIC_BASE_URL, `${key} is on our origin`)
    }
  }
  t.same([...new Set(unknown)], [], 'every address in the scripts is ours or known never to be fetched')

  // The spec Swagger UI renders: a $ref elsewhere would be fetched, so would an image in a description.
  const spec = await get(new URL('./json', `${pageUrl.replace(/\/?$/, '/')}`).pathname)
  t.equal(spec.statusCode, 200)
  const refs = [...spec.body.matchAll(/"\$ref":"([^"]*)"/g)].map((m) => m[1]!)
  t.ok(refs.length > 0, 'the spec has references')
  t.same(refs.filter((ref) => !ref.startsWith('#')), [], 'every $ref is inside the spec')
  t.same(
    [...spec.body.matchAll(/https?:\/\/[^\s"'`<>()\\]+/g)].map((m) => m[0]).filter((address) => !isOurs(address)),
    [],
    'every address in the spec is ours',
  )
})
