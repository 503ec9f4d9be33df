-- CreateTable
CREATE TABLE "webhook_outbox" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seq" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "campaign_id" TEXT NOT NULL,
    "payload" JSON NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_outbox_next_attempt_at_idx" ON "webhook_outbox"("next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_outbox_campaign_id_seq_idx" ON "webhook_outbox"("campaign_id", "seq");
