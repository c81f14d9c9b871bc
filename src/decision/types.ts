// The vocabulary of the send decision: what it is asked, the facts it is
// given, and the closed set of answers. Pure types; no I/O anywhere here.
import type { ConsentEventType, ConsentSource, LegalBasis, ListKind, SubscriptionStatus } from '../../db/schema/enums.js'

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
} as const
export type SuppressionReason = (typeof SuppressionReason)[keyof typeof SuppressionReason]

export const EnrollmentStatus = { active: 'active', completed: 'completed', cancelled: 'cancelled' } as const
export type EnrollmentStatus = (typeof EnrollmentStatus)[keyof typeof EnrollmentStatus]

/** Why a message is blocked: a closed set, stable across versions (clients match on it). */
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
} as const
export type BlockReason = (typeof BlockReason)[keyof typeof BlockReason]

export const EvidenceType = {
  consentEvent: 'consent_event',
  enrollment: 'enrollment',
  list: 'list',
  suppression: 'suppression',
  subscription: 'subscription',
} as const
export type EvidenceType = (typeof EvidenceType)[keyof typeof EvidenceType]

export interface Evidence {
  type: EvidenceType
  id: string
}

export interface ListFacts {
  id: string
  kind: ListKind
  purpose: string
  basis: LegalBasis
  doubleOptIn: boolean
  archived: boolean
  /** Marketing lists: the course categories the list is about (existing-customer rule). */
  categories: string[]
  /** Course lists: the course they belong to. */
  courseId: string | null
}

export interface SubscriptionFacts {
  id: string
  status: SubscriptionStatus
}

export interface ConsentEventFacts {
  id: string
  type: ConsentEventType
  basis: LegalBasis
  /** null: purpose-wide (e.g. an objection to all marketing). */
  listId: string | null
  purpose: string
  source: ConsentSource
  occurredAt: Date
}

export interface EnrollmentFacts {
  id: string
  courseId: string
  courseCategory: string
  courseEndsAt: Date
  status: EnrollmentStatus
  /** When the purchase was made: the existing-customer window counts from here. */
  enrolledAt: Date
  /** True: declined marketing when the address was collected. */
  marketingOptOut: boolean
}

export interface SuppressionFacts {
  id: string
  scope: SuppressionScope
  reason: SuppressionReason
  listId: string | null
  purpose: string | null
  createdAt: Date
  expiresAt: Date | null
  liftedAt: Date | null
}

/**
 * Everything the decision needs about one recipient and one message, loaded
 * beforehand. `contactId` is null when the address belongs to no contact: only
 * address-keyed suppressions are known then.
 */
export interface DecisionFacts {
  kind: MessageKind
  contactId: string | null
  /** The list the message goes to (newsletter, marketing, transactional); for course mail, the course list if any. */
  list: ListFacts | null
  /** Course mail: the course the message is about. */
  courseId: string | null
  subscription: SubscriptionFacts | null
  /** This contact's consent events for the list and for its purpose, oldest first. */
  consentEvents: ConsentEventFacts[]
  /** All of this contact's enrollments. */
  enrollments: EnrollmentFacts[]
  /** Suppressions matching the contact or its address hash, lifted and expired ones included. */
  suppressions: SuppressionFacts[]
}

export interface DecisionPolicy {
  /** Existing-customer rule: a purchase counts for this many months. */
  marketingCustomerWindowMonths: number
}

export type Decision =
  | {
      allowed: true
      basis: LegalBasis
      evidence: Evidence
      /** Course mail: the person cannot opt out before this time (P3). */
      lockedUntil: Date | null
    }
  | {
      allowed: false
      reason: BlockReason
      /** The row that blocks, where one does (a suppression, a withdrawal). */
      evidence: Evidence | null
      lockedUntil: null
    }
