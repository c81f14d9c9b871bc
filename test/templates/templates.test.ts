// Templates over the API: versions from MJML, who may declare one
// transactional, refusals with MJML's own line and message, preview, and the
// shipped defaults every database starts with.
import t from 'tap'
import { build } from '../helper.js'
import { createList, putCourse } from '../factories.js'

const section = (text: string) => `<mj-section>\n  <mj-column>\n    <mj-text>${text}</mj-text>\n  </mj-column>\n</mj-section>`
const version = (over: Record<string, unknown> = {}) => ({
  name: 'course-reminder',
  kind: 'course',
  subjects: { nb: 'Påminnelse: {{courseName}}', en: 'Reminder: {{courseName}}' },
  bodies: { nb: section('Hei {{name}}, kurset starter {{startsAt}}.'), en: section('Hi {{name}}, the course starts {{startsAt}}.') },
  ...over,
})

t.test('templates', async (t) => {
  const app = await build(t)
  const create = (role: 'staff' | 'admin' | 'course-system', body: Record<string, unknown>) => app.as(role)({ method: 'POST', url: '/v1/templates', payload: body })

  t.test('the shipped templates are there, version 1, in Norwegian and English', async (t) => {
    const items = (await app.as('staff')({ method: 'GET', url: '/v1/templates?limit=200' })).json().items
    const shipped = Object.fromEntries(items.filter((i: { createdById: string }) => i.createdById === 'system:installer').map((i: { name: string }) => [i.name, i]))
    t.same(Object.keys(shipped).sort(), ['course-message', 'data-subject-answer', 'double-opt-in', 'marketing-offer', 'newsletter'])
    t.match(shipped['course-message'], { version: 1, kind: 'course', variables: ['courseName', 'message', 'name'], createdByRole: 'admin' })
    t.match(shipped['double-opt-in'], { kind: 'transactional', variables: ['confirmUrl', 'name', 'signupList'] })
    for (const template of Object.values(shipped) as { subjects: object; bodies: object }[]) {
      t.same(Object.keys(template.subjects).sort(), ['en', 'nb'])
      t.same(Object.keys(template.bodies).sort(), ['en', 'nb'])
    }
  })

  t.test('staff create versions; each new one is the next number, and the old ones stay as they were', async (t) => {
    const first = await create('staff', version())
    t.equal(first.statusCode, 201)
    t.equal(first.headers.location, `/v1/templates/${first.json().id}`)
    t.match(first.json(), { name: 'course-reminder', version: 1, kind: 'course', variables: ['courseName', 'name', 'startsAt'], createdByRole: 'staff' })
    const second = await create('staff', version({ bodies: { nb: section('Hei {{name}}!'), en: section('Hi {{name}}!') } }))
    t.match(second.json(), { version: 2, variables: ['courseName', 'name'] })
    t.same((await app.as('staff')({ method: 'GET', url: `/v1/templates/${first.json().id}` })).json(), first.json())
    const versions = (await app.as('staff')({ method: 'GET', url: '/v1/templates?name=course-reminder' })).json().items
    t.same(versions.map((v: { version: number }) => v.version), [1, 2])
  })

  t.test('only an admin declares a template transactional, or changes one that is', async (t) => {
    const receipt = version({ name: 'receipt', kind: 'transactional', subjects: { nb: 'Kvittering' }, bodies: { nb: section('Takk, {{name}}.') } })
    const byStaff = await create('staff', receipt)
    t.equal(byStaff.statusCode, 403)
    t.equal(byStaff.json().code, 'forbidden')
    t.equal((await create('admin', receipt)).statusCode, 201)
    t.equal((await create('staff', receipt)).statusCode, 403, 'a new version of a transactional template is for admins too')
    const asNewsletter = await create('admin', { ...receipt, kind: 'newsletter' })
    t.equal(asNewsletter.statusCode, 422)
    t.equal(asNewsletter.json().code, 'template_kind_changed')
    t.equal((await create('course-system', version({ name: 'from-course-system' }))).statusCode, 403)
  })

  t.test('invalid MJML is refused with MJML’s line and message', async (t) => {
    const broken = `<mj-section>\n  <mj-column>\n    <mj-text>Hei</mj-text>\n    <mj-txt>nei</mj-txt>\n  </mj-column>\n</mj-section>`
    const res = await create('staff', version({ name: 'broken', bodies: { nb: broken, en: section('Hi') } }))
    t.equal(res.statusCode, 422)
    t.equal(res.json().code, 'invalid_template')
    t.match(res.json().problems, [{ locale: 'nb', part: 'body', line: 4, message: /mj-txt/ }])
    t.match(res.json().detail, /nb body line 4/)
  })

  t.test('what could read files or put raw HTML through a value is refused', async (t) => {
    for (const [body, pattern] of [
      [section('{{{name}}}'), /triple|unescaped/i],
      [section('{{& name}}'), /unescaped/i],
      ['<mj-include path="/etc/passwd" />', /mj-include/],
      [section('{{> partial}}'), /partial/i],
      [section('{{#if name}}open'), /Handlebars syntax error/],
    ] as const) {
      const res = await create('staff', version({ name: 'unsafe', bodies: { nb: body, en: section('x') } }))
      t.equal(res.statusCode, 422, body)
      t.equal(res.json().code, 'invalid_template')
      t.match(res.json().problems[0].message, pattern, body)
    }
    t.equal((await app.as('staff')({ method: 'GET', url: '/v1/templates?name=unsafe' })).json().items.length, 0, 'nothing stored')
  })

  t.test('subjects and bodies come in the same locales; bad shapes are a 400', async (t) => {
    const mismatch = await create('staff', version({ name: 'half', subjects: { nb: 'Hei' } }))
    t.equal(mismatch.statusCode, 422)
    t.equal(mismatch.json().code, 'template_locales_mismatch')
    for (const body of [version({ name: 'Bad Name' }), version({ kind: 'spam' }), version({ bodies: {} }), version({ bodies: { de: section('x') } }), version({ extra: 1 })]) {
      t.equal((await create('staff', body)).statusCode, 400)
    }
  })

  t.test('preview fills a version with sample data; a value it needs and lacks is a 422 naming it', async (t) => {
    const id = (await create('staff', version({ name: 'preview-me' }))).json().id
    const res = await app.as('staff')({
      method: 'POST',
      url: `/v1/templates/${id}/preview`,
      payload: { locale: 'en', data: { name: '<i>Ola</i>', courseName: 'Yoga', startsAt: 'Monday' } },
    })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { locale: 'en', subject: 'Reminder: Yoga' })
    t.match(res.json().html, /Hi &lt;i&gt;Ola&lt;\/i&gt;, the course starts Monday\./)
    t.match(res.json().text, /Hi <i>Ola<\/i>, the course starts Monday\./)
    t.match(res.json().html, /<!doctype html>/i, 'a whole document, the layout around the body')
    const missing = await app.as('staff')({ method: 'POST', url: `/v1/templates/${id}/preview`, payload: { data: { name: 'Ola' } } })
    t.equal(missing.statusCode, 422)
    t.match(missing.json(), { code: 'template_data_missing', missing: ['courseName', 'startsAt'] })
    t.equal((await app.as('staff')({ method: 'POST', url: '/v1/templates/00000000-0000-4000-8000-000000000000/preview', payload: { data: {} } })).statusCode, 404)
  })

  t.test('a course-mail preview gives the day course mail ends for the course named, or a plain sample, and links only the preference page', async (t) => {
    const courseMessage = (await app.as('staff')({ method: 'GET', url: '/v1/templates?name=course-message' })).json().items[0].id
    await putCourse(app, 'PREVIEW-1', { name: 'Yoga', endsAt: '2031-06-20T14:00:00Z' })
    const preview = (payload: Record<string, unknown>) =>
      app.as('staff')({ method: 'POST', url: `/v1/templates/${courseMessage}/preview`, payload: { data: { name: 'Kari', courseName: 'Yoga', message: 'Sal 2.' }, ...payload } })
    const named = await preview({ courseId: 'PREVIEW-1' })
    t.equal(named.statusCode, 200)
    t.match(named.json().text, /kommer til og med 20\. juni 2031/, 'the course’s last day, in Norwegian')
    t.match((await preview({ courseId: 'PREVIEW-1', locale: 'en' })).json().text, /continues until 20 June 2031/)
    const sample = (await preview({})).json()
    t.match(sample.text, /kommer til og med \[kursets siste dag\]/, 'a plainly sample day without a course')
    const today = new Date().toISOString().slice(0, 10)
    t.notMatch(sample.html, today, 'never today’s date passed off as the lock')
    for (const html of [named.json().html, sample.html]) {
      t.match(html, /href="http:\/\/[^"]+\/u\/preview"/, 'the preference page')
      t.notMatch(html, /\/unsubscribe\//, 'never the one-click unsubscribe')
    }
    const missing = await preview({ courseId: 'NO-SUCH-COURSE' })
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'course_not_found')
  })

  t.test('a newsletter preview names the list it is for, or a plain sample', async (t) => {
    const newsletter = (await app.as('staff')({ method: 'GET', url: '/v1/templates?name=newsletter' })).json().items[0].id
    const list = await createList(app, { name: 'Nytt fra studioet' })
    const preview = (payload: Record<string, unknown>) =>
      app.as('staff')({ method: 'POST', url: `/v1/templates/${newsletter}/preview`, payload: { data: { name: 'Kari', headline: 'Vår', body: 'Nye kurs.' }, ...payload } })
    t.match((await preview({ listId: list.id })).json().text, /abonnerer på Nytt fra studioet/)
    t.match((await preview({})).json().text, /abonnerer på \[listens navn\]/)
    t.equal((await preview({ listId: '00000000-0000-4000-8000-000000000000' })).statusCode, 404)
  })

  t.test('the database keeps a version as it was written', async (t) => {
    const { id } = (await create('staff', version({ name: 'frozen' }))).json()
    const { sql } = await import('drizzle-orm')
    await t.rejects(app.app.db.execute(sql`update templates set bodies = '{}'::jsonb where id = ${id}`))
    await t.rejects(app.app.db.execute(sql`delete from templates where id = ${id}`))
  })
})
