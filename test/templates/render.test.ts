// Tests for template rendering: the shipped templates pass their own checks and
// fill in both locales; values are escaped in HTML and kept to one line in the
// subject, which is also the HTML title; a missing value is named; the locale
// falls back; footers say what the law asks of each kind of message; a version
// goes through MJML once. What checkTemplate refuses is in check-template.test.ts.
import t from 'tap'
import {
  InvalidTemplateError,
  MissingVariablesError,
  checkTemplate,
  compileTemplate,
  renderMessage,
  shippedTemplates,
  type Locale,
  type TemplateKind,
  type TemplateSource,
} from '../../src/templates/render.js'
import { freshKey, section, serviceValues, template } from './render-fixtures.js'

/** Per shipped template: what a send supplies, and the variables checkTemplate must report. */
const samples: Record<string, { values: Record<string, string>; variables: string[] }> = {
  'course-message': {
    values: { name: 'Kari Nordmann', courseName: 'Python for nybegynnere', message: 'Vi møtes i rom 204 på torsdag.' },
    variables: ['courseName', 'message', 'name'],
  },
  newsletter: {
    values: { name: 'Kari Nordmann', headline: 'Vårens kurs er klare', body: 'Påmeldingen åpner mandag.' },
    variables: ['body', 'headline', 'name'],
  },
  'marketing-offer': {
    values: { name: 'Kari Nordmann', offer: 'Halv pris på høstkurset', offerUrl: 'https://kurshuset.example/tilbud?kode=HØST&ref=epost' },
    variables: ['name', 'offer', 'offerUrl'],
  },
  'double-opt-in': {
    values: { name: 'Kari Nordmann', signupList: 'Nyheter', confirmUrl: 'https://post.example.org/c/xyz789' },
    variables: ['confirmUrl', 'name', 'signupList'],
  },
  'data-subject-answer': {
    values: { name: 'Kari Nordmann', requestType: 'innsyn', answer: 'Vi har disse opplysningene om deg: navn og e-postadresse.' },
    variables: ['answer', 'name', 'requestType'],
  },
}

/** What Handlebars makes of a value in HTML. */
const htmlEscaped = (text: string) =>
  text.replace(/[&<>"'`=]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' })[c]!)
const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1]

async function render(source: TemplateSource, locale: Locale, values: Record<string, unknown>) {
  return renderMessage(await compileTemplate(freshKey(), source), locale, values)
}

t.test('the shipped templates', async (t) => {
  const shipped = shippedTemplates()
  t.same(shipped.map((s) => s.name).sort(), Object.keys(samples).sort(), 'are the five named ones')
  const kinds: Record<string, TemplateKind> = {
    'course-message': 'course',
    newsletter: 'newsletter',
    'marketing-offer': 'marketing',
    'double-opt-in': 'transactional',
    'data-subject-answer': 'transactional',
  }
  for (const source of shipped) {
    const sample = samples[source.name]
    if (!sample) throw new Error(`no sample for ${source.name}`)
    t.test(`${source.name} passes the check with no MJML error and asks for its own variables`, async (t) => {
      t.equal(source.kind, kinds[source.name])
      t.ok(source.description.length > 0, 'has a description')
      t.same(await checkTemplate(source), { ok: true, variables: sample.variables })
    })
    for (const locale of ['nb', 'en'] as const) {
      t.test(`${source.name} renders in ${locale} with every value in the HTML and a text part`, async (t) => {
        const message = await render(source, locale, { ...serviceValues, ...sample.values })
        t.equal(message.locale, locale)
        t.ok(message.subject.length > 0, 'has a subject')
        t.notMatch(message.subject, /\{\{|\}\}/, 'no placeholder is left in the subject')
        t.notMatch(message.html, /\{\{|\}\}/, 'no placeholder is left in the HTML')
        t.match(message.html, new RegExp(`<html lang="${locale}"`), 'the HTML says its language')
        t.equal(titleOf(message.html), htmlEscaped(message.subject), 'the HTML title is the subject')
        for (const value of Object.values(sample.values)) {
          const escaped = value.replace(/&/g, '&amp;').replace(/=/g, '&#x3D;')
          t.ok(message.html.includes(escaped), `HTML holds ${value}`)
          t.ok(message.text.replace(/\s+/g, ' ').includes(value), `text holds ${value}`)
        }
        t.notMatch(message.text, /<[a-z]/i, 'the text part has no tags')
      })
    }
  }
})

t.test('a value is HTML-escaped in the HTML and arrives as plain characters in the text', async (t) => {
  const [source] = shippedTemplates().filter((s) => s.name === 'course-message')
  const message = await render(source!, 'nb', { ...serviceValues, ...samples['course-message']!.values, name: '<b>Ola</b> & "Kari"' })
  t.match(message.html, 'Hei &lt;b&gt;Ola&lt;/b&gt; &amp; &quot;Kari&quot;,')
  t.notMatch(message.html, '<b>Ola</b>')
  t.match(message.text, 'Hei <b>Ola</b> & "Kari",', 'the text shows the name as typed, not as markup')
})

t.test('a value in an attribute survives MJML and is filled and escaped there', async (t) => {
  const body = [
    '<mj-section>',
    '  <mj-column>',
    '    <mj-button href="{{offerUrl}}">Til tilbudet</mj-button>',
    '    <mj-image src="{{imageUrl}}" alt="{{imageText}}" />',
    '    <mj-text><a href="{{offerUrl}}">lenke</a></mj-text>',
    '  </mj-column>',
    '</mj-section>',
  ].join('\n')
  const message = await render(template(body, { kind: 'transactional' }), 'nb', {
    ...serviceValues,
    offerUrl: 'https://kurshuset.example/t?a=1&b="2"',
    imageUrl: 'https://kurshuset.example/bilde.png',
    imageText: 'Et bilde',
  })
  const href = 'href="https://kurshuset.example/t?a&#x3D;1&amp;b&#x3D;&quot;2&quot;"'
  t.equal(message.html.split(href).length - 1, 2, 'both links carry the escaped address')
  t.match(message.html, 'src="https://kurshuset.example/bilde.png"')
  t.match(message.html, 'alt="Et bilde"')
  t.match(message.text, 'Til tilbudet [https://kurshuset.example/t?a=1&b="2"]', 'the text part decodes the address')
  t.notMatch(message.text, 'bilde.png', 'images are dropped from the text part')
})

/** The names a MissingVariablesError carries, or undefined when rendering succeeds. */
function missingNames(fill: () => unknown): string[] | undefined {
  try {
    fill()
  } catch (error) {
    if (error instanceof MissingVariablesError) return error.names
    throw error
  }
  return undefined
}

t.test('a missing value', async (t) => {
  const [source] = shippedTemplates().filter((s) => s.name === 'course-message')
  const compiled = await compileTemplate(freshKey(), source!)
  const values: Record<string, unknown> = { ...serviceValues, ...samples['course-message']!.values }
  const without = (...names: string[]) => Object.fromEntries(Object.entries(values).filter(([name]) => !names.includes(name)))

  t.test('throws MissingVariablesError naming every missing one', async (t) => {
    t.same(missingNames(() => renderMessage(compiled, 'nb', without('name', 'message'))), ['message', 'name'])
    t.throws(() => renderMessage(compiled, 'nb', without('name')), { code: 'template_data_missing', message: /name/ })
  })

  t.test('counts null as missing', async (t) => {
    t.same(missingNames(() => renderMessage(compiled, 'nb', { ...values, courseName: null })), ['courseName'])
  })

  t.test('includes a service variable the footer needs', async (t) => {
    t.same(missingNames(() => renderMessage(compiled, 'nb', without('courseMailUntil'))), ['courseMailUntil'])
  })

  t.test('inside an each block names the field the item lacks', async (t) => {
    const listed = await compileTemplate(freshKey(), template(section('{{#each people}}<p>{{name}}</p>{{/each}}')))
    t.same(missingNames(() => renderMessage(listed, 'nb', { ...serviceValues, people: [{ name: 'Ola' }, {}] })), ['name'])
    t.same(missingNames(() => renderMessage(listed, 'nb', serviceValues)), ['people'])
  })

  t.test('in a nested path names the whole path', async (t) => {
    const nested = await compileTemplate(freshKey(), template(section('{{person.name}}')))
    t.same(missingNames(() => renderMessage(nested, 'nb', { ...serviceValues, person: {} })), ['person.name'])
  })
})

t.test('the HTML title is the subject the recipient gets, escaped, whatever a send calls messageSubject', async (t) => {
  const source = template(section('Om: {{messageSubject}}'), { subjects: { nb: 'Nytt om {{courseName}}' } })
  const message = await render(source, 'nb', { ...serviceValues, courseName: '<b>Tegning</b> & maling', messageSubject: 'Noe annet' })
  t.equal(message.subject, 'Nytt om <b>Tegning</b> & maling')
  t.equal(titleOf(message.html), 'Nytt om &lt;b&gt;Tegning&lt;/b&gt; &amp; maling')
  t.match(message.html, 'Om: Nytt om &lt;b&gt;Tegning&lt;/b&gt; &amp; maling', 'a body may show the subject too')
  t.notMatch(message.html, 'Noe annet', "the service's value wins over the send's")
  t.match(message.text, 'Om: Nytt om <b>Tegning</b> & maling')
  t.equal(message.text.split('Nytt om').length - 1, 1, 'the title is not repeated in the text part')
})

t.test('a value cannot add a header line to the subject', async (t) => {
  const source = template(section('x'), { subjects: { nb: 'Nytt fra {{courseName}}' } })
  const message = await render(source, 'nb', { ...serviceValues, courseName: 'Python\r\nBcc: victim@example.org\u0000\u2028x' })
  t.equal(message.subject, 'Nytt fra Python Bcc: victim@example.org x')
  t.notMatch(message.subject, /[\r\n]/)
})

t.test('the subject is not HTML, so it is not HTML-escaped', async (t) => {
  const message = await render(template(section('x'), { subjects: { nb: '{{courseName}}' } }), 'nb', { ...serviceValues, courseName: 'Tegning & maling <grunnkurs>' })
  t.equal(message.subject, 'Tegning & maling <grunnkurs>')
})

t.test('the locale', async (t) => {
  const both = template(section('norsk'), { subjects: { nb: 'Hei', en: 'Hi' }, bodies: { nb: section('norsk'), en: section('english') } })
  const onlyEnglish = template('', { subjects: { en: 'Hi' }, bodies: { en: section('english') } })
  const onlyNorwegian = template(section('norsk'))

  t.test('is the one asked for when the template has it', async (t) => {
    const message = await render(both, 'en', serviceValues)
    t.match(message, { locale: 'en', subject: 'Hi' })
    t.match(message.text, 'english')
  })
  t.test('falls back to nb', async (t) => {
    t.match(await render(onlyNorwegian, 'en', serviceValues), { locale: 'nb', subject: 'Hei' })
  })
  t.test('falls back to any locale the template has when it has no nb', async (t) => {
    const compiled = await compileTemplate(freshKey(), onlyEnglish)
    t.same(compiled.locales, ['en'])
    t.match(renderMessage(compiled, 'nb', serviceValues), { locale: 'en', subject: 'Hi' })
  })
  t.test('only checks the values the chosen locale uses', async (t) => {
    const source = template(section('{{nbOnly}}'), { subjects: { nb: 'Hei', en: 'Hi' }, bodies: { nb: section('{{nbOnly}}'), en: section('{{enOnly}}') } })
    t.match(await render(source, 'en', { ...serviceValues, enOnly: 'x' }), { locale: 'en' })
  })
})

t.test('the compile cache', async (t) => {
  t.test('compiles a version once and hands out the same compiled template', async (t) => {
    const key = freshKey()
    const first = await compileTemplate(key, template(section('først')))
    const second = await compileTemplate(key, template(section('andre')))
    t.equal(second, first, 'the same object')
    t.match(renderMessage(second, 'nb', serviceValues).text, 'først', 'the second input is never compiled')
  })
  t.test('shares one compilation between calls that arrive together', async (t) => {
    const key = freshKey()
    const [a, b] = await Promise.all([compileTemplate(key, template(section('x'))), compileTemplate(key, template(section('y')))])
    t.equal(a, b)
  })
  t.test('keeps versions apart by key', async (t) => {
    const a = await compileTemplate(freshKey(), template(section('x')))
    const b = await compileTemplate(freshKey(), template(section('x')))
    t.not(a, b)
  })
  t.test('forgets a failed compilation so a corrected call is not stuck with it', async (t) => {
    const key = freshKey()
    await t.rejects(compileTemplate(key, template(section('{{{x}}}'))), InvalidTemplateError)
    t.ok(await compileTemplate(key, template(section('x'))))
  })
})

t.test('the footer', async (t) => {
  const kinds = ['course', 'newsletter', 'marketing', 'transactional'] as const
  const footers: Record<string, { html: string; text: string }> = {}
  for (const kind of kinds) {
    for (const locale of ['nb', 'en'] as const) {
      const source: TemplateSource = { kind, subjects: { [locale]: 'x' }, bodies: { [locale]: section('Innhold') } }
      const values = { ...serviceValues, courseMailUntil: locale === 'nb' ? '30. juni 2025' : '30 June 2025' }
      const message = await render(source, locale, values)
      footers[`${kind}.${locale}`] = { html: message.html, text: message.text }
    }
  }
  const preferencesHref = `href="${serviceValues.preferencesUrl}"`

  t.test('of course mail says until when it continues, links the preference page and offers no unsubscribing', async (t) => {
    const nb = footers['course.nb']!
    const en = footers['course.en']!
    t.match(nb.text.replace(/\s+/g, ' '), /Kurspost hører med til kurset og kommer til og med 30\. juni 2025\./)
    t.match(en.text.replace(/\s+/g, ' '), /Course mail is part of the course and continues until 30 June 2025\./)
    t.match(nb.html, new RegExp(`<a ${preferencesHref}>Se og endre e-postvalgene dine</a>`))
    t.match(en.html, new RegExp(`<a ${preferencesHref}>See and change your email choices</a>`))
    t.match(nb.text, 'påmeldt et kurs')
    t.match(en.text, 'enrolled in a course')
    for (const footer of [nb, en]) t.notMatch(footer.text, /meld deg av|unsubscribe|one-click|ett klikk/i)
  })
  for (const kind of ['newsletter', 'marketing'] as const) {
    t.test(`of ${kind} mail says why it comes and links to unsubscribing`, async (t) => {
      t.match(footers[`${kind}.nb`]!.html, new RegExp(`<a ${preferencesHref}>Meld deg av</a>`))
      t.match(footers[`${kind}.en`]!.html, new RegExp(`<a ${preferencesHref}>Unsubscribe</a>`))
      t.match(footers[`${kind}.nb`]!.text, `fordi du`)
      t.match(footers[`${kind}.nb`]!.text, serviceValues.listName)
      t.match(footers[`${kind}.en`]!.text, `because you`)
    })
  }
  t.test('of transactional mail names the sender and has no unsubscribe link', async (t) => {
    for (const locale of ['nb', 'en']) {
      const footer = footers[`transactional.${locale}`]!
      t.notMatch(footer.html, preferencesHref)
      t.notMatch(footer.text, /meld deg av|unsubscribe/i)
      t.match(footer.text, serviceValues.controllerName)
      t.match(footer.text, serviceValues.controllerEmail)
    }
  })
})
