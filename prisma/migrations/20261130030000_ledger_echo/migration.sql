-- AlterTable
ALTER TABLE "sync_ledger" ADD COLUMN     "last_echo_hash" TEXT;
