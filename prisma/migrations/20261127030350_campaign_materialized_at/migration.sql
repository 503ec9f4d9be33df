-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "materialized_at" TIMESTAMPTZ(3);
