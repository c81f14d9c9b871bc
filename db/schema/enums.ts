// Postgres enums mirrored by `as const` objects, so TypeScript and the database
// agree on every closed set of values.
import { pgEnum } from 'drizzle-orm/pg-core'
import {
  BlockReason,
  EnrollmentStatus,
  EvidenceType,
  MessageKind,
  SuppressionReason,
  SuppressionScope,
} from '../../src/decision/types.js'

const values = <T extends Record<string, string>>(o: T) => Object.values(o) as [T[keyof T], ...T[keyof T][]]

export const Locale = { nb: 'nb', en: 'en' } as const
export type Locale = (typeof Locale)[keyof typeof Locale]
export const localeEnum = pgEnum('locale', values(Locale))

export const ListKind = {
  newsletter: 'newsletter',
  marketing: 'marketing',
  course: 'course',
  transactional: 'transactional',
} as const
export type ListKind = (typeof ListKind)[keyof typeof ListKind]
export const listKindEnum = pgEnum('list_kind', values(ListKind))

export const LegalBasis = {
  consent: 'consent',
  legitimateInterest: 'legitimate_interest',
  contract: 'contract',
  legalObligation: 'legal_obligation',
} as const
export type LegalBasis = (typeof LegalBasis)[keyof typeof LegalBasis]
export const legalBasisEnum = pgEnum('legal_basis', values(LegalBasis))

export const SubscriptionStatus = {
  pending: 'pending',
  active: 'active',
  unsubscribed: 'unsubscribed',
} as const
export type SubscriptionStatus = (typeof SubscriptionStatus)[keyof typeof SubscriptionStatus]
export const subscriptionStatusEnum = pgEnum('subscription_status', values(SubscriptionStatus))

export const ConsentEventType = {
  granted: 'granted',
  confirmed: 'confirmed',
  withdrawn: 'withdrawn',
  objected: 'objected',
} as const
export type ConsentEventType = (typeof ConsentEventType)[keyof typeof ConsentEventType]
export const consentEventTypeEnum = pgEnum('consent_event_type', values(ConsentEventType))

export const ConsentSource = {
  form: 'form',
  api: 'api',
  link: 'link',
  import: 'import',
  enrollment: 'enrollment',
  staff: 'staff',
} as const
export type ConsentSource = (typeof ConsentSource)[keyof typeof ConsentSource]
export const consentSourceEnum = pgEnum('consent_source', values(ConsentSource))

export const Role = { courseSystem: 'course-system', staff: 'staff', admin: 'admin' } as const
export type Role = (typeof Role)[keyof typeof Role]
export const roleEnum = pgEnum('actor_role', values(Role))

// The decision's closed sets are defined once, in src/decision/types.ts (pure); these mirror them.
export const messageKindEnum = pgEnum('message_kind', values(MessageKind))
export const suppressionScopeEnum = pgEnum('suppression_scope', values(SuppressionScope))
export const suppressionReasonEnum = pgEnum('suppression_reason', values(SuppressionReason))
export const enrollmentStatusEnum = pgEnum('enrollment_status', values(EnrollmentStatus))
export const decisionOutcomeEnum = pgEnum('decision_outcome', ['allowed', 'blocked'])
export const blockReasonEnum = pgEnum('block_reason', values(BlockReason))
export const evidenceTypeEnum = pgEnum('evidence_type', values(EvidenceType))

export const DeliveryStatus = {
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  failed: 'failed',
  /** Blocked at decision time: never handed to SMTP. */
  skipped: 'skipped',
} as const
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus]
export const deliveryStatusEnum = pgEnum('delivery_status', values(DeliveryStatus))
