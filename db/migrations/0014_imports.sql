CREATE TYPE "public"."import_format" AS ENUM('mailchimp', 'listmonk', 'mailtrain', 'generic');--> statement-breakpoint
CREATE TYPE "public"."import_phase" AS ENUM('checking', 'applying');--> statement-breakpoint
CREATE TYPE "public"."import_row_code" AS ENUM('added', 'already_subscribed', 'erased', 'objected', 'left_list', 'suppressed', 'not_subscribed_in_source', 'missing_email', 'invalid_email', 'invalid_date', 'date_in_future', 'missing_list', 'unknown_list', 'list_not_importable', 'duplicate_in_file', 'invalid_status', 'invalid_ip', 'field_too_long', 'invalid_text');--> statement-breakpoint
CREATE TYPE "public"."import_status" AS ENUM('running', 'completed', 'rejected', 'failed', 'interrupted');--> statement-breakpoint
CREATE TABLE "import_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"status" "import_status" NOT NULL,
	"phase" "import_phase" NOT NULL,
	"dry_run" boolean NOT NULL,
	"all_or_nothing" boolean NOT NULL,
	"list_id" uuid,
	"notice_id" uuid NOT NULL,
	"format" "import_format" NOT NULL,
	"columns" jsonb NOT NULL,
	"bytes_total" bigint NOT NULL,
	"bytes_read" bigint DEFAULT 0 NOT NULL,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"rows_applied" integer DEFAULT 0 NOT NULL,
	"contacts_created" integer DEFAULT 0 NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error_code" text,
	"error" text,
	"created_by_id" text NOT NULL,
	"created_by_name" text,
	"created_by_role" "actor_role",
	"created_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"leased_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "import_row_outcomes" (
	"import_id" uuid NOT NULL,
	"line" integer NOT NULL,
	"code" "import_row_code" NOT NULL,
	"detail" text,
	CONSTRAINT "import_row_outcomes_import_id_line_pk" PRIMARY KEY("import_id","line")
);
--> statement-breakpoint
-- UNLOGGED: a running import's bookkeeping, emptied when it ends; not worth a write-ahead log (see db/schema/imports.ts).
CREATE UNLOGGED TABLE "import_seen_rows" (
	"import_id" uuid NOT NULL,
	"row_key" text NOT NULL,
	"line" integer NOT NULL,
	CONSTRAINT "import_seen_rows_import_id_row_key_pk" PRIMARY KEY("import_id","row_key")
);
--> statement-breakpoint
ALTER TABLE "import_jobs" ADD CONSTRAINT "import_jobs_list_id_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "import_jobs" ADD CONSTRAINT "import_jobs_notice_id_notices_id_fk" FOREIGN KEY ("notice_id") REFERENCES "public"."notices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "import_row_outcomes" ADD CONSTRAINT "import_row_outcomes_import_id_import_jobs_id_fk" FOREIGN KEY ("import_id") REFERENCES "public"."import_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "import_jobs_created_at_id_idx" ON "import_jobs" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "import_jobs_running_idx" ON "import_jobs" USING btree ("leased_until") WHERE "import_jobs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "consent_events_objected_hash_idx" ON "consent_events" USING btree ("address_hash") WHERE "consent_events"."type" = 'objected';--> statement-breakpoint
CREATE INDEX "consent_events_objected_contact_idx" ON "consent_events" USING btree ("contact_id") WHERE "consent_events"."type" = 'objected';