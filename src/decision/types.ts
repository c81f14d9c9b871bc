// The shapes of the send decision: the facts it is given and the answer it
// gives. Pure types; the closed sets they use live in src/vocabulary.ts.
import type {
  BlockReason,
  DecisionRule,
  ConsentEventType,
  ConsentSource,
  EnrollmentStatus,
  EvidenceType,
  LegalBasis,
  ListKind,
  MessageKind,
  SubscriptionStatus,
  SuppressionReason,
  SuppressionScope,
} from '../vocabulary.js'

export interface Evidence {
  type: EvidenceType
  id: string
}

export interface ListFacts {
  id: string
  kind: ListKind
  purpose: string
  basis: LegalBasis
  archived: boolean
  /** Marketing lists: the course categories the list is about (existing-customer rule). */
  categories: string[]
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

/** The template a message is made from. */
export interface TemplateFacts {
  id: string
  /** What the template was declared as; only an admin may declare one transactional. */
  kind: MessageKind
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
  /** The list the message goes to (newsletter, marketing, transactional); for course mail, the course list if any. */
  list: ListFacts | null
  /** Course mail: the course the message is about. */
  courseId: string | null
  subscription: SubscriptionFacts | null
  /** This contact's consent events, oldest first; the decision reads those that bear on the list. */
  consentEvents: ConsentEventFacts[]
  /** All of this contact's enrollments. */
  enrollments: EnrollmentFacts[]
  /** Suppressions matching the contact or its address hash, lifted and expired ones included. */
  suppressions: SuppressionFacts[]
  /** The template the message is made from; absent when the question names none (POST /v1/decisions). */
  template?: TemplateFacts | null
}

/** The rules' settings from configuration (Config has them under the same names, so a config is a policy). */
export interface DecisionPolicy {
  /** Existing-customer rule: a purchase counts for this many months. */
  marketingCustomerWindowMonths: number
}

/**
 * What the decision looked at and which rule decided: every id names a row
 * of the facts it was given, so an explanation can show those rows and
 * nothing it did not read.
 */
export interface DecisionTrace {
  rule: DecisionRule
  /** The subscription to the list, if the rule read one. */
  subscription: string | null
  /** The consent events that bore on the list by then (for the list, or purpose-wide), oldest first. */
  consentEvents: string[]
  /** The consent grant for the list in force, if any. */
  consentGrant: string | null
  /** The suppressions in force that cover this message; `overriddenBy` names the person's own newer consent that speaks over one. */
  suppressions: { id: string; overriddenBy: string | null }[]
  /** The enrollments the rule read: those in the course (course mail) or in the list's categories (marketing). */
  enrollments: string[]
}

type Answer =
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

export type Decision = Answer & { trace: DecisionTrace }
