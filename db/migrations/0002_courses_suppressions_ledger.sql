CREATE TYPE "public"."decision_outcome" AS ENUM('allowed', 'blocked');--> statement-breakpoint
CREATE TYPE "public"."delivery_status" AS ENUM('queued', 'sending', 'sent', 'failed', 'skipped');--> statement-breakpoint
CREATE TYPE "public"."enrollment_status" AS ENUM('active', 'completed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."message_kind" AS ENUM('course', 'transactional', 'newsletter', 'marketing');--> statement-breakpoint
CREATE TYPE "public"."suppression_reason" AS ENUM('unsubscribe', 'objection', 'complaint', 'bounce', 'erasure', 'manual');--> statement-breakpoint
CREATE TYPE "public"."suppression_scope" AS ENUM('global', 'list', 'purpose', 'all-mail');--> statement-breakpoint
CREATE TABLE "courses" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"category" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "courses_ends_after_start" CHECK ("courses"."ends_at" > "courses"."starts_at")
);
--> statement-breakpoint
CREATE TABLE "enrollments" (
	"id" text PRIMARY KEY NOT NULL,
	"course_id" text NOT NULL,
	"contact_id" uuid NOT NULL,
	"status" "enrollment_status" NOT NULL,
	"keep_data_after_course" boolean DEFAULT false NOT NULL,
	"marketing_opt_out" boolean NOT NULL,
	"enrolled_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deferred_unsubscribes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"contact_id" uuid NOT NULL,
	"list_id" uuid NOT NULL,
	"source" "consent_source" NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"requested_by_id" text NOT NULL,
	"applied_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"contact_id" uuid,
	"address_hash" text NOT NULL,
	"scope" "suppression_scope" NOT NULL,
	"reason" "suppression_reason" NOT NULL,
	"list_id" uuid,
	"purpose" text,
	"note" text,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" text NOT NULL,
	"created_by_name" text,
	"created_by_role" "actor_role",
	"lifted_at" timestamp with time zone,
	"lifted_by_id" text,
	"lifted_by_name" text,
	"lift_reason" text,
	CONSTRAINT "suppressions_list_scope" CHECK (("suppressions"."scope" = 'list') = ("suppressions"."list_id" is not null)),
	CONSTRAINT "suppressions_purpose_scope" CHECK (("suppressions"."scope" = 'purpose') = ("suppressions"."purpose" is not null)),
	CONSTRAINT "suppressions_lift_reason" CHECK ("suppressions"."lifted_at" is null or "suppressions"."lift_reason" is not null)
);
--> statement-breakpoint
CREATE TABLE "send_ledger" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"message_id" text NOT NULL,
	"contact_id" uuid,
	"address_hash" text NOT NULL,
	"kind" "message_kind" NOT NULL,
	"list_id" uuid,
	"course_id" text,
	"campaign_id" uuid,
	"template_version" text,
	"decision" "decision_outcome" NOT NULL,
	"basis" "legal_basis",
	"evidence_type" text,
	"evidence_id" text,
	"reason" text,
	"decided_at" timestamp with time zone NOT NULL,
	"delivery_status" "delivery_status" NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sent_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"last_error" text,
	CONSTRAINT "send_ledger_decision_shape" CHECK (("send_ledger"."decision" = 'allowed' and "send_ledger"."basis" is not null and "send_ledger"."evidence_id" is not null and "send_ledger"."reason" is null)
       or ("send_ledger"."decision" = 'blocked' and "send_ledger"."reason" is not null and "send_ledger"."basis" is null))
);
--> statement-breakpoint
ALTER TABLE "lists" ADD COLUMN "categories" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "lists" ADD COLUMN "course_id" text;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deferred_unsubscribes" ADD CONSTRAINT "deferred_unsubscribes_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deferred_unsubscribes" ADD CONSTRAINT "deferred_unsubscribes_list_id_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppressions" ADD CONSTRAINT "suppressions_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppressions" ADD CONSTRAINT "suppressions_list_id_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "send_ledger" ADD CONSTRAINT "send_ledger_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "enrollments_contact_idx" ON "enrollments" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "enrollments_course_idx" ON "enrollments" USING btree ("course_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "deferred_unsubscribes_open_key" ON "deferred_unsubscribes" USING btree ("contact_id","list_id") WHERE "deferred_unsubscribes"."applied_at" is null;--> statement-breakpoint
CREATE INDEX "suppressions_address_hash_idx" ON "suppressions" USING btree ("address_hash");--> statement-breakpoint
CREATE INDEX "suppressions_contact_idx" ON "suppressions" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "suppressions_created_at_id_idx" ON "suppressions" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "send_ledger_message_id_key" ON "send_ledger" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "send_ledger_contact_idx" ON "send_ledger" USING btree ("contact_id","decided_at","id");--> statement-breakpoint
CREATE INDEX "send_ledger_campaign_idx" ON "send_ledger" USING btree ("campaign_id","decided_at","id");--> statement-breakpoint
CREATE INDEX "send_ledger_list_idx" ON "send_ledger" USING btree ("list_id","decided_at","id");--> statement-breakpoint
CREATE INDEX "send_ledger_decided_at_idx" ON "send_ledger" USING btree ("decided_at","id");--> statement-breakpoint
ALTER TABLE "lists" ADD CONSTRAINT "lists_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lists_course_key" ON "lists" USING btree ("course_id");--> statement-breakpoint
ALTER TABLE "lists" ADD CONSTRAINT "lists_course_kind" CHECK (("lists"."kind" = 'course') = ("lists"."course_id" is not null));