-- Keys compare byte by byte: every id and reference column (and the campaign's user id list)
-- gets the "C" collation. Ids are ASCII (ID_PATTERN), so their order is the same as under
-- C.UTF-8 and stable whatever the database's default collation is; only human text (names,
-- roles, message text) keeps the default.
--
-- Why: each index entry written or probed compares keys. Under the database's default
-- collation a text comparison goes through the locale (pg_newlocale_from_collation, copies
-- into NUL-terminated buffers, strcoll); under "C" it is a memcmp. A delivery writes ~18 index
-- entries per recipient, all keyed by ids: measured on a CPU profile of PostgreSQL during
-- `bench:delivery` at 100,000 recipients, the locale comparison was ~11% of its CPU; the same
-- set-based writes on a copy with "C" keys took 5–12% less backend CPU (interleaved rounds).
-- Under an ICU or glibc language collation (en_US.UTF-8 and the like) the saving is larger.
--
-- Prisma's schema has no collation attribute and its diff ignores collations, so this lives
-- here only. Changing a column's collation keeps its data (text to text) and rebuilds the
-- indexes that use it. The triggers refusing key changes name their column and are
-- recreated around the change.

DROP TRIGGER beacon_key_never_changes ON users;
DROP TRIGGER beacon_key_never_changes ON channels;
DROP TRIGGER beacon_key_never_changes ON messages;
DROP TRIGGER beacon_key_never_changes ON campaigns;

ALTER TABLE users ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE segments ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE segment_targets
  ALTER COLUMN segment_id TYPE text COLLATE "C",
  ALTER COLUMN target_id TYPE text COLLATE "C";
ALTER TABLE campaigns
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN sender_id TYPE text COLLATE "C",
  ALTER COLUMN materialized_through TYPE text COLLATE "C",
  ALTER COLUMN user_ids TYPE text[] COLLATE "C";
ALTER TABLE campaign_segments
  ALTER COLUMN campaign_id TYPE text COLLATE "C",
  ALTER COLUMN segment_id TYPE text COLLATE "C";
ALTER TABLE channels
  ALTER COLUMN cid TYPE text COLLATE "C",
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN created_by_id TYPE text COLLATE "C";
ALTER TABLE channel_members
  ALTER COLUMN channel_cid TYPE text COLLATE "C",
  ALTER COLUMN user_id TYPE text COLLATE "C";
ALTER TABLE messages
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN channel_cid TYPE text COLLATE "C",
  ALTER COLUMN user_id TYPE text COLLATE "C",
  ALTER COLUMN campaign_id TYPE text COLLATE "C";
ALTER TABLE recipients
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN campaign_id TYPE text COLLATE "C",
  ALTER COLUMN user_id TYPE text COLLATE "C",
  ALTER COLUMN channel_cid TYPE text COLLATE "C",
  ALTER COLUMN message_id TYPE text COLLATE "C";
ALTER TABLE webhook_outbox ALTER COLUMN campaign_id TYPE text COLLATE "C";

CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF id ON users FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION beacon_refuse_key_change();
CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF cid ON channels FOR EACH ROW WHEN (OLD.cid IS DISTINCT FROM NEW.cid) EXECUTE FUNCTION beacon_refuse_key_change();
CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF id ON messages FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION beacon_refuse_key_change();
CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF id ON campaigns FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION beacon_refuse_key_change();
