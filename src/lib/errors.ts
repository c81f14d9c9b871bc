// Domain errors: each carries its HTTP status and a stable, machine-readable
// code. Services throw these without knowing HTTP; the errors plugin renders
// them as application/problem+json (RFC 9457).

/**
 * Every code a problem document can carry: a closed set, published as an enum
 * in the OpenAPI spec so a client's switch over it can be checked for
 * completeness. An error cannot be thrown with a code that is not here.
 */
export const ErrorCode = {
  // The request as HTTP and JSON
  validationFailed: 'validation_failed',
  invalidText: 'invalid_text',
  tooDeeplyNested: 'too_deeply_nested',
  malformedJson: 'malformed_json',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  badContentLength: 'bad_content_length',
  badContentType: 'bad_content_type',
  badUrl: 'bad_url',
  uriTooLong: 'uri_too_long',
  headersTooLarge: 'headers_too_large',
  requestTimeout: 'request_timeout',
  malformedRequest: 'malformed_request',
  badRequest: 'bad_request',
  routeNotFound: 'route_not_found',
  methodNotAllowed: 'method_not_allowed',
  rateLimited: 'rate_limited',
  /** The count of failed authentications could not be read or written (the database did not answer): authentication is refused until it can. */
  authLimitUnavailable: 'auth_limit_unavailable',
  internalError: 'internal_error',
  // The service itself (GET /ready, and any request while it stops)
  /** GET /ready: a check failed (the database, its migrations, the delivery workers or the job engine); the problem lists them. */
  notReady: 'not_ready',
  /** The process is stopping (SIGTERM): try another instance. */
  shuttingDown: 'shutting_down',
  // Who is asking
  unauthorized: 'unauthorized',
  tokenInvalid: 'token_invalid',
  tokenExpired: 'token_expired',
  tokenRevoked: 'token_revoked',
  forbidden: 'forbidden',
  // Things that are not there
  contactNotFound: 'contact_not_found',
  listNotFound: 'list_not_found',
  courseNotFound: 'course_not_found',
  enrollmentNotFound: 'enrollment_not_found',
  subscriptionNotFound: 'subscription_not_found',
  suppressionNotFound: 'suppression_not_found',
  noticeNotFound: 'notice_not_found',
  revocationNotFound: 'revocation_not_found',
  templateNotFound: 'template_not_found',
  messageNotFound: 'message_not_found',
  campaignNotFound: 'campaign_not_found',
  /** A subscriber link whose token does not verify: says nothing more. */
  linkInvalid: 'link_invalid',
  // What the domain refuses
  invalidEmail: 'invalid_email',
  emailTaken: 'email_taken',
  attributesTooLarge: 'attributes_too_large',
  slugTaken: 'slug_taken',
  basisFollowsKind: 'basis_follows_kind',
  basisNotTransactional: 'basis_not_transactional',
  categoriesNeedMarketing: 'categories_need_marketing',
  courseListViaCourse: 'course_list_via_course',
  courseListManagedByEnrollments: 'course_list_managed_by_enrollments',
  listArchived: 'list_archived',
  sourceReserved: 'source_reserved',
  consentRequired: 'consent_required',
  explicitConsentRequired: 'explicit_consent_required',
  subscriptionNotPending: 'subscription_not_pending',
  optoutLockedByEnrollment: 'optout_locked_by_enrollment',
  noticeVersionExists: 'notice_version_exists',
  courseEndsBeforeStart: 'course_ends_before_start',
  enrollmentCourseChanged: 'enrollment_course_changed',
  enrollmentContactChanged: 'enrollment_contact_changed',
  reasonReserved: 'reason_reserved',
  listScopeNeedsList: 'list_scope_needs_list',
  purposeScopeNeedsPurpose: 'purpose_scope_needs_purpose',
  expiryInPast: 'expiry_in_past',
  recipientRequired: 'recipient_required',
  recipientAmbiguous: 'recipient_ambiguous',
  suppressionNotLiftable: 'suppression_not_liftable',
  suppressionAlreadyLifted: 'suppression_already_lifted',
  /** A suppression file made under another pepper: its hashes would match nobody here. */
  pepperMismatch: 'pepper_mismatch',
  /** A suppression file without its header, of another format or version, or (all or nothing) with lines that cannot be imported. */
  suppressionFileInvalid: 'suppression_file_invalid',
  courseRequired: 'course_required',
  listRequired: 'list_required',
  kindListMismatch: 'kind_list_mismatch',
  messageIdTaken: 'message_id_taken',
  invalidRange: 'invalid_range',
  revocationTargetRequired: 'revocation_target_required',
  revocationTargetAmbiguous: 'revocation_target_ambiguous',
  invalidTemplate: 'invalid_template',
  templateLocalesMismatch: 'template_locales_mismatch',
  templateKindChanged: 'template_kind_changed',
  templateKindMismatch: 'template_kind_mismatch',
  templateDataMissing: 'template_data_missing',
  templateVersionConflict: 'template_version_conflict',
  idempotencyKeyReused: 'idempotency_key_reused',
  /** A campaign goes to a newsletter or marketing list. */
  campaignListKind: 'campaign_list_kind',
  /** start, pause, resume, cancel or retry-failed where the campaign's state does not allow it. */
  campaignTransitionInvalid: 'campaign_transition_invalid',
  /** A preference-page choice about a list the page does not offer the person. */
  listNotOnPage: 'list_not_on_page',
  /** Course mail follows enrollments; it cannot be joined from the preference page. */
  listNotJoinable: 'list_not_joinable',
  /** A form post without a valid form token from a page we served (CSRF). */
  formExpired: 'form_expired',
  /** A signup that names no public list, or a list that takes no signups. */
  signupListUnknown: 'signup_list_unknown',
  /** notAfter before scheduledAt, or a scheduledAt in the past. */
  campaignScheduleInvalid: 'campaign_schedule_invalid',
  /** A list purpose the processing register does not know. */
  purposeUnknown: 'purpose_unknown',
  /** A purpose the register does not let serve this kind of list, or on another legal basis. */
  purposeMismatch: 'purpose_mismatch',
  requestNotFound: 'request_not_found',
  /** A step on a request that was completed or refused already. */
  requestClosed: 'request_closed',
  /** A request registered with a receipt time in the future. */
  receivedInFuture: 'received_in_future',
  /** An erasure request is completed by POST /v1/contacts/{id}/erase, not by completing it. */
  erasureByErase: 'erasure_by_erase',
  requestTypeMismatch: 'request_type_mismatch',
  requestContactMismatch: 'request_contact_mismatch',
  /** Lifting a restriction where no restriction request put one in force. */
  noRestriction: 'no_restriction',
  /** An erasure while the person is on a running course (course mail is part of the contract); it can be scheduled. */
  erasureDuringEnrollment: 'erasure_during_enrollment',
  /** A scheduled erasure needs the erasure request it carries out. */
  scheduleNeedsRequest: 'schedule_needs_request',
  processorNoticeNotFound: 'processor_notice_not_found',
  /** A step on a processor notice that was delivered or done already. */
  noticeClosed: 'notice_closed',
  /** A retry of a notice that has not failed. */
  noticeNotFailed: 'notice_not_failed',
  // Reports that come back (bounces, complaints, deliveries)
  /** Not MIME, not JSON: nothing could be read. */
  reportUnparsable: 'report_unparsable',
  /** Readable, but not the report the route takes (a DSN at the ARF route, a plain message). */
  reportNotAReport: 'report_not_a_report',
  /** The provider's signature, credentials or return-path token do not verify, or the provider is not configured. */
  reportSignatureInvalid: 'report_signature_invalid',
  reportTooLarge: 'report_too_large',
  /** It names no message we sent. */
  reportUnmatched: 'report_unmatched',
  /** It names one address about a message to another. */
  reportRecipientMismatch: 'report_recipient_mismatch',
  // Imports of subscribers (src/imports)
  importNotFound: 'import_not_found',
  /** The upload is not CSV text (another media type, or binary content). */
  importNotCsv: 'import_not_csv',
  /** The file's header has no column the address can be read from (mapped by default or by `mapping`). */
  importNoEmailColumn: 'import_no_email_column',
  /** A mapping that names a column the file lacks, or a field there is not. */
  importMappingInvalid: 'import_mapping_invalid',
  /** A course, transactional or archived list: imports fill newsletter and marketing lists only. */
  listNotImportable: 'list_not_importable',
  /** The CSV breaks off (a quote never closed, a record over the size limit): nothing after it was read. */
  importMalformedCsv: 'import_malformed_csv',
  /** The process running the import stopped before it finished. */
  importInterrupted: 'import_interrupted',
  // Webhooks (src/webhooks)
  webhookEndpointNotFound: 'webhook_endpoint_not_found',
  webhookEventNotFound: 'webhook_event_not_found',
  /** Not https, or http to a host that is not loopback (or loopback where the configuration does not allow it), or a URL with credentials. */
  webhookUrlNotAllowed: 'webhook_url_not_allowed',
  /** A replay to a disabled endpoint: enable it first (its pending deliveries resume then). */
  webhookEndpointDisabled: 'webhook_endpoint_disabled',
  /** A replay of an event whose type the endpoint does not subscribe to. */
  webhookEventNotSubscribed: 'webhook_event_not_subscribed',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
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
  constructor(what: string, code: ErrorCode) {
    super(404, code, `${what} was not found`)
  }
}

export class ConflictError extends AppError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(409, code, message, extensions)
  }
}

/** Well-formed input that the domain rules refuse. */
export class UnprocessableError extends AppError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(422, code, message, extensions)
  }
}

export interface FieldError {
  field: string
  message: string
}

/** Input that does not have the required shape; names the fields at fault. */
export class ValidationError extends AppError {
  constructor(errors: FieldError[], code: ErrorCode = 'validation_failed') {
    super(400, code, errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors })
  }
}

/** RFC 6750 § 3: a 401 names the scheme, and the error when a token was sent. */
const REALM = 'Bearer realm="samtykke"'
const quoted = (text: string) => `"${text.replace(/["\\]/g, "'")}"`

export class UnauthorizedError extends AppError {
  constructor(code: ErrorCode = 'unauthorized', message = 'A valid bearer token is required') {
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

/** A limit that must hold could not be checked: refused rather than let through uncounted. */
export class LimitUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'auth_limit_unavailable', message)
  }
}

/** Too many requests; says after how many seconds to come back. */
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests; try again later') {
    super(429, 'rate_limited', message, { retryAfter: retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) })
  }
}
