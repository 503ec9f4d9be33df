-- DropIndex
DROP INDEX "recipients_created_at_id_idx";

-- CreateIndex
CREATE INDEX "recipients_campaign_id_created_at_id_idx" ON "recipients"("campaign_id", "created_at", "id");
