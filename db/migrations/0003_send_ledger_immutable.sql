-- The send ledger is the proof of every decision: rows are never deleted and
-- their decision columns never change. Only the delivery columns move, since
-- the ledger is also the delivery queue.
CREATE FUNCTION refuse_send_ledger_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'send_ledger rows are never deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.id, NEW.message_id, NEW.kind, NEW.list_id, NEW.course_id, NEW.campaign_id, NEW.template_version,
      NEW.decision, NEW.basis, NEW.evidence_type, NEW.evidence_id, NEW.reason, NEW.decided_at, NEW.address_hash)
     IS DISTINCT FROM
     (OLD.id, OLD.message_id, OLD.kind, OLD.list_id, OLD.course_id, OLD.campaign_id, OLD.template_version,
      OLD.decision, OLD.basis, OLD.evidence_type, OLD.evidence_id, OLD.reason, OLD.decided_at, OLD.address_hash) THEN
    RAISE EXCEPTION 'send_ledger decisions are immutable' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER send_ledger_immutable BEFORE UPDATE OR DELETE ON send_ledger
  FOR EACH ROW EXECUTE FUNCTION refuse_send_ledger_rewrite();
--> statement-breakpoint
CREATE TRIGGER send_ledger_no_truncate BEFORE TRUNCATE ON send_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
