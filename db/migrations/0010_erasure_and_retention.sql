ALTER TABLE "enrollments" DROP CONSTRAINT "enrollments_contact_id_contacts_id_fk";
--> statement-breakpoint
ALTER TABLE "enrollments" ALTER COLUMN "contact_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "enrollments" ADD COLUMN "address_hash" text;--> statement-breakpoint
ALTER TABLE "enrollments" ADD COLUMN "payment_reference" text;--> statement-breakpoint
ALTER TABLE "data_subject_requests" ADD COLUMN "erase_after" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "enrollments_payment_reference_idx" ON "enrollments" USING btree ("enrolled_at") WHERE "enrollments"."payment_reference" is not null;--> statement-breakpoint
CREATE INDEX "data_subject_requests_erase_after_idx" ON "data_subject_requests" USING btree ("erase_after") WHERE "data_subject_requests"."erase_after" is not null and "data_subject_requests"."closed_at" is null;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_person" CHECK ("enrollments"."contact_id" is not null or "enrollments"."address_hash" is not null);