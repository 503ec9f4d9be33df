-- The references of the hot delivery tables (channels, channel_members, messages,
-- recipients) are checked per statement instead of per row. A foreign key checks every
-- inserted row with its own query and locks the row it references (FOR KEY SHARE), which
-- measured half of all the database work of a delivery (100,000 recipients in one
-- transaction: 12.7 s with the nine foreign keys below, 7.0 s with these triggers).
--
-- The same guarantees, set-based:
--   * writers: after each INSERT/UPDATE statement, one query checks that every reference of
--     the statement's rows exists (foreign_key_violation, 23503, with the same constraint
--     names as before);
--   * deleters: after each DELETE statement of a referenced table, one statement per child
--     table applies the action (CASCADE / SET NULL, as in schema.prisma);
--   * concurrency: instead of a lock on every referenced row, writers of referencing rows
--     hold a shared advisory lock for their transaction (taken before their statement
--     writes anything), and deleters of referenced rows an exclusive one (taken before the
--     first row is deleted). A delete therefore waits for the writers in flight and the writers that come
--     after it wait for its commit, then see the rows it deleted as gone.
--   * a transaction that sets `beacon.references_proved = on` (SET LOCAL) skips the checks:
--     delivery batches, which take the shared lock before their first statement and write
--     only references they read or wrote themselves in the same transaction (see
--     src/delivery/batch.ts).
--   * referenced keys never change (an UPDATE of users.id, channels.cid, messages.id or
--     campaigns.id is refused): the former ON UPDATE CASCADE never ran in Beacon.
-- Every function takes the lock key from beacon_references_lock_key().

-- DropForeignKey
ALTER TABLE "channels" DROP CONSTRAINT "channels_created_by_id_fkey";
ALTER TABLE "channel_members" DROP CONSTRAINT "channel_members_channel_cid_fkey";
ALTER TABLE "channel_members" DROP CONSTRAINT "channel_members_user_id_fkey";
ALTER TABLE "messages" DROP CONSTRAINT "messages_channel_cid_fkey";
ALTER TABLE "messages" DROP CONSTRAINT "messages_user_id_fkey";
ALTER TABLE "recipients" DROP CONSTRAINT "recipients_campaign_id_fkey";
ALTER TABLE "recipients" DROP CONSTRAINT "recipients_user_id_fkey";
ALTER TABLE "recipients" DROP CONSTRAINT "recipients_channel_cid_fkey";
ALTER TABLE "recipients" DROP CONSTRAINT "recipients_message_id_fkey";

CREATE FUNCTION beacon_references_lock_key() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT 6081412718146516327::bigint -- 'beacon.references'
$$;

-- Writers of referencing rows (and delivery batches, at BEGIN).
CREATE FUNCTION beacon_share_references() RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock_shared(beacon_references_lock_key())
$$;

-- Deleters of referenced rows: call before the transaction locks anything else.
CREATE FUNCTION beacon_lock_references() RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(beacon_references_lock_key())
$$;

CREATE FUNCTION beacon_share_references_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(beacon_references_lock_key());
  RETURN NULL;
END $$;

-- A BEFORE ROW trigger: returns the row, so the delete goes ahead.
CREATE FUNCTION beacon_lock_references_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(beacon_references_lock_key());
  RETURN OLD;
END $$;

CREATE FUNCTION beacon_refuse_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the key of a row of "%" never changes', TG_TABLE_NAME
    USING ERRCODE = 'feature_not_supported', TABLE = TG_TABLE_NAME;
END $$;

-- Checks the references of the rows a statement wrote, after it. Arguments, four per
-- reference: the column, the referenced table, its key, the constraint's name. Each distinct
-- value is probed once in the referenced primary key (a correlated subquery with LIMIT is
-- never turned into a join that scans the referenced table); an UPDATE probes only values
-- that no row had before it (every value of the old rows was a valid reference then, and
-- deleters wait for this transaction).
CREATE FUNCTION beacon_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  i int := 0;
  written text;
  missing text;
BEGIN
  IF current_setting('beacon.references_proved', true) = 'on' THEN
    RETURN NULL;
  END IF;
  WHILE i < TG_NARGS LOOP
    written := CASE WHEN TG_OP = 'UPDATE'
      THEN format('SELECT %1$I AS v FROM new_rows WHERE %1$I IS NOT NULL EXCEPT SELECT %1$I FROM old_rows', TG_ARGV[i])
      ELSE format('SELECT DISTINCT %1$I AS v FROM new_rows WHERE %1$I IS NOT NULL', TG_ARGV[i]) END;
    EXECUTE format('SELECT d.v FROM (%s) d WHERE (SELECT 1 FROM %I p WHERE p.%I = d.v LIMIT 1) IS NULL LIMIT 1',
      written, TG_ARGV[i + 1], TG_ARGV[i + 2]) INTO missing;
    IF missing IS NOT NULL THEN
      RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_ARGV[i + 3]
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[i + 3], TABLE = TG_TABLE_NAME, COLUMN = TG_ARGV[i],
          DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[i], missing, TG_ARGV[i + 1]);
    END IF;
    i := i + 4;
  END LOOP;
  RETURN NULL;
END $$;

-- Referential actions, in an order that never leaves a row pointing at a deleted parent
-- when its other references are checked (recipients.channel_cid is cleared before the
-- channel's messages go, whose deletion clears recipients.message_id).
CREATE FUNCTION beacon_users_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM channel_members WHERE user_id IN (SELECT id FROM old_rows);
  UPDATE messages SET user_id = NULL WHERE user_id IN (SELECT id FROM old_rows);
  UPDATE channels SET created_by_id = NULL WHERE created_by_id IN (SELECT id FROM old_rows);
  UPDATE recipients SET user_id = NULL WHERE user_id IN (SELECT id FROM old_rows);
  RETURN NULL;
END $$;

CREATE FUNCTION beacon_channels_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE recipients SET channel_cid = NULL WHERE channel_cid IN (SELECT cid FROM old_rows);
  DELETE FROM channel_members WHERE channel_cid IN (SELECT cid FROM old_rows);
  DELETE FROM messages WHERE channel_cid IN (SELECT cid FROM old_rows);
  RETURN NULL;
END $$;

CREATE FUNCTION beacon_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE recipients SET message_id = NULL WHERE message_id IN (SELECT id FROM old_rows);
  RETURN NULL;
END $$;

CREATE FUNCTION beacon_campaigns_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM recipients WHERE campaign_id IN (SELECT id FROM old_rows);
  RETURN NULL;
END $$;

-- Writers: the shared lock before the statement writes, the check after it.
CREATE TRIGGER beacon_share_references BEFORE INSERT OR UPDATE ON channels FOR EACH STATEMENT EXECUTE FUNCTION beacon_share_references_trigger();
CREATE TRIGGER beacon_share_references BEFORE INSERT OR UPDATE ON channel_members FOR EACH STATEMENT EXECUTE FUNCTION beacon_share_references_trigger();
CREATE TRIGGER beacon_share_references BEFORE INSERT OR UPDATE ON messages FOR EACH STATEMENT EXECUTE FUNCTION beacon_share_references_trigger();
CREATE TRIGGER beacon_share_references BEFORE INSERT OR UPDATE ON recipients FOR EACH STATEMENT EXECUTE FUNCTION beacon_share_references_trigger();

CREATE TRIGGER beacon_check_references_insert AFTER INSERT ON channels REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('created_by_id', 'users', 'id', 'channels_created_by_id_fkey');
CREATE TRIGGER beacon_check_references_update AFTER UPDATE ON channels REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('created_by_id', 'users', 'id', 'channels_created_by_id_fkey');
CREATE TRIGGER beacon_check_references_insert AFTER INSERT ON channel_members REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('channel_cid', 'channels', 'cid', 'channel_members_channel_cid_fkey', 'user_id', 'users', 'id', 'channel_members_user_id_fkey');
CREATE TRIGGER beacon_check_references_update AFTER UPDATE ON channel_members REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('channel_cid', 'channels', 'cid', 'channel_members_channel_cid_fkey', 'user_id', 'users', 'id', 'channel_members_user_id_fkey');
CREATE TRIGGER beacon_check_references_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('channel_cid', 'channels', 'cid', 'messages_channel_cid_fkey', 'user_id', 'users', 'id', 'messages_user_id_fkey');
CREATE TRIGGER beacon_check_references_update AFTER UPDATE ON messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('channel_cid', 'channels', 'cid', 'messages_channel_cid_fkey', 'user_id', 'users', 'id', 'messages_user_id_fkey');
CREATE TRIGGER beacon_check_references_insert AFTER INSERT ON recipients REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('campaign_id', 'campaigns', 'id', 'recipients_campaign_id_fkey', 'user_id', 'users', 'id', 'recipients_user_id_fkey',
  'channel_cid', 'channels', 'cid', 'recipients_channel_cid_fkey', 'message_id', 'messages', 'id', 'recipients_message_id_fkey');
CREATE TRIGGER beacon_check_references_update AFTER UPDATE ON recipients REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_check_references('campaign_id', 'campaigns', 'id', 'recipients_campaign_id_fkey', 'user_id', 'users', 'id', 'recipients_user_id_fkey',
  'channel_cid', 'channels', 'cid', 'recipients_channel_cid_fkey', 'message_id', 'messages', 'id', 'recipients_message_id_fkey');

-- Deleters: the exclusive lock before the first row goes (a DELETE that finds nothing to
-- delete, such as a refused deleteCampaign, waits for nobody), the actions after the statement.
CREATE TRIGGER beacon_lock_references BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION beacon_lock_references_trigger();
CREATE TRIGGER beacon_lock_references BEFORE DELETE ON channels FOR EACH ROW EXECUTE FUNCTION beacon_lock_references_trigger();
CREATE TRIGGER beacon_lock_references BEFORE DELETE ON messages FOR EACH ROW EXECUTE FUNCTION beacon_lock_references_trigger();
CREATE TRIGGER beacon_lock_references BEFORE DELETE ON campaigns FOR EACH ROW EXECUTE FUNCTION beacon_lock_references_trigger();

CREATE TRIGGER beacon_references_deleted AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION beacon_users_deleted();
CREATE TRIGGER beacon_references_deleted AFTER DELETE ON channels REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION beacon_channels_deleted();
CREATE TRIGGER beacon_references_deleted AFTER DELETE ON messages REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION beacon_messages_deleted();
CREATE TRIGGER beacon_references_deleted AFTER DELETE ON campaigns REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION beacon_campaigns_deleted();

CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF id ON users FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION beacon_refuse_key_change();
CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF cid ON channels FOR EACH ROW WHEN (OLD.cid IS DISTINCT FROM NEW.cid) EXECUTE FUNCTION beacon_refuse_key_change();
CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF id ON messages FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION beacon_refuse_key_change();
CREATE TRIGGER beacon_key_never_changes BEFORE UPDATE OF id ON campaigns FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION beacon_refuse_key_change();
