CREATE TYPE "public"."campaign_status" AS ENUM('draft', 'scheduled', 'sending', 'paused', 'finished', 'cancelled');--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'expired';--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'cancelled';--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'interrupted';--> statement-breakpoint
ALTER TYPE "public"."delivery_event_type" ADD VALUE 'requeued';--> statement-breakpoint
CREATE TABLE "campaigns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"list_id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"data" jsonb NOT NULL,
	"status" "campaign_status" NOT NULL,
	"scheduled_at" timestamp with time zone,
	"not_after" timestamp with time zone,
	"fanout_after" uuid,
	"fanout_done_at" timestamp with time zone,
	"fanout_owner" text,
	"fanout_lease_until" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"created_by_id" text NOT NULL,
	"created_by_name" text,
	"created_by_role" "actor_role" NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "campaigns_name_length" CHECK (length("campaigns"."name") between 1 and 200),
	CONSTRAINT "campaigns_scheduled" CHECK ("campaigns"."status" <> 'scheduled' or "campaigns"."scheduled_at" is not null)
);
--> statement-breakpoint
ALTER TABLE "delivery_events" ADD COLUMN "campaign_id" uuid;--> statement-breakpoint
ALTER TABLE "delivery_queue" ADD COLUMN "campaign_id" uuid;--> statement-breakpoint
ALTER TABLE "delivery_queue" ADD COLUMN "handed_over_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_list_id_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaigns_created_at_id_idx" ON "campaigns" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "campaigns_status_idx" ON "campaigns" USING btree ("status","scheduled_at");--> statement-breakpoint
CREATE INDEX "subscriptions_list_contact_idx" ON "subscriptions" USING btree ("list_id","contact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "send_ledger_campaign_recipient_key" ON "send_ledger" USING btree ("campaign_id","address_hash") WHERE "send_ledger"."campaign_id" is not null and "send_ledger"."stage" = 'enqueue';--> statement-breakpoint
CREATE INDEX "messages_campaign_idx" ON "messages" USING btree ("campaign_id","id") WHERE "messages"."campaign_id" is not null;--> statement-breakpoint
CREATE INDEX "delivery_events_campaign_idx" ON "delivery_events" USING btree ("campaign_id","type") WHERE "delivery_events"."campaign_id" is not null;--> statement-breakpoint
CREATE INDEX "delivery_queue_campaign_idx" ON "delivery_queue" USING btree ("campaign_id");--> statement-breakpoint
-- uuidv7 (RFC 9562) for the rows a campaign's fan-out inserts in bulk: the
-- same time-ordered ids src/lib/ids.ts makes in the app (PostgreSQL 15 has no
-- uuidv7()). 48 bits of Unix milliseconds, version 7, variant 10, random rest.
CREATE FUNCTION samtykke_uuidv7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;
