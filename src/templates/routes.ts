// Staff API for templates: new versions, list, get, preview.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createdOrFound } from '../lib/http.js'
import { errorResponses, IdParams, ref } from '../lib/schemas.js'
import { Roles } from '../plugins/auth.js'
import { NewTemplateVersion, PreviewBody, RenderedMessage, Template, TemplatePage, TemplateQuery } from './schemas.js'

const tags = ['templates']

export const templateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { templates } = app.services

  app.post('/templates', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'createTemplateVersion',
      summary: 'Create the next version of a template from MJML',
      description:
        'Invalid MJML or Handlebars is a 422 `invalid_template` whose `problems` name the locale, the part and the line. ' +
        'Only an admin may create or change a transactional template (403).',
      tags,
      body: ref(NewTemplateVersion),
      response: { 201: ref(Template, 'The new version; Location is its address'), ...errorResponses(409, 422) },
    },
    handler: async (request, reply) => {
      const template = await templates.createVersion(request.body, request.actor)
      return createdOrFound(reply, true, `/templates/${template.id}`, template)
    },
  })

  app.get('/templates', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'listTemplates',
      summary: 'List template versions, oldest first (of one name when `name` is given)',
      tags,
      querystring: TemplateQuery,
      response: { 200: ref(TemplatePage, 'A page of template versions') },
    },
    handler: async (request) => templates.listTemplates(request.query),
  })

  app.get('/templates/:id', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'getTemplate',
      summary: 'Get one template version',
      tags,
      params: IdParams,
      response: { 200: ref(Template, 'The template version'), ...errorResponses(404) },
    },
    handler: async (request) => templates.getTemplate(request.params.id),
  })

  app.post('/templates/:id/preview', {
    config: { roles: Roles.staff },
    schema: {
      operationId: 'previewTemplate',
      summary: 'Fill a template version with sample data: HTML, text and subject',
      description:
        'A value the template needs and `data` lacks is a 422 `template_data_missing` naming each. ' +
        'The footer shows the day course mail ends for `courseId` and the name of `listId` when given (404 when they do not exist), ' +
        'and a plainly marked sample otherwise; its link goes to a preference page that says the link is not valid.',
      tags,
      params: IdParams,
      body: ref(PreviewBody),
      response: { 200: ref(RenderedMessage, 'The message as a recipient would get it'), ...errorResponses(404, 422) },
    },
    handler: async (request) => templates.preview(request.params.id, request.body),
  })
}
