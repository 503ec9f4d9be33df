-- Fewer index entries per delivered recipient (measured with bench/delivery.ts: each index
-- costs every channel, message or recipient write of a campaign).
--
-- A channel's cid is its type and id joined by ':' (types have no ':'), so the primary key
-- on cid is already unique per (type, id): the CHECK states it, the second index goes.
-- DropIndex
DROP INDEX "channels_type_id_key";

ALTER TABLE "channels" ADD CONSTRAINT "channels_cid_is_type_id" CHECK ("cid" = "type" || ':' || "id");

-- Nothing but tests reads messages by campaign.
-- DropIndex
DROP INDEX "messages_campaign_id_idx";

-- A recipient is a user or a channel: its audience key leaves out the NULL of the other
-- kind (a user recipient no longer writes a (NULL, campaign) entry twice, on insert and on
-- its delivery update). Uniqueness is the same (NULLs never conflicted); the foreign keys'
-- ON DELETE and read tracking look up non-NULL ids, which the partial indexes still serve.
DROP INDEX "recipients_user_id_campaign_id_key";
CREATE UNIQUE INDEX "recipients_user_id_campaign_id_key" ON "recipients"("user_id", "campaign_id") WHERE "user_id" IS NOT NULL;
DROP INDEX "recipients_channel_cid_campaign_id_key";
CREATE UNIQUE INDEX "recipients_channel_cid_campaign_id_key" ON "recipients"("channel_cid", "campaign_id") WHERE "channel_cid" IS NOT NULL;
