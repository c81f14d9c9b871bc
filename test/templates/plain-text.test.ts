// Tests for the plain-text part derived once for many messages
// (src/templates/plain-text.ts): for every value, special characters and
// lengths that change the wrapping included, the shared derivation gives
// exactly the text each message's own conversion gives, and the HTML is
// untouched; messages whose values have the same shape share one conversion.
import t from 'tap'
import { compileTemplate, renderMessage, shippedTemplates, type Locale } from '../../src/templates/render.js'
import { plainTextOf, toPlainText } from '../../src/templates/plain-text.js'
import { freshKey, section, serviceValues, template } from './render-fixtures.js'

const body = ('Påmeldingen til vårens kurs er åpen. Vi har nye kurs i yoga, keramikk og akvarell, på dagtid og om kvelden.\n\n').repeat(4).trim()
const link = (token: string) => `https://post.example.org/u/${token}`

/** Names that differ in what the converter could treat differently: escaping, non-ASCII, whitespace, lengths that wrap. */
const names = [
  'Kari Nordmann',
  'Ørjan Ødegård',
  'Tom & Jerry <script>',
  `O'Brien "Bob" = \`x\``,
  'A',
  'Æ'.repeat(90),
  'Maria Magdalena Karoline Josefine Henriette von und zu Liechtenstein-Habsburg Nordmann',
  'Ola  Nordmann',
  ' Kari ',
  'Kari\nNordmann',
  'Kari\tNordmann',
  'Kari\u00a0Nordmann',
  'Kari\u200bNordmann',
  'Kari 😀 Nordmann',
  '#hashtag',
  'mailto:kari@example.no',
  'Kari\u0007Nordmann',
  '&amp; &lt;',
  'ⰰⰱ Glagolitic',
  '',
]

const renderBoth = (compiled: Awaited<ReturnType<typeof compileTemplate>>, locale: Locale, values: Record<string, unknown>) => ({
  own: renderMessage(compiled, locale, values),
  shared: renderMessage(compiled, locale, values, ['name', 'preferencesUrl', 'courseMailUntil']),
})

t.test('the shipped templates give each message the text its own conversion gives, whatever the name and link', async (t) => {
  for (const shipped of shippedTemplates().filter((s) => ['newsletter', 'marketing-offer', 'course-message'].includes(s.name))) {
    const compiled = await compileTemplate(freshKey(), shipped)
    for (const locale of ['nb', 'en'] as const) {
      for (const [i, name] of names.entries()) {
        for (const token of ['abc123', 'x'.repeat(140 + i)]) {
          const values = {
            headline: 'Nye kurs i vår',
            body,
            message: body,
            courseName: 'Yoga',
            offer: 'Halv pris',
            offerUrl: 'https://kurshuset.example/tilbud',
            ...serviceValues,
            name,
            preferencesUrl: link(token),
          }
          const { own, shared } = renderBoth(compiled, locale, values)
          t.equal(shared.text, own.text, `${shipped.name} ${locale}: ${JSON.stringify(name)}, a ${token.length}-character token`)
          t.equal(shared.html, own.html)
        }
      }
    }
  }
})

t.test('a template that uses the name in headings, lists, links, twice in a row, in a condition and in the subject gives the same text as before', async (t) => {
  const compiled = await compileTemplate(
    freshKey(),
    template(
      section(
        '<h1>{{name}}</h1><h4>Til {{name}}</h4><ul><li>Hei {{name}}, dette er et langt punkt som går over flere linjer når navnet er langt nok til det</li></ul>' +
          '<p>{{name}}{{name}} og {{#if name}}med navn{{else}}uten navn{{/if}}</p>' +
          '<p><a href="{{preferencesUrl}}">{{preferencesUrl}}</a> <a href="{{preferencesUrl}}">{{name}}</a> <a href="https://x.example/{{name}}">lenke</a></p>' +
          '<p style="white-space: pre-line;">{{name}}\n  {{name}}</p><p>{{lookup greetings name}}</p>',
      ),
      { subjects: { nb: 'Hei {{name}}' } },
    ),
  )
  for (const name of names) {
    const values = { ...serviceValues, name, greetings: { 'Kari Nordmann': 'Hei Kari!' }, preferencesUrl: link('tok') }
    const { own, shared } = renderBoth(compiled, 'nb', values)
    t.equal(shared.text, own.text, JSON.stringify(name))
    t.equal(shared.subject, own.subject)
  }
})

t.test('messages whose values have the same shape share one conversion; another shape or other shared values make their own', async (t) => {
  const html = (values: Record<string, unknown>) => `<p>Hei ${String(values.name)}, les ${String(values.body)}</p><p><a href="${String(values.url)}">Meld deg av</a></p>`
  const version = {}
  let conversions = 0
  const text = (values: Record<string, unknown>) =>
    plainTextOf(version, html(values), values, ['name', 'url'], html, (document) => {
      conversions++
      return toPlainText(document)
    })
  const shared = { body: 'nyhetsbrevet'.repeat(3) }
  for (const [i, name] of ['Kari Nordmann', 'Lise Hansenxx', 'Pers Olsenxxx'].entries()) {
    const values = { ...shared, name, url: `https://x.example/u/${i}` }
    t.equal(text(values), toPlainText(html(values)))
  }
  t.equal(conversions, 1, 'one conversion for three names of one shape')
  t.equal(text({ ...shared, name: 'Ola Nordmann', url: 'https://x.example/u/2' }), toPlainText(html({ ...shared, name: 'Ola Nordmann', url: 'https://x.example/u/2' })))
  t.equal(text({ body: 'noe annet', name: 'Kari Nordmann', url: 'https://x.example/u/1' }), toPlainText(html({ body: 'noe annet', name: 'Kari Nordmann', url: 'https://x.example/u/1' })))
  t.equal(conversions, 3, 'a new shape, and other shared values, each convert once')
})
