// Tests for checkTemplate, the check what staff submit must pass: the
// variables it reports (from the subjects and bodies of every locale, less
// what the service fills itself and the names relative to a block's item);
// what it refuses, with the locale, part and line at fault, among it anything
// in a body that would load fonts or styles from elsewhere; and what it lets
// through: images staff choose, links, inline data, a conditional section
// through mj-raw.
import t from 'tap'
import { InvalidTemplateError, SERVICE_VARIABLES, checkTemplate, compileTemplate, renderMessage, type TemplateSource } from '../../src/templates/render.js'
import { freshKey, section, serviceValues, template } from './render-fixtures.js'

const problemsOf = async (source: TemplateSource) => {
  const result = await checkTemplate(source)
  if (result.ok) throw new Error(`expected problems, got ok with ${result.variables.join(', ')}`)
  return result.problems
}

t.test('the variables checkTemplate reports', async (t) => {
  t.test('leave out what the service fills itself', async (t) => {
    const uses = SERVICE_VARIABLES.map((name) => `{{${name}}}`).join(' ')
    t.same(await checkTemplate(template(section(`${uses} {{name}}`), { subjects: { nb: '{{listName}}' } })), { ok: true, variables: ['name'] })
  })

  t.test('come from the subjects and bodies of every locale, sorted and once each', async (t) => {
    const source = template(section('{{b}} {{a}}'), {
      subjects: { nb: '{{c}} {{a}}', en: '{{d}}' },
      bodies: { nb: section('{{b}} {{a}}'), en: section('{{e}} {{b}}') },
    })
    t.same(await checkTemplate(source), { ok: true, variables: ['a', 'b', 'c', 'd', 'e'] })
  })

  t.test('count the value a block is given but not the names relative to its item', async (t) => {
    const body = section(
      '{{#each people as |person|}}{{person.name}} {{title}} {{../heading}} {{@root.footnote}} {{@index}}{{else}}{{nobody}}{{/each}}' +
        '{{#with address}}{{street}}{{/with}}{{#if vip}}{{perk}}{{/if}}{{#unless quiet}}!{{/unless}}{{lookup labels key}}',
    )
    t.same(await checkTemplate(template(body)), {
      ok: true,
      variables: ['address', 'footnote', 'heading', 'key', 'labels', 'nobody', 'people', 'perk', 'quiet', 'vip'],
    })
  })
})

t.test('checkTemplate refuses', async (t) => {
  const cases: { what: string; body: string; line: number; message: RegExp }[] = [
    { what: 'triple-stash', body: section('\n{{{name}}}'), line: 4, message: /Unescaped output/ },
    { what: 'an ampersand mustache', body: section('\n\n{{& name}}'), line: 5, message: /Unescaped output/ },
    { what: 'mj-include', body: `${section('x')}\n<mj-include path="/etc/passwd" />`, line: 6, message: /mj-include.*reads files/ },
    { what: 'a partial', body: section('{{> footer}}'), line: 3, message: /Partials/ },
    { what: 'a block closed by the wrong name', body: section('\n{{#if name}}x{{/each}}'), line: 4, message: /Handlebars syntax error: if doesn't match each/ },
    { what: 'a block never closed', body: section('\n{{#if name}}x'), line: 6, message: /Handlebars syntax error: Expecting .* got 'EOF'/ },
    { what: 'an unclosed mustache', body: section('\n{{name'), line: 4, message: /Handlebars syntax error/ },
    { what: 'a helper that is not built in', body: section('{{uppercase name}}'), line: 3, message: /helper "uppercase" is unknown/ },
    { what: 'a block helper that is not built in', body: section('{{#people}}x{{/people}}'), line: 3, message: /\{\{#people\}\} is not allowed/ },
    { what: 'a path above the top level', body: section('{{../name}}'), line: 3, message: /above the top level/ },
    { what: 'a mistyped end tag', body: `${section('ok')}\n<mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-sectionn>`, line: 6, message: /<\/mj-sectionn> does not close <mj-section> from line 6/ },
    { what: 'an element that is never closed', body: `${section('ok')}\n<mj-section>\n  <mj-column>\n    <mj-text>x</mj-text>\n</mj-section>`, line: 9, message: /<\/mj-section> does not close <mj-column> from line 7/ },
    { what: 'an unknown attribute', body: `${section('ok')}\n<mj-section>\n  <mj-column>\n    <mj-text colour="red">x</mj-text>\n  </mj-column>\n</mj-section>`, line: 8, message: /Attribute colour is illegal/ },
    { what: 'an unknown element', body: `${section('ok')}\n<mj-section>\n  <mj-column>\n    <mj-txt>x</mj-txt>\n  </mj-column>\n</mj-section>`, line: 8, message: /mj-txt doesn't exist/ },
    { what: 'an element in the wrong place', body: '<mj-section>\n  <mj-text>x</mj-text>\n</mj-section>', line: 2, message: /mj-text cannot be used inside mj-section/ },
    { what: 'a column at the top of the body', body: '<mj-column>\n  <mj-text>x</mj-text>\n</mj-column>', line: 1, message: /<mj-column> cannot stand at the top of a body/ },
    { what: 'a whole MJML document', body: `<mjml>\n<mj-body>\n${section('x')}\n</mj-body>\n</mjml>`, line: 1, message: /<mjml> cannot stand at the top of a body/ },
    { what: 'Handlebars between sections, which MJML drops', body: `{{#if vip}}\n${section('x')}\n{{/if}}`, line: 1, message: /stands between elements, where MJML drops it/ },
    { what: 'an empty body', body: ' \n ', line: 0, message: /The nb body is empty/ },
    // Whatever a mail client would fetch when the message is opened: it would tell that server who read it.
    { what: 'a web font', body: '<mj-section>\n  <mj-column>\n    <mj-font name="Lato" href="https://fonts.googleapis.com/css?family=Lato" />\n  </mj-column>\n</mj-section>', line: 3, message: /^<mj-font> is not allowed\. Web fonts and remote stylesheets make every opened message tell a third party who read it; use the layout's system fonts$/ },
    { what: 'a stylesheet link', body: '<mj-raw>\n  <link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Lato">\n</mj-raw>', line: 2, message: /^<link> is not allowed\. Web fonts and remote stylesheets/ },
    { what: 'a stylesheet link for Outlook alone', body: '<mj-raw>\n\n  <!--[if mso]><link rel="stylesheet" href="https://cdn.example/o.css"><![endif]-->\n</mj-raw>', line: 3, message: /^<link> is not allowed/ },
    { what: '@import in a style element', body: section('\n<style>\n  @import url(https://fonts.googleapis.com/css?family=Lato);\n</style>'), line: 5, message: /^@import in CSS is not allowed\. Web fonts/ },
    { what: '@import written with a CSS escape', body: section('<style>\n@\\69mport "https://cdn.example/a.css";</style>'), line: 4, message: /^@import in CSS is not allowed/ },
    { what: '@font-face, even with the font inline', body: section('<style>@font-face { font-family: X; src: url(data:font/woff2;base64,AAAA) }</style>'), line: 3, message: /^@font-face in CSS is not allowed/ },
    { what: 'url() to another server in a style attribute', body: section('\n<div style="background-image: url(\'https://tracker.example/p.gif\')">x</div>'), line: 4, message: /^url\('https:\/\/tracker\.example\/p\.gif'\) in CSS loads from elsewhere\. Web fonts.*; an image belongs in mj-image$/ },
    { what: 'url() hidden behind character references', body: section('<span style="background:u&#114;l(&quot;//cdn.example/x.png&quot;)">x</span>'), line: 3, message: /^url\("\/\/cdn\.example\/x\.png"\) in CSS loads from elsewhere/ },
    { what: 'url() of a value filled in at send time', body: section('<p style="background:url({{imageUrl}})">x</p>'), line: 3, message: /^url\(\{\{imageUrl\}\}\) in CSS loads from elsewhere/ },
    { what: 'image-set() to another server', body: section("<div style=\"background-image: image-set('https://cdn.example/a.png' 1x)\">x</div>"), line: 3, message: /^image-set\("https:\/\/cdn\.example\/a\.png"\) in CSS loads from elsewhere/ },
  ]
  for (const c of cases) {
    t.test(c.what, async (t) => {
      const problems = await problemsOf(template(c.body))
      t.equal(problems.length >= 1, true, 'at least one problem')
      t.match(problems[0], { locale: 'nb', part: 'body', line: c.line === 0 ? null : c.line, message: c.message })
    })
  }

  t.test('a subject that uses messageSubject, which is the subject itself', async (t) => {
    const problems = await problemsOf(template(section('x'), { subjects: { nb: 'Hei\n{{messageSubject}}' } }))
    t.match(problems, [{ locale: 'nb', part: 'subject', line: 2, message: /\{\{messageSubject\}\} is the subject itself/ }])
  })

  t.test('a problem in a subject, naming the subject', async (t) => {
    const problems = await problemsOf(template(section('x'), { subjects: { nb: 'Hei {{{name}}}' } }))
    t.match(problems, [{ locale: 'nb', part: 'subject', line: 1, message: /Unescaped output/ }])
  })

  t.test('a locale with a body but no subject', async (t) => {
    const problems = await problemsOf(template(section('x'), { bodies: { nb: section('x'), en: section('y') } }))
    t.match(problems, [{ locale: 'en', part: 'subject', line: null, message: /en subject is missing/ }])
  })

  t.test('a template with no locale at all', async (t) => {
    t.match(await problemsOf({ kind: 'course', subjects: {}, bodies: {} }), [{ line: null, message: /at least one locale/ }])
  })

  t.test('a template that compileTemplate is asked to compile anyway', async (t) => {
    await t.rejects(compileTemplate(freshKey(), template(section('{{{name}}}'))), InvalidTemplateError)
  })
})

t.test('what loads nothing from elsewhere passes: images staff choose, links, inline data and CSS words in text', async (t) => {
  const body = [
    '<mj-section background-url="https://kurshuset.example/bakgrunn.jpg">',
    '  <mj-column>',
    '    <mj-image src="https://kurshuset.example/bilde.png" alt="Et bilde" />',
    '    <mj-text><p style="color: #333; background: url(\'data:image/gif;base64,R0lGODlhAQABAAAAACw=\')">Skriv @import og url(https://x) i CSS, så nekter vi.</p></mj-text>',
    '    <mj-text><a href="https://kurshuset.example/kurs">Kursene</a> <img src="https://kurshuset.example/logo.png" alt="Logo"></mj-text>',
    '  </mj-column>',
    '</mj-section>',
  ].join('\n')
  t.same(await checkTemplate(template(body)), { ok: true, variables: [] })
})

t.test('a conditional section through mj-raw passes and works', async (t) => {
  const body = `<mj-raw>{{#if vip}}</mj-raw>\n${section('For deg som er VIP')}\n<mj-raw>{{/if}}</mj-raw>`
  t.same(await checkTemplate(template(body)), { ok: true, variables: ['vip'] })
  const compiled = await compileTemplate(freshKey(), template(body))
  t.match(renderMessage(compiled, 'nb', { ...serviceValues, vip: true }).text, 'For deg som er VIP')
  t.notMatch(renderMessage(compiled, 'nb', { ...serviceValues, vip: false }).text, 'For deg som er VIP')
})
