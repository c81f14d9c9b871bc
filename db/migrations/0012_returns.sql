CREATE TYPE "public"."campaign_pause_reason" AS ENUM('complaint_rate', 'bounce_rate');--> statement-breakpoint
CREATE TYPE "public"."return_effect" AS ENUM('hard_bounce', 'soft_bounce', 'policy_block', 'complaint', 'delivered');--> statement-breakpoint
CREATE TYPE "public"."return_outcome" AS ENUM('applied', 'rejected');--> statement-breakpoint
ALTER TYPE "public"."consent_source" ADD VALUE 'complaint';--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'delivered';--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'soft_bounced';--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'policy_blocked';--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'complained';--> statement-breakpoint
ALTER TYPE "public"."actor_role" ADD VALUE 'provider' BEFORE 'subscriber';--> statement-breakpoint
CREATE TABLE "return_reports" (
	"id" uuid PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"report_key_hash" text NOT NULL,
	"outcome" "return_outcome" NOT NULL,
	"rejection" text,
	"effect" "return_effect",
	"report_type" text,
	"status" text,
	"provider_type" text,
	"message_id" uuid,
	"campaign_id" uuid,
	"address_hash" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "paused_reason" "campaign_pause_reason";--> statement-breakpoint
CREATE UNIQUE INDEX "return_reports_key_idx" ON "return_reports" USING btree ("channel","report_key_hash");--> statement-breakpoint
CREATE INDEX "return_reports_address_idx" ON "return_reports" USING btree ("address_hash","occurred_at") WHERE "return_reports"."address_hash" is not null;--> statement-breakpoint
CREATE INDEX "return_reports_message_idx" ON "return_reports" USING btree ("message_id") WHERE "return_reports"."message_id" is not null;--> statement-breakpoint
CREATE INDEX "return_reports_received_idx" ON "return_reports" USING btree ("received_at","outcome");