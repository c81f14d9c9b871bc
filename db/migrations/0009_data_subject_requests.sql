CREATE TYPE "public"."request_channel" AS ENUM('email', 'letter', 'phone', 'in_person', 'preference_page');--> statement-breakpoint
CREATE TYPE "public"."request_status" AS ENUM('open', 'in_progress', 'completed', 'refused');--> statement-breakpoint
CREATE TYPE "public"."request_type" AS ENUM('access', 'portability', 'rectification', 'erasure', 'restriction', 'objection');--> statement-breakpoint
ALTER TYPE "public"."block_reason" ADD VALUE 'restricted';--> statement-breakpoint
ALTER TYPE "public"."suppression_reason" ADD VALUE 'restriction';--> statement-breakpoint
CREATE TABLE "data_subject_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"type" "request_type" NOT NULL,
	"status" "request_status" NOT NULL,
	"channel" "request_channel" NOT NULL,
	"contact_id" uuid,
	"address_hash" text NOT NULL,
	"details" text,
	"received_at" timestamp with time zone NOT NULL,
	"due_on" date NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"due_limit" text NOT NULL,
	"due_soon_at" timestamp with time zone,
	"restriction_id" uuid,
	"outcome" text,
	"closed_at" timestamp with time zone,
	"closed_by_id" text,
	"closed_by_name" text,
	"created_at" timestamp with time zone NOT NULL,
	"created_by_id" text NOT NULL,
	"created_by_name" text,
	"created_by_role" "actor_role",
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "data_subject_requests_closed" CHECK (("data_subject_requests"."status" in ('completed', 'refused')) = ("data_subject_requests"."closed_at" is not null)),
	CONSTRAINT "data_subject_requests_due_limit" CHECK ("data_subject_requests"."due_limit" in ('working_days', 'one_month'))
);
--> statement-breakpoint
ALTER TABLE "data_subject_requests" ADD CONSTRAINT "data_subject_requests_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "data_subject_requests_open_due_idx" ON "data_subject_requests" USING btree ("due_at","id") WHERE "data_subject_requests"."closed_at" is null;--> statement-breakpoint
CREATE INDEX "data_subject_requests_created_idx" ON "data_subject_requests" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "data_subject_requests_contact_idx" ON "data_subject_requests" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "data_subject_requests_address_hash_idx" ON "data_subject_requests" USING btree ("address_hash");