-- CreateEnum
CREATE TYPE "segment_type" AS ENUM ('USER', 'CHANNEL');

-- CreateEnum
CREATE TYPE "campaign_status" AS ENUM ('DRAFT', 'SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'STOPPED', 'FAILED');

-- CreateEnum
CREATE TYPE "sender_mode" AS ENUM ('EXCLUDE', 'INCLUDE');

-- CreateEnum
CREATE TYPE "recipient_status" AS ENUM ('PENDING', 'SENT', 'ERRORED', 'SKIPPED');

-- CreateTable
CREATE TABLE "segments" (
    "id" TEXT NOT NULL,
    "type" "segment_type" NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "filter" JSONB,
    "all_users" BOOLEAN NOT NULL DEFAULT false,
    "all_sender_channels" BOOLEAN NOT NULL DEFAULT false,
    "cached_size" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segment_targets" (
    "segment_id" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segment_targets_pkey" PRIMARY KEY ("segment_id","target_id")
);

-- CreateTable
CREATE TABLE "campaigns" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "status" "campaign_status" NOT NULL DEFAULT 'DRAFT',
    "failure_reason" TEXT,
    "sender_id" TEXT,
    "sender_mode" "sender_mode",
    "user_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "message_template" JSONB NOT NULL,
    "channel_template" JSONB,
    "create_channels" BOOLEAN NOT NULL DEFAULT false,
    "skip_push" BOOLEAN NOT NULL DEFAULT false,
    "skip_webhook" BOOLEAN NOT NULL DEFAULT false,
    "scheduled_for" TIMESTAMPTZ(3),
    "stop_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "stopped_at" TIMESTAMPTZ(3),
    "recipients_total" INTEGER NOT NULL DEFAULT 0,
    "messages_sent" INTEGER NOT NULL DEFAULT 0,
    "messages_errored" INTEGER NOT NULL DEFAULT 0,
    "recipients_skipped" INTEGER NOT NULL DEFAULT 0,
    "channels_created" INTEGER NOT NULL DEFAULT 0,
    "users_sent" INTEGER NOT NULL DEFAULT 0,
    "users_read" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_segments" (
    "campaign_id" TEXT NOT NULL,
    "segment_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "campaign_segments_pkey" PRIMARY KEY ("campaign_id","segment_id")
);

-- CreateTable
CREATE TABLE "recipients" (
    "id" TEXT NOT NULL DEFAULT (gen_random_uuid())::text,
    "campaign_id" TEXT NOT NULL,
    "user_id" TEXT,
    "channel_cid" TEXT,
    "status" "recipient_status" NOT NULL DEFAULT 'PENDING',
    "message_id" TEXT,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "sent_at" TIMESTAMPTZ(3),
    "read_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recipients_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "segments_created_at_id_idx" ON "segments"("created_at", "id");

-- CreateIndex
CREATE INDEX "segments_name_idx" ON "segments"("name");

-- CreateIndex
CREATE INDEX "segment_targets_target_id_idx" ON "segment_targets"("target_id");

-- CreateIndex
CREATE INDEX "campaigns_created_at_id_idx" ON "campaigns"("created_at", "id");

-- CreateIndex
CREATE INDEX "campaigns_status_idx" ON "campaigns"("status");

-- CreateIndex
CREATE INDEX "campaigns_sender_id_idx" ON "campaigns"("sender_id");

-- CreateIndex
CREATE INDEX "campaigns_scheduled_for_idx" ON "campaigns"("scheduled_for");

-- CreateIndex
CREATE INDEX "campaign_segments_segment_id_idx" ON "campaign_segments"("segment_id");

-- CreateIndex
CREATE INDEX "recipients_campaign_id_status_id_idx" ON "recipients"("campaign_id", "status", "id");

-- CreateIndex
CREATE INDEX "recipients_user_id_idx" ON "recipients"("user_id");

-- CreateIndex
CREATE INDEX "recipients_channel_cid_idx" ON "recipients"("channel_cid");

-- CreateIndex
CREATE INDEX "recipients_message_id_idx" ON "recipients"("message_id");

-- CreateIndex
CREATE INDEX "recipients_created_at_id_idx" ON "recipients"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "recipients_campaign_id_user_id_key" ON "recipients"("campaign_id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "recipients_campaign_id_channel_cid_key" ON "recipients"("campaign_id", "channel_cid");

-- AddForeignKey
ALTER TABLE "segment_targets" ADD CONSTRAINT "segment_targets_segment_id_fkey" FOREIGN KEY ("segment_id") REFERENCES "segments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_sender_id_fkey" FOREIGN KEY ("sender_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_segments" ADD CONSTRAINT "campaign_segments_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_segments" ADD CONSTRAINT "campaign_segments_segment_id_fkey" FOREIGN KEY ("segment_id") REFERENCES "segments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipients" ADD CONSTRAINT "recipients_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipients" ADD CONSTRAINT "recipients_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipients" ADD CONSTRAINT "recipients_channel_cid_fkey" FOREIGN KEY ("channel_cid") REFERENCES "channels"("cid") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipients" ADD CONSTRAINT "recipients_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE SET NULL ON UPDATE CASCADE;
