CREATE TYPE "public"."block_reason" AS ENUM('hard_bounce', 'erased', 'manual_block', 'objection', 'complaint', 'unsubscribed', 'not_enrolled', 'enrollment_ended', 'enrollment_cancelled', 'not_subscribed', 'subscription_pending', 'no_consent', 'consent_withdrawn', 'no_marketing_basis', 'not_transactional', 'list_archived');--> statement-breakpoint
CREATE TYPE "public"."evidence_type" AS ENUM('consent_event', 'enrollment', 'list', 'suppression', 'subscription');--> statement-breakpoint
CREATE TABLE "token_revocations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"jti" text,
	"subject" text,
	"issued_up_to" timestamp with time zone,
	"reason" text NOT NULL,
	"revoked_at" timestamp with time zone NOT NULL,
	"revoked_by_id" text NOT NULL,
	"revoked_by_name" text,
	"revoked_by_role" "actor_role",
	CONSTRAINT "token_revocations_one_target" CHECK (("token_revocations"."jti" is not null and "token_revocations"."subject" is null and "token_revocations"."issued_up_to" is null)
       or ("token_revocations"."jti" is null and "token_revocations"."subject" is not null and "token_revocations"."issued_up_to" is not null))
);
--> statement-breakpoint
ALTER TABLE "send_ledger" ALTER COLUMN "evidence_type" SET DATA TYPE "public"."evidence_type" USING "evidence_type"::"public"."evidence_type";--> statement-breakpoint
ALTER TABLE "send_ledger" ALTER COLUMN "reason" SET DATA TYPE "public"."block_reason" USING "reason"::"public"."block_reason";--> statement-breakpoint
CREATE UNIQUE INDEX "token_revocations_jti_key" ON "token_revocations" USING btree ("jti");--> statement-breakpoint
CREATE INDEX "token_revocations_subject_idx" ON "token_revocations" USING btree ("subject","issued_up_to");--> statement-breakpoint
CREATE INDEX "token_revocations_revoked_at_id_idx" ON "token_revocations" USING btree ("revoked_at","id");--> statement-breakpoint
-- Suppressions are records of what a person or staff said: never deleted, never
-- rewritten. Only the lift columns are set, once; contact_id may only become
-- null (the contact's erasure, through the foreign key), never name someone else.
CREATE FUNCTION refuse_suppression_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'suppressions are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.id, NEW.address_hash, NEW.scope, NEW.reason, NEW.list_id, NEW.purpose, NEW.note, NEW.expires_at,
      NEW.created_at, NEW.created_by_id, NEW.created_by_name, NEW.created_by_role)
     IS DISTINCT FROM
     (OLD.id, OLD.address_hash, OLD.scope, OLD.reason, OLD.list_id, OLD.purpose, OLD.note, OLD.expires_at,
      OLD.created_at, OLD.created_by_id, OLD.created_by_name, OLD.created_by_role) THEN
    RAISE EXCEPTION 'suppressions are never rewritten, only lifted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL THEN
    RAISE EXCEPTION 'a suppression never moves to another contact' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.lifted_at IS NOT NULL
     AND (NEW.lifted_at, NEW.lifted_by_id, NEW.lifted_by_name, NEW.lift_reason)
         IS DISTINCT FROM (OLD.lifted_at, OLD.lifted_by_id, OLD.lifted_by_name, OLD.lift_reason) THEN
    RAISE EXCEPTION 'a suppression is lifted once' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER suppressions_lift_only BEFORE UPDATE OR DELETE ON suppressions
  FOR EACH ROW EXECUTE FUNCTION refuse_suppression_rewrite();
--> statement-breakpoint
CREATE TRIGGER suppressions_no_truncate BEFORE TRUNCATE ON suppressions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
-- The send ledger's contact_id may only become null (erasure), never name someone else.
CREATE OR REPLACE FUNCTION refuse_send_ledger_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'send_ledger rows are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.id, NEW.message_id, NEW.kind, NEW.list_id, NEW.course_id, NEW.campaign_id, NEW.template_version,
      NEW.decision, NEW.basis, NEW.evidence_type, NEW.evidence_id, NEW.reason, NEW.decided_at, NEW.address_hash)
     IS DISTINCT FROM
     (OLD.id, OLD.message_id, OLD.kind, OLD.list_id, OLD.course_id, OLD.campaign_id, OLD.template_version,
      OLD.decision, OLD.basis, OLD.evidence_type, OLD.evidence_id, OLD.reason, OLD.decided_at, OLD.address_hash) THEN
    RAISE EXCEPTION 'send_ledger decisions are immutable' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL THEN
    RAISE EXCEPTION 'a send_ledger row never moves to another contact' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER token_revocations_append_only BEFORE UPDATE OR DELETE ON token_revocations
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
CREATE TRIGGER token_revocations_no_truncate BEFORE TRUNCATE ON token_revocations
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
