// Renders every error as application/problem+json (RFC 9457) with a stable
// `code` and the request id. Stack traces, SQL and driver messages never reach
// a client: a 5xx says only that something went wrong, and the log has the rest
// (src/lib/log-redaction.ts keeps the SQL parameters out of it).
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay, { type HTTPVersion } from 'find-my-way'
import { AppError, type ErrorCode, type FieldError } from '../lib/errors.js'

export interface Problem {
  type: string
  title: string
  status: number
  code: ErrorCode
  detail?: string
  instance?: string
  requestId: string
  [extension: string]: unknown
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** The one request body type the API takes (the subscriber pages will add forms on their own routes). */
export const ACCEPTED_BODY_TYPE = 'application/json'

/** Fastify's own client errors, mapped to our stable codes. */
const FASTIFY_CODES: Record<string, { status: number; code: ErrorCode; detail?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json', detail: 'The body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', detail: 'The JSON body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', detail: 'The body is larger than the limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: `This content type is not accepted here; send ${ACCEPTED_BODY_TYPE}`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_content_length' },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, code: 'bad_content_type' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url', detail: 'The path is not valid percent-encoded UTF-8' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', detail: 'A path segment is longer than any id this API has' },
}

export function problemBody(request: FastifyRequest, status: number, code: ErrorCode, detail?: string, extra = {}): Problem {
  return {
    type: `about:blank`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    instance: request.url.split('?')[0],
    requestId: String(request.id),
    ...extra,
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json; charset=utf-8').send(problem)
}

/** Turns Ajv's messages into one entry per field, named like `body.email`. */
function fieldErrors(error: FastifyError): FieldError[] {
  const context = error.validationContext ?? 'body'
  const byField = new Map<string, string[]>()
  for (const { field, message } of ajvErrors(error, context)) {
    // A nullable or union field fails each branch; "must match a schema in anyOf" adds nothing.
    if (message === 'must match a schema in anyOf' && byField.has(field)) continue
    byField.set(field, [...(byField.get(field) ?? []), message])
  }
  return [...byField].map(([field, messages]) => ({ field, message: [...new Set(messages)].join(' or ') }))
}

function ajvErrors(error: FastifyError, context: string): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.')
    const base = path ? `${context}.${path}` : context
    if (typeof params.missingProperty === 'string') {
      return { field: `${base}.${params.missingProperty}`, message: 'is required' }
    }
    if (typeof params.additionalProperty === 'string') {
      return { field: `${base}.${params.additionalProperty}`, message: 'is not an allowed field' }
    }
    if (Array.isArray(params.allowedValues)) {
      return { field: base, message: `must be one of: ${params.allowedValues.map(String).join(', ')}` }
    }
    return { field: base, message: v.message ?? 'is invalid' }
  })
}

function toProblem(error: FastifyError, request: FastifyRequest): Problem {
  if (error instanceof AppError) {
    return problemBody(request, error.status, error.code, error.message, error.extensions)
  }
  if (error.validation) {
    const errors = fieldErrors(error)
    return problemBody(
      request,
      400,
      'validation_failed',
      errors.map((e) => `${e.field} ${e.message}`).join('; '),
      { errors },
    )
  }
  const known = error.code ? FASTIFY_CODES[error.code] : undefined
  if (known) return problemBody(request, known.status, known.code, known.detail ?? error.message)
  if (error.statusCode === 429) return problemBody(request, 429, 'rate_limited', error.message)
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return problemBody(request, error.statusCode, 'bad_request', error.message)
  }
  return problemBody(request, 500, 'internal_error', 'Something went wrong on our side; the request id helps us find it')
}

/** The methods this path answers to, from every route registered: a 405 names them in Allow. */
function methodsByPath(app: FastifyInstance) {
  const router = FindMyWay<HTTPVersion.V1>()
  const noop = () => {}
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') router.on(method as 'GET', route.url, noop)
  })
  return (path: string) =>
    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((method) => router.find(method as 'GET', path) !== null)
}

export default fp(
  async function errorsPlugin(app: FastifyInstance) {
    const allowedMethods = methodsByPath(app)
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = toProblem(error, request)
      if (error instanceof AppError) reply.headers(error.headers)
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
      else request.log.info({ code: problem.code, status: problem.status }, 'request refused')
      return sendProblem(reply, problem)
    })
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!
      const allowed = allowedMethods(path)
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '))
        return sendProblem(reply, problemBody(request, 405, 'method_not_allowed', `${path} answers ${allowed.join(', ')}, not ${request.method}`))
      }
      return sendProblem(reply, problemBody(request, 404, 'route_not_found', `No route ${request.method} ${path}`))
    })
  },
  { name: 'errors' },
)

/**
 * Errors Fastify meets before any route or hook (a path that is not valid
 * percent-encoding, a path segment over the length limit): the `frameworkErrors`
 * server option, so they get the same problem document as everything else.
 */
export const renderFrameworkError: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, request, reply) => {
  const problem = toProblem(error as FastifyError, request)
  request.log.info({ code: problem.code, status: problem.status }, 'request refused')
  void sendProblem(reply, problem)
}

/** Node's HTTP parser's own refusals, by its error code; anything else it cannot parse is a 400. */
const CLIENT_ERRORS: Record<string, { status: number; code: ErrorCode; detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', detail: 'The request line and headers are larger than the limit' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', detail: 'The request did not arrive in time' },
}

/**
 * The `clientErrorHandler` server option: a request Node's HTTP parser refuses
 * never becomes a Fastify request, so the problem document is written to the
 * socket directly and the connection closed, as Node itself does.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const known = CLIENT_ERRORS[error.code ?? '']
  const status = known?.status ?? 400
  const body = JSON.stringify({
    type: 'about:blank',
    title: TITLES[status],
    status,
    code: known?.code ?? 'malformed_request',
    detail: known?.detail ?? 'The request is not valid HTTP',
    requestId: randomUUID(),
  })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${TITLES[status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}
