CREATE TABLE "processor_notices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"processor_id" text NOT NULL,
	"type" text NOT NULL,
	"method" text NOT NULL,
	"status" text NOT NULL,
	"request_id" uuid,
	"contact_id" uuid,
	"address_hash" text NOT NULL,
	"payment_references" text[] DEFAULT '{}'::text[] NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	"done_by_id" text,
	"done_by_name" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "processor_notices_type" CHECK ("processor_notices"."type" in ('erasure', 'rectification')),
	CONSTRAINT "processor_notices_method" CHECK ("processor_notices"."method" in ('webhook', 'manual')),
	CONSTRAINT "processor_notices_status" CHECK ("processor_notices"."status" in ('pending', 'delivered', 'failed', 'manual', 'done'))
);
--> statement-breakpoint
ALTER TABLE "processor_notices" ADD CONSTRAINT "processor_notices_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "processor_notices_due_idx" ON "processor_notices" USING btree ("next_attempt_at") WHERE "processor_notices"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "processor_notices_request_idx" ON "processor_notices" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "processor_notices_open_idx" ON "processor_notices" USING btree ("created_at","id") WHERE "processor_notices"."status" in ('pending', 'manual', 'failed');