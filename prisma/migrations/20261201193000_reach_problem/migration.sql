-- AlterTable
ALTER TABLE "sync_ledger" ADD COLUMN     "reach_problem" TEXT;
