// The pages subscribers reach from links in their mail. For now the
// unsubscribe link: GET shows a page with a button (and never unsubscribes:
// mail scanners follow links), POST unsubscribes — RFC 8058 one-click, as
// application/x-www-form-urlencoded or multipart/form-data, no cookies, no
// redirects. Public routes: the signed token is the only credential.
import formbody from '@fastify/formbody'
import multipart from '@fastify/multipart'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { AppError } from '../lib/errors.js'
import { badUnsubscribeRequestPage, invalidLinkPage, unsubscribePage, unsubscribedPage } from './html.js'

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false })

/** A page holds a token in its address: no caching, no referrer, nothing loaded from elsewhere, never framed. */
function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    })
    .send(html)
}

export async function pageRoutes(app: FastifyInstance) {
  const { unsubscribeLinks } = app.services
  // Form bodies are spoken here only; the API speaks JSON.
  await app.register(formbody, { bodyLimit: 4096 })
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: 10, fieldSize: 1024, files: 0, parts: 10, fieldNameSize: 100 },
  })

  // The multipart parser's refusals (a body cut short, no boundary) are plain
  // errors without a status: the sender's fault, not ours. Anything else goes
  // on to the service's error handler as it is.
  app.setErrorHandler((error: FastifyError, request) => {
    if (request.method === 'POST' && request.body === undefined && !(error instanceof AppError) && !error.statusCode) {
      throw new AppError(400, 'bad_request', 'The form could not be read')
    }
    throw error
  })

  app.get('/unsubscribe/:token', {
    config: { public: true },
    schema: { hide: true, params: TokenParams },
    handler: async (request, reply) => {
      const { token } = request.params as { token: string }
      const view = await unsubscribeLinks.view(token)
      if (!view) return sendPage(reply, 404, invalidLinkPage())
      return sendPage(reply, 200, unsubscribePage(view, `/unsubscribe/${encodeURIComponent(token)}`))
    },
  })

  app.post('/unsubscribe/:token', {
    config: { public: true },
    schema: { hide: true, params: TokenParams },
    handler: async (request, reply) => {
      const { token } = request.params as { token: string }
      const body = (request.body ?? {}) as Record<string, unknown>
      const view = await unsubscribeLinks.view(token)
      if (!view) return sendPage(reply, 404, invalidLinkPage())
      if (body['List-Unsubscribe'] !== 'One-Click') return sendPage(reply, 400, badUnsubscribeRequestPage(view.locale))
      const result = await unsubscribeLinks.unsubscribe(token, {
        via: body.via === 'page' ? 'page' : 'one-click',
        ip: request.ip,
        userAgent: request.headers['user-agent']?.slice(0, 500),
      })
      if (!result) return sendPage(reply, 404, invalidLinkPage())
      return sendPage(reply, 200, unsubscribedPage(result))
    },
  })
}
