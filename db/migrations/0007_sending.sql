-- The send ledger becomes proof only: its delivery columns go (delivery is the
-- queue and the delivery events), and its rows allow only redaction.
DROP TRIGGER "send_ledger_immutable" ON "send_ledger";
--> statement-breakpoint
DROP FUNCTION refuse_send_ledger_rewrite();
--> statement-breakpoint
CREATE TYPE "public"."decision_stage" AS ENUM('enqueue', 'delivery');--> statement-breakpoint
CREATE TYPE "public"."delivery_event_type" AS ENUM('accepted', 'deferred', 'failed', 'bounced', 'blocked');--> statement-breakpoint
ALTER TYPE "public"."actor_role" ADD VALUE 'subscriber';--> statement-breakpoint
CREATE TABLE "templates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"kind" "message_kind" NOT NULL,
	"description" text,
	"subjects" jsonb NOT NULL,
	"bodies" jsonb NOT NULL,
	"variables" text[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by_id" text NOT NULL,
	"created_by_name" text,
	"created_by_role" "actor_role" NOT NULL,
	CONSTRAINT "templates_name_format" CHECK ("templates"."name" ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
	CONSTRAINT "templates_version_positive" CHECK ("templates"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" "message_kind" NOT NULL,
	"template_id" uuid NOT NULL,
	"list_id" uuid,
	"course_id" text,
	"campaign_id" uuid,
	"contact_id" uuid,
	"to_address" text,
	"address_hash" text NOT NULL,
	"locale" "locale" NOT NULL,
	"data" jsonb,
	"header_message_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by_id" text NOT NULL,
	"created_by_name" text,
	"created_by_role" "actor_role" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "send_requests" (
	"client_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"message_id" uuid NOT NULL,
	"answer" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "send_requests_client_id_idempotency_key_pk" PRIMARY KEY("client_id","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "delivery_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"message_id" uuid NOT NULL,
	"type" "delivery_event_type" NOT NULL,
	"attempt" integer NOT NULL,
	"reply" text,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "delivery_queue" (
	"message_id" uuid PRIMARY KEY NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "send_ledger_message_id_key";--> statement-breakpoint
ALTER TABLE "send_ledger" ALTER COLUMN "id" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "send_ledger" ALTER COLUMN "message_id" SET DATA TYPE uuid USING "message_id"::uuid;--> statement-breakpoint
-- Decisions recorded before this migration were all taken when queueing.
ALTER TABLE "send_ledger" ADD COLUMN "stage" "decision_stage" DEFAULT 'enqueue' NOT NULL;--> statement-breakpoint
ALTER TABLE "send_ledger" ALTER COLUMN "stage" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "templates_name_version_key" ON "templates" USING btree ("name","version");--> statement-breakpoint
CREATE INDEX "messages_contact_idx" ON "messages" USING btree ("contact_id","created_at");--> statement-breakpoint
CREATE INDEX "delivery_events_message_idx" ON "delivery_events" USING btree ("message_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "delivery_queue_due_idx" ON "delivery_queue" USING btree ("due_at");--> statement-breakpoint
-- One decision when queued; at delivery one per attempt.
CREATE UNIQUE INDEX "send_ledger_message_enqueue_key" ON "send_ledger" USING btree ("message_id") WHERE "send_ledger"."stage" = 'enqueue';--> statement-breakpoint
CREATE INDEX "send_ledger_message_idx" ON "send_ledger" USING btree ("message_id","decided_at");--> statement-breakpoint
ALTER TABLE "send_ledger" DROP COLUMN "delivery_status";--> statement-breakpoint
ALTER TABLE "send_ledger" DROP COLUMN "attempts";--> statement-breakpoint
ALTER TABLE "send_ledger" DROP COLUMN "sent_at";--> statement-breakpoint
ALTER TABLE "send_ledger" DROP COLUMN "failed_at";--> statement-breakpoint
ALTER TABLE "send_ledger" DROP COLUMN "last_error";--> statement-breakpoint
DROP TYPE "public"."delivery_status";
--> statement-breakpoint
CREATE TRIGGER "send_ledger_redaction_only" BEFORE UPDATE OR DELETE ON "send_ledger"
  FOR EACH ROW EXECUTE FUNCTION allow_only_redaction('contact_id');
--> statement-breakpoint
CREATE TRIGGER "templates_append_only" BEFORE UPDATE OR DELETE ON "templates"
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
CREATE TRIGGER "templates_no_truncate" BEFORE TRUNCATE ON "templates"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
CREATE TRIGGER "messages_redaction_only" BEFORE UPDATE OR DELETE ON "messages"
  FOR EACH ROW EXECUTE FUNCTION allow_only_redaction('contact_id', 'to_address', 'data');
--> statement-breakpoint
CREATE TRIGGER "messages_no_truncate" BEFORE TRUNCATE ON "messages"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
CREATE TRIGGER "send_requests_append_only" BEFORE UPDATE OR DELETE ON "send_requests"
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
CREATE TRIGGER "send_requests_no_truncate" BEFORE TRUNCATE ON "send_requests"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
--> statement-breakpoint
CREATE TRIGGER "delivery_events_redaction_only" BEFORE UPDATE OR DELETE ON "delivery_events"
  FOR EACH ROW EXECUTE FUNCTION allow_only_redaction('reply');
--> statement-breakpoint
CREATE TRIGGER "delivery_events_no_truncate" BEFORE TRUNCATE ON "delivery_events"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
