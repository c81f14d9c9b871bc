-- No query reads messages by campaign_id, and every recipient of a campaign's fan-out paid for an entry (docs/benchmarks.md, "Fan-out").
DROP INDEX "messages_campaign_idx";
