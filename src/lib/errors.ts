// Domain errors: each carries its HTTP status and a stable, machine-readable
// code. Services throw these without knowing HTTP; the errors plugin renders
// them as application/problem+json (RFC 9457).

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra members of the problem document (RFC 9457 extension members). */
    readonly extensions: Record<string, unknown> = {},
    /** HTTP headers the answer carries (WWW-Authenticate, Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, code = 'not_found') {
    super(404, code, `${what} was not found`)
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, extensions: Record<string, unknown> = {}) {
    super(409, code, message, extensions)
  }
}

/** Well-formed input that the domain rules refuse. */
export class UnprocessableError extends AppError {
  constructor(code: string, message: string, extensions: Record<string, unknown> = {}) {
    super(422, code, message, extensions)
  }
}

export interface FieldError {
  field: string
  message: string
}

/** Input that does not have the required shape; names the fields at fault. */
export class ValidationError extends AppError {
  constructor(errors: FieldError[], code = 'validation_failed') {
    super(400, code, errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors })
  }
}

/** RFC 6750 § 3: a 401 names the scheme, and the error when a token was sent. */
const REALM = 'Bearer realm="samtykke"'
const quoted = (text: string) => `"${text.replace(/["\\]/g, "'")}"`

export class UnauthorizedError extends AppError {
  constructor(code = 'unauthorized', message = 'A valid bearer token is required') {
    // No token at all: only the scheme (§ 3.1); a bad one: error="invalid_token".
    const challenge = code === 'unauthorized' ? REALM : `${REALM}, error="invalid_token", error_description=${quoted(message)}`
    super(401, code, message, {}, { 'www-authenticate': challenge })
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Your role may not do this') {
    super(403, 'forbidden', message, {}, { 'www-authenticate': `${REALM}, error="insufficient_scope"` })
  }
}

/** Too many requests; says after how many seconds to come back. */
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests; try again later') {
    super(429, 'rate_limited', message, { retryAfter: retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) })
  }
}
