// Postgres enums, one for each closed set of src/vocabulary.ts, so the
// database and TypeScript agree on every value. The sets are defined there.
import { pgEnum } from 'drizzle-orm/pg-core'
import {
  ActorRole,
  BlockReason,
  CampaignPauseReason,
  CampaignStatus,
  ConsentEventType,
  ConsentSource,
  DecisionOutcome,
  DecisionStage,
  DeliveryEventType,
  EnrollmentStatus,
  EvidenceType,
  ImportFormat,
  ImportPhase,
  ImportRowCode,
  ImportStatus,
  LegalBasis,
  ListKind,
  Locale,
  MessageKind,
  RequestChannel,
  RequestStatus,
  RequestType,
  ReturnEffect,
  ReturnOutcome,
  SubscriptionStatus,
  SuppressionReason,
  SuppressionScope,
  valuesOf,
} from '../../src/vocabulary.js'

export const localeEnum = pgEnum('locale', valuesOf(Locale))
export const listKindEnum = pgEnum('list_kind', valuesOf(ListKind))
export const legalBasisEnum = pgEnum('legal_basis', valuesOf(LegalBasis))
export const subscriptionStatusEnum = pgEnum('subscription_status', valuesOf(SubscriptionStatus))
export const consentEventTypeEnum = pgEnum('consent_event_type', valuesOf(ConsentEventType))
export const consentSourceEnum = pgEnum('consent_source', valuesOf(ConsentSource))
export const roleEnum = pgEnum('actor_role', valuesOf(ActorRole))
export const messageKindEnum = pgEnum('message_kind', valuesOf(MessageKind))
export const suppressionScopeEnum = pgEnum('suppression_scope', valuesOf(SuppressionScope))
export const suppressionReasonEnum = pgEnum('suppression_reason', valuesOf(SuppressionReason))
export const enrollmentStatusEnum = pgEnum('enrollment_status', valuesOf(EnrollmentStatus))
export const decisionOutcomeEnum = pgEnum('decision_outcome', valuesOf(DecisionOutcome))
export const blockReasonEnum = pgEnum('block_reason', valuesOf(BlockReason))
export const evidenceTypeEnum = pgEnum('evidence_type', valuesOf(EvidenceType))
export const decisionStageEnum = pgEnum('decision_stage', valuesOf(DecisionStage))
export const deliveryEventTypeEnum = pgEnum('delivery_event_type', valuesOf(DeliveryEventType))
export const campaignStatusEnum = pgEnum('campaign_status', valuesOf(CampaignStatus))
export const requestTypeEnum = pgEnum('request_type', valuesOf(RequestType))
export const requestStatusEnum = pgEnum('request_status', valuesOf(RequestStatus))
export const requestChannelEnum = pgEnum('request_channel', valuesOf(RequestChannel))
export const campaignPauseReasonEnum = pgEnum('campaign_pause_reason', valuesOf(CampaignPauseReason))
export const returnOutcomeEnum = pgEnum('return_outcome', valuesOf(ReturnOutcome))
export const returnEffectEnum = pgEnum('return_effect', valuesOf(ReturnEffect))
export const importStatusEnum = pgEnum('import_status', valuesOf(ImportStatus))
export const importPhaseEnum = pgEnum('import_phase', valuesOf(ImportPhase))
export const importFormatEnum = pgEnum('import_format', valuesOf(ImportFormat))
export const importRowCodeEnum = pgEnum('import_row_code', valuesOf(ImportRowCode))
