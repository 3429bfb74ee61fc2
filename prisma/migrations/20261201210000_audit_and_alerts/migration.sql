-- Operator console, audit trail and alerts (issue 11).

-- Every operator action (console, /api, bull-board writes), written before the action runs with outcome
-- 'started', then settled. No foreign key to runs or jobs: the trail outlives their clean-up.
CREATE TABLE "sync_audit" (
  "id" UUID NOT NULL,
  "at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "actor" TEXT NOT NULL,
  "role" TEXT NOT NULL,
  "action" TEXT NOT NULL,
  "target" TEXT NOT NULL,
  "params" JSONB NOT NULL DEFAULT '{}',
  "outcome" TEXT NOT NULL,
  "detail" TEXT,
  "finished_at" TIMESTAMPTZ(6),
  CONSTRAINT "sync_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "sync_audit_at_idx" ON "sync_audit" ("at");

-- What the alerter last announced, per state key ("hold:<dealerId>/<siteId>", "sync.behind",
-- "operations.failed"): a change is announced by the one process whose statement changes this row.
CREATE TABLE "sync_alert_state" (
  "key" TEXT NOT NULL,
  "since" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "data" JSONB,
  CONSTRAINT "sync_alert_state_pkey" PRIMARY KEY ("key")
);

-- The alert outbox: one row per state change, delivered to ALERT_WEBHOOK_URL by whichever process claims it.
CREATE TABLE "sync_alerts" (
  "id" UUID NOT NULL,
  "event" TEXT NOT NULL,
  "body" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "claimed_until" TIMESTAMPTZ(6),
  "delivered_at" TIMESTAMPTZ(6),
  "dead_at" TIMESTAMPTZ(6),
  "last_error" TEXT,
  CONSTRAINT "sync_alerts_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "sync_alerts_next_attempt_at_idx" ON "sync_alerts" ("next_attempt_at");
