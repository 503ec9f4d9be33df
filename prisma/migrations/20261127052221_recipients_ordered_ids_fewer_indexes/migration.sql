-- Recipient ids become time-ordered UUIDs (version 7, RFC 9562: 48 bits of Unix
-- milliseconds, then random bits). Random version-4 ids scattered every insert and every
-- delivery update of one campaign across the whole primary key and (campaign_id, status, id);
-- ordered ids keep a campaign's rows, and a delivery batch's rows, together.
CREATE FUNCTION beacon_uuid_v7() RETURNS text LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid::text
$$;

-- The audience keys lead with the user/channel, so they also serve read tracking and the
-- foreign keys' ON DELETE, and the separate user_id / channel_cid indexes go.
-- DropIndex
DROP INDEX "recipients_campaign_id_channel_cid_key";

-- DropIndex
DROP INDEX "recipients_campaign_id_user_id_key";

-- DropIndex
DROP INDEX "recipients_channel_cid_idx";

-- DropIndex
DROP INDEX "recipients_user_id_idx";

-- AlterTable
ALTER TABLE "recipients" ALTER COLUMN "id" SET DEFAULT beacon_uuid_v7();

-- CreateIndex
CREATE UNIQUE INDEX "recipients_user_id_campaign_id_key" ON "recipients"("user_id", "campaign_id");

-- CreateIndex
CREATE UNIQUE INDEX "recipients_channel_cid_campaign_id_key" ON "recipients"("channel_cid", "campaign_id");
