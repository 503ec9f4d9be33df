-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "materialized_through" TEXT;
