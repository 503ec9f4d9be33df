-- Smaller writes into the indexes every campaign message and channel touches at a random
-- place (keyed by hashed channel ids), where a large campaign spends most of the database's
-- time (see README, Performance).
--
-- messages(channel_cid, created_at, id) → (channel_cid, created_at): a channel's messages
-- page is still read in index order, the rare equal created_at sorted by id on the way
-- (incremental sort); the entries lose the ~80-byte message id and are half as large, so
-- the index has half the leaves to split and to log after each checkpoint.
-- DropIndex
DROP INDEX "messages_channel_cid_created_at_id_idx";

-- CreateIndex
CREATE INDEX "messages_channel_cid_created_at_idx" ON "messages"("channel_cid", "created_at");

-- channels(custom) GIN without its pending list: a channel created with no custom data
-- still adds an (empty) entry, and with fastupdate each insert locked and rewrote the
-- index's metapage (pg_waldump: 100,000 UPDATE_META_PAGE records, 17 MB of WAL per 100,000
-- new channels) and one batch in a while merged the whole list into the tree. Direct
-- insertion appends to the empty entries' posting tree instead. Searches are unchanged.
ALTER INDEX "channels_custom_idx" SET (fastupdate = off);
