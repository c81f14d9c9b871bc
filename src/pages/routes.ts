// The pages subscribers reach from links in their mail, and signup from web
// forms. The unsubscribe link: GET shows a page with a button (and never
// unsubscribes: mail scanners follow links), POST unsubscribes — RFC 8058
// one-click, as application/x-www-form-urlencoded or multipart/form-data, no
// cookies, no redirects. The preference page (/u/{token}): every choice a
// form post carrying the page's form token. Signup (POST /subscribe) and its
// confirmation link (GET shows a button, POST confirms). Public routes: the
// signed token is the only credential; thin, the services decide.
// The folder owns no table (no queries.ts): preferences.ts and unsubscribe.ts
// are its services, over the ones that own the rows, and *-html.ts render the
// answers, which are HTML pages, not JSON (their few schemas stay here).
import formbody from '@fastify/formbody'
import multipart from '@fastify/multipart'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { AppError } from '../lib/errors.js'
import type { Config } from '../config.js'
import { errorResponses, ref } from '../lib/schemas.js'
import { SignupBody, SignupReceived } from '../subscriptions/schemas.js'
import { confirmPage, signupProblemPage, signupReceivedPage } from './signup-html.js'
import { badUnsubscribeRequestPage, invalidLinkPage, unsubscribePage, unsubscribedPage } from './html.js'
import { formToken, verifyFormToken } from './form-token.js'
import { pageLocale } from './locale.js'
import { describeOutcome, formProblemPage, leftPage, preferencePage, type FormContext } from './preferences-html.js'
import { LEAVE_REASONS, type LeaveReason, type PreferenceAction } from './preferences.js'

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false })
const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 10 })) })

/** The choice a preference-page form posts, or null when the form is not one of ours. */
function actionOf(body: Record<string, unknown>): PreferenceAction | null {
  const list = typeof body.list === 'string' && /^[0-9a-f-]{36}$/i.test(body.list) ? body.list : null
  switch (body.action) {
    case 'leave':
    case 'join':
      return list ? { type: body.action, listId: list } : null
    case 'leave-all':
    case 'object-marketing':
    case 'request-copy':
      return { type: body.action }
    case 'keep-data':
      return body.keep === 'yes' || body.keep === 'no' ? { type: 'keep-data', keep: body.keep === 'yes' } : null
    case 'leave-reason':
      return list && LEAVE_REASONS.includes(body.reason as LeaveReason) ? { type: 'leave-reason', listId: list, reason: body.reason as LeaveReason } : null
    default:
      return null
  }
}

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

export interface PageOptions {
  config: Pick<Config, 'linkSigningKeys' | 'signupRateLimitPerMinute' | 'oneClickRateLimitPerMinute'>
  now: () => Date
}

export async function pageRoutes(app: FastifyInstance, options: PageOptions) {
  const { unsubscribeLinks, preferences, signups } = app.services
  const keys = options.config.linkSigningKeys
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
    config: {
      public: true,
      // Gmail and Yahoo post their users' one-click unsubscribes from a handful of
      // addresses: the anonymous limit would refuse them mid-campaign. The token
      // is signed, so a flood of made-up ones costs a hash each and changes nothing.
      rateLimit: { max: options.config.oneClickRateLimitPerMinute, timeWindow: 60_000, keyGenerator: (request: FastifyRequest) => `one-click:${request.ip}` },
    },
    schema: { hide: true, params: TokenParams },
    handler: async (request, reply) => {
      const { token } = request.params as { token: string }
      const body = (request.body ?? {}) as Record<string, unknown>
      if (body['List-Unsubscribe'] !== 'One-Click') {
        const view = await unsubscribeLinks.view(token)
        return view ? sendPage(reply, 400, badUnsubscribeRequestPage(view.locale)) : sendPage(reply, 404, invalidLinkPage())
      }
      const result = await unsubscribeLinks.unsubscribe(token, {
        via: body.via === 'page' ? 'page' : 'one-click',
        ip: request.ip,
        userAgent: request.headers['user-agent']?.slice(0, 500),
      })
      if (!result) return sendPage(reply, 404, invalidLinkPage())
      return sendPage(reply, 200, unsubscribedPage(result))
    },
  })

  // The preference page: everything a person can choose about their mail, from the link in any message.
  app.get('/u/:token', {
    config: { public: true },
    schema: { hide: true, params: TokenParams, querystring: LangQuery },
    handler: async (request, reply) => {
      const { token } = request.params as { token: string }
      const view = await preferences.view(token)
      if (!view) return sendPage(reply, 404, invalidLinkPage())
      const locale = pageLocale({ chosen: (request.query as { lang?: string }).lang, contactLocale: view.locale, acceptLanguage: request.headers['accept-language'] })
      const context: FormContext = { action: `/u/${encodeURIComponent(token)}`, formToken: formToken(keys, token, options.now()), locale }
      return sendPage(reply, 200, preferencePage(view, context))
    },
  })

  app.post('/u/:token', {
    config: { public: true },
    schema: { hide: true, params: TokenParams },
    handler: async (request, reply) => {
      const { token } = request.params as { token: string }
      const body = (request.body ?? {}) as Record<string, unknown>
      const view = await preferences.view(token)
      if (!view) return sendPage(reply, 404, invalidLinkPage())
      const locale = pageLocale({ chosen: body.lang, contactLocale: view.locale, acceptLanguage: request.headers['accept-language'] })
      const context: FormContext = { action: `/u/${encodeURIComponent(token)}`, formToken: formToken(keys, token, options.now()), locale }
      // A post from another site's page, or without the token of a page we served, changes nothing.
      const crossSite = request.headers['sec-fetch-site'] === 'cross-site'
      if (crossSite || !verifyFormToken(keys, token, body.formToken, options.now())) {
        return sendPage(reply, 403, formProblemPage('expired', context))
      }
      const action = actionOf(body)
      if (!action) return sendPage(reply, 400, formProblemPage('not-on-page', context))
      let outcome
      try {
        outcome = await preferences.act(token, action, { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500), locale })
      } catch (error) {
        if (error instanceof AppError && (error.code === 'list_not_on_page' || error.code === 'list_not_joinable')) {
          return sendPage(reply, 422, formProblemPage('not-on-page', context))
        }
        throw error
      }
      if (!outcome) return sendPage(reply, 404, invalidLinkPage())
      if (outcome.type === 'left' || outcome.type === 'leave-kept') return sendPage(reply, 200, leftPage(outcome, context))
      return sendPage(reply, 200, preferencePage((await preferences.view(token))!, context, describeOutcome(outcome, locale)))
    },
  })

  // Signup from the company's web forms (P2): JSON for scripts, the form itself for plain HTML forms.
  app.post('/subscribe', {
    config: {
      public: true,
      rateLimit: { max: options.config.signupRateLimitPerMinute, timeWindow: 60_000, keyGenerator: (request: FastifyRequest) => `signup:${request.ip}` },
    },
    schema: {
      tags: ['signup'],
      operationId: 'signup',
      summary: 'Sign up to public lists from a web form (double opt-in where the list asks for it)',
      description:
        'No token: a public endpoint for web forms and material downloads, limited per IP address (SIGNUP_RATE_LIMIT_PER_MINUTE). ' +
        'Records the consent with the notice named (stored before) and the connection’s address, or the one a proxy in TRUST_PROXY forwarded. ' +
        'A double opt-in list stays pending until the person confirms from the mail sent to them; only a POST on the link’s page confirms. ' +
        'The answer is the same whether or not the address was known. A form post (application/x-www-form-urlencoded) is answered with a page; a filled `website` field (a honeypot) is answered as usual and does nothing.',
      security: [],
      body: ref(SignupBody),
      response: { 202: ref(SignupReceived, 'Received; the same answer whether or not the address was known'), ...errorResponses(400, 422, 429) },
    },
    handler: async (request, reply) => {
      const body = request.body as Static<typeof SignupBody>
      const asForm = !request.headers['content-type']?.startsWith('application/json')
      const locale = pageLocale({ chosen: body.lang, acceptLanguage: request.headers['accept-language'] })
      // A filled honeypot is a bot: answered like anyone, and nothing happens.
      if (!body.website) {
        try {
          await signups.signup({
            email: body.email,
            name: body.name || undefined,
            lists: Array.isArray(body.lists) ? body.lists : [body.lists],
            notice: { key: body.noticeKey, version: Number(body.noticeVersion) },
            locale: body.lang,
            ip: request.ip,
            userAgent: request.headers['user-agent']?.slice(0, 500),
          })
        } catch (error) {
          if (asForm && error instanceof AppError && error.status < 500) return sendPage(reply, error.status, signupProblemPage(locale, error.message))
          throw error
        }
      }
      if (asForm) return sendPage(reply, 200, signupReceivedPage(locale))
      return reply.code(202).send({ status: 'received' })
    },
  })

  // Double opt-in: the GET shows a button and changes nothing (mail scanners open links); the POST confirms.
  app.get('/confirm/:token', {
    config: { public: true },
    schema: { hide: true, params: TokenParams, querystring: LangQuery },
    handler: async (request, reply) => {
      const { token } = request.params as { token: string }
      const state = await signups.confirmationState(token)
      if (!state) return sendPage(reply, 404, invalidLinkPage())
      const locale = pageLocale({ chosen: (request.query as { lang?: string }).lang, contactLocale: state.locale, acceptLanguage: request.headers['accept-language'] })
      return sendPage(reply, 200, confirmPage(state, locale, `/confirm/${encodeURIComponent(token)}`))
    },
  })

  app.post('/confirm/:token', {
    config: { public: true },
    schema: { hide: true, params: TokenParams },
    handler: async (request, reply) => {
      const { token } = request.params as { token: string }
      if (request.headers['sec-fetch-site'] === 'cross-site') return sendPage(reply, 403, invalidLinkPage())
      const state = await signups.confirm(token, { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500) })
      if (!state) return sendPage(reply, 404, invalidLinkPage())
      const locale = pageLocale({ contactLocale: state.locale, acceptLanguage: request.headers['accept-language'] })
      return sendPage(reply, 200, confirmPage(state, locale, `/confirm/${encodeURIComponent(token)}`))
    },
  })
}
