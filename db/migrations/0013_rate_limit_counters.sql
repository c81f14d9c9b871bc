-- UNLOGGED: counters of the current minute are not worth a write-ahead log (see db/schema/rate-limits.ts).
CREATE UNLOGGED TABLE "rate_limit_counters" (
	"key" text PRIMARY KEY NOT NULL,
	"hits" integer NOT NULL,
	"resets_at" timestamp with time zone NOT NULL
);
