-- AlterTable
ALTER TABLE "sync_runs" ADD COLUMN     "crm_read_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "sync_operations" ADD COLUMN     "chekt_contact_id" TEXT,
ADD COLUMN     "crm_site_id" TEXT,
ADD COLUMN     "reason" TEXT;
