-- CreateTable
CREATE TABLE "sites" (
    "id" TEXT NOT NULL,
    "chekt_dealer_id" TEXT NOT NULL,
    "chekt_site_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sync_enabled" BOOLEAN NOT NULL DEFAULT true,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contacts" (
    "id" TEXT NOT NULL,
    "site_id" TEXT NOT NULL,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT NOT NULL,
    "phone_number" TEXT,
    "email" TEXT,
    "deleted_at" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_ledger" (
    "chekt_dealer_id" TEXT NOT NULL,
    "chekt_site_id" TEXT NOT NULL,
    "external_contact_id" TEXT NOT NULL,
    "chekt_contact_id" TEXT,
    "last_sent" JSONB,
    "last_sent_hash" TEXT,
    "last_kind" TEXT,
    "last_outcome" TEXT,
    "last_error" TEXT,
    "last_run_id" UUID,
    "synced_at" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_ledger_pkey" PRIMARY KEY ("chekt_dealer_id","chekt_site_id","external_contact_id")
);

-- CreateTable
CREATE TABLE "sync_runs" (
    "id" UUID NOT NULL,
    "trigger" TEXT NOT NULL,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "sites" JSONB NOT NULL DEFAULT '[]',
    "status" TEXT NOT NULL,
    "planned" JSONB,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "planned_at" TIMESTAMPTZ(6),
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "sync_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_operations" (
    "run_id" UUID NOT NULL,
    "op_key" TEXT NOT NULL,
    "chekt_dealer_id" TEXT NOT NULL,
    "chekt_site_id" TEXT NOT NULL,
    "external_contact_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "applied_kind" TEXT,
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "sync_operations_pkey" PRIMARY KEY ("run_id","op_key")
);

-- CreateIndex
CREATE UNIQUE INDEX "sites_chekt_dealer_id_chekt_site_id_key" ON "sites"("chekt_dealer_id", "chekt_site_id");

-- CreateIndex
CREATE INDEX "contacts_site_id_idx" ON "contacts"("site_id");

-- CreateIndex
CREATE INDEX "sync_runs_started_at_idx" ON "sync_runs"("started_at");

-- CreateIndex
CREATE INDEX "sync_operations_op_key_outcome_idx" ON "sync_operations"("op_key", "outcome");

-- AddForeignKey
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sync_operations" ADD CONSTRAINT "sync_operations_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
