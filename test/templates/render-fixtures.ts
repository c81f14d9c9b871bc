// What the template tests (render.test.ts, check-template.test.ts) share:
// the values the service fills in itself, a cache key no other compile uses,
// and a template made of one MJML body.
import type { TemplateSource } from '../../src/templates/render.js'

export const serviceValues = {
  preferencesUrl: 'https://post.example.org/l/abc123',
  courseMailUntil: '30. juni 2025',
  listName: 'Nyhetsbrev fra Kurshuset',
  controllerName: 'Kurshuset AS',
  controllerEmail: 'personvern@kurshuset.example',
}

let keySequence = 0
/** A cache key no other test uses, as a fresh template version id would be. */
export const freshKey = () => `test-version-${++keySequence}`

export const section = (content: string) => `<mj-section>\n  <mj-column>\n    <mj-text>${content}</mj-text>\n  </mj-column>\n</mj-section>`

export const template = (body: string, over: Partial<TemplateSource> = {}): TemplateSource => ({
  kind: 'newsletter',
  subjects: { nb: 'Hei' },
  bodies: { nb: body },
  ...over,
})
