// The closed sets of the domain — kinds, bases, statuses, sources, roles,
// reasons, scopes — defined once. Pure: no Drizzle, no I/O. db/schema mirrors
// each one as a Postgres enum, route schemas as a JSON-schema enum, and the
// rest of src imports them from here.

/** The values of one closed set, as a non-empty tuple (what pgEnum and JSON schema want). */
export const valuesOf = <T extends Record<string, string>>(set: T) => Object.values(set) as [T[keyof T], ...T[keyof T][]]

export const Locale = { nb: 'nb', en: 'en' } as const
export type Locale = (typeof Locale)[keyof typeof Locale]

export const ListKind = {
  newsletter: 'newsletter',
  marketing: 'marketing',
  course: 'course',
  transactional: 'transactional',
} as const
export type ListKind = (typeof ListKind)[keyof typeof ListKind]

export const LegalBasis = {
  consent: 'consent',
  legitimateInterest: 'legitimate_interest',
  contract: 'contract',
  legalObligation: 'legal_obligation',
} as const
export type LegalBasis = (typeof LegalBasis)[keyof typeof LegalBasis]

export const SubscriptionStatus = {
  pending: 'pending',
  active: 'active',
  unsubscribed: 'unsubscribed',
} as const
export type SubscriptionStatus = (typeof SubscriptionStatus)[keyof typeof SubscriptionStatus]

export const ConsentEventType = {
  granted: 'granted',
  confirmed: 'confirmed',
  withdrawn: 'withdrawn',
  objected: 'objected',
} as const
export type ConsentEventType = (typeof ConsentEventType)[keyof typeof ConsentEventType]

export const ConsentSource = {
  form: 'form',
  api: 'api',
  link: 'link',
  import: 'import',
  enrollment: 'enrollment',
  staff: 'staff',
  /** A spam complaint the person made in their mailbox (a feedback loop, a provider's event): an objection. */
  complaint: 'complaint',
} as const
export type ConsentSource = (typeof ConsentSource)[keyof typeof ConsentSource]

/** The roles a bearer token can carry. `provider`: a mail server or email provider reporting bounces and complaints, and nothing else. */
export const Role = { courseSystem: 'course-system', staff: 'staff', admin: 'admin', provider: 'provider' } as const
export type Role = (typeof Role)[keyof typeof Role]

/** Who can act, as ledgers and the audit log record it: a token's role, or a subscriber through a signed link. */
export const ActorRole = { ...Role, subscriber: 'subscriber' } as const
export type ActorRole = (typeof ActorRole)[keyof typeof ActorRole]

export const MessageKind = {
  course: 'course',
  transactional: 'transactional',
  newsletter: 'newsletter',
  marketing: 'marketing',
} as const
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind]

export const SuppressionScope = {
  /** Every list except course and transactional mail. */
  global: 'global',
  list: 'list',
  /** Every list with this purpose (or of this kind: purpose "marketing" covers every marketing list). */
  purpose: 'purpose',
  /** Everything, transactional and course mail included (a hard bounce). */
  allMail: 'all-mail',
} as const
export type SuppressionScope = (typeof SuppressionScope)[keyof typeof SuppressionScope]

export const SuppressionReason = {
  unsubscribe: 'unsubscribe',
  objection: 'objection',
  complaint: 'complaint',
  bounce: 'bounce',
  erasure: 'erasure',
  manual: 'manual',
  /** Art. 18: processing restricted (all mail stops) while a request says so; only that request lifts it. */
  restriction: 'restriction',
} as const
export type SuppressionReason = (typeof SuppressionReason)[keyof typeof SuppressionReason]

export const EnrollmentStatus = { active: 'active', completed: 'completed', cancelled: 'cancelled' } as const
export type EnrollmentStatus = (typeof EnrollmentStatus)[keyof typeof EnrollmentStatus]

/** Why a message is blocked: stable across versions (clients match on it). */
export const BlockReason = {
  hardBounce: 'hard_bounce',
  erased: 'erased',
  manualBlock: 'manual_block',
  objection: 'objection',
  complaint: 'complaint',
  unsubscribed: 'unsubscribed',
  notEnrolled: 'not_enrolled',
  enrollmentEnded: 'enrollment_ended',
  enrollmentCancelled: 'enrollment_cancelled',
  notSubscribed: 'not_subscribed',
  subscriptionPending: 'subscription_pending',
  noConsent: 'no_consent',
  consentWithdrawn: 'consent_withdrawn',
  noMarketingBasis: 'no_marketing_basis',
  notTransactional: 'not_transactional',
  listArchived: 'list_archived',
  /** The person's processing is restricted (GDPR art. 18). */
  restricted: 'restricted',
} as const
export type BlockReason = (typeof BlockReason)[keyof typeof BlockReason]

/** What kind of row an answer stands on. */
export const EvidenceType = {
  consentEvent: 'consent_event',
  enrollment: 'enrollment',
  list: 'list',
  suppression: 'suppression',
  subscription: 'subscription',
} as const
export type EvidenceType = (typeof EvidenceType)[keyof typeof EvidenceType]

/** The rules of the decision table, each a stable id; decide.ts says each in words (RULE_TEXT). */
export const DecisionRule = {
  /** An all-mail suppression (a hard bounce) stops every message. */
  allMailSuppression: 'all_mail_suppression',
  /** A suppression in force covers the list, and no newer consent of the person's own speaks over it. */
  suppressed: 'suppressed',
  notEnrolled: 'not_enrolled',
  contractErased: 'contract_erased',
  courseContract: 'course_contract',
  notTransactionalList: 'not_transactional_list',
  /** Transactional mail is made only from a template an admin declared transactional. */
  notTransactionalTemplate: 'not_transactional_template',
  listArchived: 'list_archived',
  transactionalList: 'transactional_list',
  notSubscribed: 'not_subscribed',
  subscriptionNotActive: 'subscription_not_active',
  noConsentInForce: 'no_consent_in_force',
  consentInForce: 'consent_in_force',
  existingCustomer: 'existing_customer',
  noMarketingBasis: 'no_marketing_basis',
} as const
export type DecisionRule = (typeof DecisionRule)[keyof typeof DecisionRule]

export const DecisionOutcome = { allowed: 'allowed', blocked: 'blocked' } as const
export type DecisionOutcome = (typeof DecisionOutcome)[keyof typeof DecisionOutcome]

/** When a decision was taken: when the message was queued, or again just before it was handed to SMTP. */
export const DecisionStage = { enqueue: 'enqueue', delivery: 'delivery' } as const
export type DecisionStage = (typeof DecisionStage)[keyof typeof DecisionStage]

/** What happened to a message at delivery, appended as it happens. */
export const DeliveryEventType = {
  /** The SMTP server took it (or the outbox wrote it). */
  accepted: 'accepted',
  /** A temporary failure (4xx, a connection error): tried again later. */
  deferred: 'deferred',
  /** A permanent failure (5xx), or too many temporary ones. */
  failed: 'failed',
  /** A permanent failure that says the address does not exist: a hard bounce. */
  bounced: 'bounced',
  /** The decision at delivery blocked it: never handed to SMTP. */
  blocked: 'blocked',
  /** Its campaign's send-by deadline passed before it went out. */
  expired: 'expired',
  /** Its campaign was cancelled before it went out. */
  cancelled: 'cancelled',
  /**
   * A worker died while handing it to SMTP: the server may have taken it, so
   * the next attempt may deliver it twice. Marked so it can be counted.
   */
  interrupted: 'interrupted',
  /** Queued once more after it failed (a campaign's retry-failed). */
  requeued: 'requeued',
  /** A report came back that the recipient's server took it. */
  delivered: 'delivered',
  /** A report came back of a temporary failure after our relay took it (mailbox full, try later). */
  softBounced: 'soft_bounced',
  /** A report came back that the recipient's side refused it for policy (5.7.x): about us, not the address. */
  policyBlocked: 'policy_blocked',
  /** The recipient reported it as spam. */
  complained: 'complained',
} as const
export type DeliveryEventType = (typeof DeliveryEventType)[keyof typeof DeliveryEventType]

/** Where a message is, from its delivery events. */
export const MessageStatus = {
  queued: 'queued',
  sent: 'sent',
  deferred: 'deferred',
  failed: 'failed',
  bounced: 'bounced',
  blocked: 'blocked',
  expired: 'expired',
  cancelled: 'cancelled',
} as const
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus]

/**
 * Where a campaign is. draft → sending (start) or scheduled (start with a
 * time) → sending ⇄ paused → finished; anything not finished → cancelled.
 */
export const CampaignStatus = {
  draft: 'draft',
  scheduled: 'scheduled',
  sending: 'sending',
  paused: 'paused',
  finished: 'finished',
  cancelled: 'cancelled',
} as const
export type CampaignStatus = (typeof CampaignStatus)[keyof typeof CampaignStatus]

/** Why a campaign paused itself: the mailbox providers' published limits were passed. Null: staff paused it. */
export const CampaignPauseReason = {
  /** Complaints reached 0.3% of delivered messages. */
  complaintRate: 'complaint_rate',
  /** Hard bounces passed 5% of delivered messages. */
  bounceRate: 'bounce_rate',
} as const
export type CampaignPauseReason = (typeof CampaignPauseReason)[keyof typeof CampaignPauseReason]

/** What became of a report that came back: applied to its message, or rejected (kept a while, for inspection). */
export const ReturnOutcome = { applied: 'applied', rejected: 'rejected' } as const
export type ReturnOutcome = (typeof ReturnOutcome)[keyof typeof ReturnOutcome]

/** What a report did, by the return rules (src/returns/rules.ts). */
export const ReturnEffect = {
  /** The address does not exist (5.1.x, 5.2.1, a provider's permanent bounce): all mail suppressed. */
  hardBounce: 'hard_bounce',
  /** A temporary failure; enough of them on separate days suppress too. */
  softBounce: 'soft_bounce',
  /** Refused for policy (5.7.x and the like): recorded on the message, the address stays. */
  policyBlock: 'policy_block',
  /** A spam complaint: newsletter and marketing suppressed, an objection recorded. */
  complaint: 'complaint',
  /** Delivered: ends a run of soft bounces. */
  delivered: 'delivered',
} as const
export type ReturnEffect = (typeof ReturnEffect)[keyof typeof ReturnEffect]

/** What a data-subject request asks for (GDPR art. 15–18, 20, 21). */
export const RequestType = {
  access: 'access',
  portability: 'portability',
  rectification: 'rectification',
  erasure: 'erasure',
  /** Art. 18: stop all processing but storage. */
  restriction: 'restriction',
  /** Art. 21: to direct marketing, absolute. */
  objection: 'objection',
} as const
export type RequestType = (typeof RequestType)[keyof typeof RequestType]

/** Where a request is: open → in_progress → completed or refused. */
export const RequestStatus = {
  open: 'open',
  inProgress: 'in_progress',
  completed: 'completed',
  refused: 'refused',
} as const
export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus]

/** How the request reached us. */
export const RequestChannel = {
  email: 'email',
  letter: 'letter',
  phone: 'phone',
  inPerson: 'in_person',
  /** The person asked on the preference page (from a link in a message). */
  preferencePage: 'preference_page',
} as const
export type RequestChannel = (typeof RequestChannel)[keyof typeof RequestChannel]

/** Where an import of subscribers (src/imports) is: running → completed, rejected (all or nothing, with invalid rows), failed, or interrupted (its process stopped). */
export const ImportStatus = {
  running: 'running',
  completed: 'completed',
  /** All or nothing was asked and some rows are invalid: nothing was applied. */
  rejected: 'rejected',
  failed: 'failed',
  /** The process running it stopped (or its lease ran out) before it finished. */
  interrupted: 'interrupted',
} as const
export type ImportStatus = (typeof ImportStatus)[keyof typeof ImportStatus]

/** What an import is doing: checking every row first (all or nothing), or applying them. */
export const ImportPhase = { checking: 'checking', applying: 'applying' } as const
export type ImportPhase = (typeof ImportPhase)[keyof typeof ImportPhase]

/** Whose export an import file is, by its header: each tool names its columns its own way. */
export const ImportFormat = { mailchimp: 'mailchimp', listmonk: 'listmonk', mailtrain: 'mailtrain', generic: 'generic' } as const
export type ImportFormat = (typeof ImportFormat)[keyof typeof ImportFormat]

/** What became of one row of an import file: a stable code each, reported by line number (never by address). */
export const ImportRowCode = {
  /** Put on the list, with the consent evidence in the ledger (in a dry run: would be). */
  added: 'added',
  /** Already on the list (active or waiting for confirmation): nothing changed. */
  alreadySubscribed: 'already_subscribed',
  // Kept out: the address is never (re-)added.
  /** The address was erased (an erasure suppression by its keyed hash). */
  erased: 'erased',
  /** The person objected to direct marketing (an objection in the consent ledger, or its suppression). */
  objected: 'objected',
  /** The person left this list; only their own new consent brings them back. */
  leftList: 'left_list',
  /** A suppression in force covers the list (unsubscribe, complaint, bounce, manual block, restriction). */
  suppressed: 'suppressed',
  /** The file itself says the person is not subscribed there (unsubscribed, cleaned, blocklisted, bounced…). */
  notSubscribedInSource: 'not_subscribed_in_source',
  // Invalid rows.
  missingEmail: 'missing_email',
  invalidEmail: 'invalid_email',
  invalidDate: 'invalid_date',
  dateInFuture: 'date_in_future',
  missingList: 'missing_list',
  unknownList: 'unknown_list',
  /** A course, transactional or archived list: imports fill newsletter and marketing lists only. */
  listNotImportable: 'list_not_importable',
  /** The same address for the same list earlier in the file. */
  duplicateInFile: 'duplicate_in_file',
  invalidStatus: 'invalid_status',
  invalidIp: 'invalid_ip',
  fieldTooLong: 'field_too_long',
  /** A NUL byte or text that is not Unicode. */
  invalidText: 'invalid_text',
} as const
export type ImportRowCode = (typeof ImportRowCode)[keyof typeof ImportRowCode]
