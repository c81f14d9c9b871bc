-- Contact search (ilike '%q%') is served by trigram indexes. pg_trgm is a
-- trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE TABLE "audit_personal_values" (
	"audit_event_id" uuid PRIMARY KEY NOT NULL,
	"contact_id" uuid,
	"changes" jsonb
);
--> statement-breakpoint
ALTER TABLE "consent_events" DROP CONSTRAINT "consent_events_contact_id_contacts_id_fk";
--> statement-breakpoint
ALTER TABLE "consent_events" ALTER COLUMN "contact_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "changed_fields" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "consent_events" ADD COLUMN "address_hash" text;--> statement-breakpoint
ALTER TABLE "audit_personal_values" ADD CONSTRAINT "audit_personal_values_audit_event_id_audit_events_id_fk" FOREIGN KEY ("audit_event_id") REFERENCES "public"."audit_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_personal_values" ADD CONSTRAINT "audit_personal_values_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_personal_values_contact_idx" ON "audit_personal_values" USING btree ("contact_id");--> statement-breakpoint
ALTER TABLE "consent_events" ADD CONSTRAINT "consent_events_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "contacts_email_trgm_idx" ON "contacts" USING gin ("email" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "contacts_name_trgm_idx" ON "contacts" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "subscriptions_list_created_idx" ON "subscriptions" USING btree ("list_id","created_at","id");--> statement-breakpoint
CREATE INDEX "consent_events_address_hash_idx" ON "consent_events" USING btree ("address_hash");--> statement-breakpoint
CREATE INDEX "deferred_unsubscribes_open_idx" ON "deferred_unsubscribes" USING btree ("requested_at","id") WHERE "deferred_unsubscribes"."applied_at" is null;--> statement-breakpoint
-- The values of earlier audit entries move to audit_personal_values, with the
-- contact they are about; the entry keeps the names of the fields that changed.
INSERT INTO "audit_personal_values" ("audit_event_id", "contact_id", "changes")
  SELECT e."id", c."id", e."changes"
  FROM "audit_events" e
  LEFT JOIN "contacts" c ON c."id"::text = CASE
    WHEN e."entity_type" = 'contact' THEN e."entity_id"
    WHEN jsonb_typeof(e."changes" -> 'contactId') = 'object' THEN e."changes" -> 'contactId' ->> 'to'
    ELSE e."changes" ->> 'contactId'
  END
  WHERE e."changes" IS NOT NULL;
--> statement-breakpoint
ALTER TABLE "audit_events" DISABLE TRIGGER "audit_events_append_only";
--> statement-breakpoint
UPDATE "audit_events" SET "changed_fields" = ARRAY(SELECT jsonb_object_keys("changes"))
  WHERE jsonb_typeof("changes") = 'object';
--> statement-breakpoint
ALTER TABLE "audit_events" ENABLE TRIGGER "audit_events_append_only";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "changes";
--> statement-breakpoint
-- Records that erasure can redact. An append-only table allows exactly one kind
-- of UPDATE: setting the personal columns named as the trigger's arguments to
-- null. Any other change, DELETE and TRUNCATE are refused.
CREATE FUNCTION allow_only_redaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_row jsonb := to_jsonb(OLD);
  new_row jsonb := to_jsonb(NEW);
  col text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'table % is append-only: DELETE refused', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  FOR col IN SELECT jsonb_object_keys(new_row) LOOP
    IF new_row -> col IS DISTINCT FROM old_row -> col AND NOT (col = ANY (TG_ARGV) AND new_row -> col = 'null'::jsonb) THEN
      RAISE EXCEPTION 'table % is append-only: UPDATE refused (only redaction, setting % to null, is allowed; % would change)',
        TG_TABLE_NAME, array_to_string(TG_ARGV, ', '), col USING ERRCODE = 'insufficient_privilege';
    END IF;
  END LOOP;
  RETURN NEW;
END
$$;
--> statement-breakpoint
DROP TRIGGER "consent_events_append_only" ON "consent_events";
--> statement-breakpoint
CREATE TRIGGER "consent_events_redaction_only" BEFORE UPDATE OR DELETE ON "consent_events"
  FOR EACH ROW EXECUTE FUNCTION allow_only_redaction('contact_id', 'ip', 'user_agent', 'evidence');
--> statement-breakpoint
CREATE TRIGGER "audit_personal_values_redaction_only" BEFORE UPDATE OR DELETE ON "audit_personal_values"
  FOR EACH ROW EXECUTE FUNCTION allow_only_redaction('contact_id', 'changes');
--> statement-breakpoint
CREATE TRIGGER "audit_personal_values_no_truncate" BEFORE TRUNCATE ON "audit_personal_values"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
-- Suppressions: besides being lifted once, a suppression's personal columns
-- (contact_id, the free-text note) may be set to null by an erasure.
CREATE OR REPLACE FUNCTION refuse_suppression_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'suppressions are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.id, NEW.address_hash, NEW.scope, NEW.reason, NEW.list_id, NEW.purpose, NEW.expires_at,
      NEW.created_at, NEW.created_by_id, NEW.created_by_name, NEW.created_by_role)
     IS DISTINCT FROM
     (OLD.id, OLD.address_hash, OLD.scope, OLD.reason, OLD.list_id, OLD.purpose, OLD.expires_at,
      OLD.created_at, OLD.created_by_id, OLD.created_by_name, OLD.created_by_role) THEN
    RAISE EXCEPTION 'suppressions are never rewritten, only lifted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.contact_id IS DISTINCT FROM OLD.contact_id AND NEW.contact_id IS NOT NULL)
     OR (NEW.note IS DISTINCT FROM OLD.note AND NEW.note IS NOT NULL) THEN
    RAISE EXCEPTION 'a suppression never moves to another contact or gets another note; they may only be redacted to null'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.lifted_at IS NOT NULL
     AND (NEW.lifted_at, NEW.lifted_by_id, NEW.lifted_by_name, NEW.lift_reason)
         IS DISTINCT FROM (OLD.lifted_at, OLD.lifted_by_id, OLD.lifted_by_name, OLD.lift_reason) THEN
    RAISE EXCEPTION 'a suppression is lifted once' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;