-- Local change detection (issue 4), deletion holds and failure cool-down (issue 3).

-- sync_ledger: what the service last settled for each contact.
--   crm_hash       fingerprint of the CRM row (and the normalisation rules) that CHeKT was last made equal to,
--                  or that was last skipped as invalid; a tick plans only rows whose fingerprint differs.
--   failed_hash    fingerprint of the CRM row whose operation failed for good, and failed_at when: the row is
--                  tried again only when it changes or after FAILED_RETRY_COOLDOWN_SECONDS.
--   pending_since  when a change of this contact was first planned and not yet applied (freshness).
ALTER TABLE "sync_ledger"
  ADD COLUMN "crm_hash" TEXT,
  ADD COLUMN "failed_hash" TEXT,
  ADD COLUMN "failed_at" TIMESTAMPTZ(6),
  ADD COLUMN "pending_since" TIMESTAMPTZ(6);
CREATE INDEX "sync_ledger_pending_since_idx" ON "sync_ledger" ("pending_since") WHERE "pending_since" IS NOT NULL;

-- sync_runs: changes (CRM against the ledger, no CHeKT list) or reconcile (against CHeKT's live lists);
-- approve_deletes lifts deletion holds for the run's sites.
ALTER TABLE "sync_runs"
  ADD COLUMN "mode" TEXT NOT NULL DEFAULT 'reconcile',
  ADD COLUMN "approve_deletes" BOOLEAN NOT NULL DEFAULT false;

-- Add before remove: a delete waits while creates of its site, or of its contact on another site, are queued.
CREATE INDEX "sync_operations_queued_site_idx" ON "sync_operations" ("chekt_dealer_id", "chekt_site_id") WHERE "outcome" = 'queued';
CREATE INDEX "sync_operations_queued_contact_idx" ON "sync_operations" ("external_contact_id") WHERE "outcome" = 'queued';
-- Settling an operation counts its run's queued operations (capped): one index entry per queued operation.
CREATE INDEX "sync_operations_queued_run_idx" ON "sync_operations" ("run_id") WHERE "outcome" = 'queued';

-- Sites whose deletes are held until an operator approves them (npm run sync -- --site d/s --approve-deletes).
CREATE TABLE "sync_holds" (
  "chekt_dealer_id" TEXT NOT NULL,
  "chekt_site_id" TEXT NOT NULL,
  "reason" TEXT NOT NULL,
  "deletes" INTEGER NOT NULL,
  "managed" INTEGER NOT NULL,
  "run_id" UUID,
  "held_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT "sync_holds_pkey" PRIMARY KEY ("chekt_dealer_id", "chekt_site_id")
);

-- Near real time: every committed change of a CRM contact or site notifies the CRM site id on channel
-- chekt_contact_sync (PostgreSQL drops identical notifications within one transaction, so a bulk load
-- sends one per site). A moved contact notifies both sites.
CREATE OR REPLACE FUNCTION chekt_contact_sync_notify_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('chekt_contact_sync', NEW.site_id);
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.site_id IS DISTINCT FROM NEW.site_id) THEN
    PERFORM pg_notify('chekt_contact_sync', OLD.site_id);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION chekt_contact_sync_notify_site() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('chekt_contact_sync', OLD.id);
  ELSE
    PERFORM pg_notify('chekt_contact_sync', NEW.id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER chekt_contact_sync_contacts AFTER INSERT OR UPDATE OR DELETE ON "contacts"
  FOR EACH ROW EXECUTE FUNCTION chekt_contact_sync_notify_contact();
CREATE TRIGGER chekt_contact_sync_sites AFTER INSERT OR UPDATE OR DELETE ON "sites"
  FOR EACH ROW EXECUTE FUNCTION chekt_contact_sync_notify_site();
