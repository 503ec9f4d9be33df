-- CreateIndex
CREATE INDEX "recipients_campaign_id_sent_at_idx" ON "recipients"("campaign_id", "sent_at");
