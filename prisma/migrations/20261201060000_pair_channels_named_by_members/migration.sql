-- The 1:1 channel of two users is named by them: `!members-<lo>!<hi>` (the two ids in C
-- order) instead of `!members-` and a SHA-256, where both ids hold no `!` and fit (see
-- distinctChannelId in src/chat/channels.service.ts; sets of three or more, pairs of ids with
-- a `!` and longer pairs keep the hash). The 1:1 channels of one sender then sort like their
-- receivers, so a campaign that walks its receivers in key order appends to the indexes of
-- channels, memberships and messages instead of writing at random places in them
-- (1,000,000 recipients: see README, Performance).
--
-- Existing distinct channels of two members get their new id, and every reference to their
-- cid follows (memberships, messages, recipients, channel segments' targets), so finding the
-- channel of a pair finds the same channel as before. A distinct channel is recognized by
-- recomputing the hash from pairs of its members: channels that grew past 1,000 members
-- after their creation are left as they are (their pairs are too many to try), as are those
-- whose new cid is taken by a channel created with that id by hand. Returns how many
-- channels it renamed; it can run again (it finds nothing left to rename).
--
-- Keys never change otherwise (beacon_key_never_changes): the function lifts that guard on
-- channels for its own statement only, inside the migration's transaction.
CREATE FUNCTION beacon_name_pair_channels_by_members() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  renamed integer;
BEGIN
  ALTER TABLE channels DISABLE TRIGGER beacon_key_never_changes;
  WITH pairs AS (
    SELECT c.cid AS old_cid, n.id AS new_id, c.type || ':' || n.id AS new_cid
    FROM channels c
    JOIN channel_members a ON a.channel_cid = c.cid
    JOIN channel_members b ON b.channel_cid = c.cid AND a.user_id COLLATE "C" < b.user_id COLLATE "C"
    CROSS JOIN LATERAL (SELECT '!members-' || a.user_id || '!' || b.user_id AS id) n
    WHERE c.id ~ '^!members-[A-Za-z0-9_-]{32}$' AND c.member_count <= 1000
      AND length(a.user_id) + length(b.user_id) <= 118
      AND a.user_id ~ '^[A-Za-z0-9@._-]+$' AND b.user_id ~ '^[A-Za-z0-9@._-]+$'
      AND c.id = '!members-' || translate(left(encode(sha256(
        convert_to(a.user_id, 'UTF8') || '\x00'::bytea || convert_to(b.user_id, 'UTF8')), 'base64'), 32), '+/', '-_')),
  free AS (
    SELECT p.* FROM pairs p WHERE NOT EXISTS (SELECT 1 FROM channels t WHERE t.cid = p.new_cid)),
  renamed_channels AS (
    UPDATE channels c SET cid = f.new_cid, id = f.new_id FROM free f WHERE c.cid = f.old_cid RETURNING 1),
  memberships AS (
    UPDATE channel_members m SET channel_cid = f.new_cid FROM free f WHERE m.channel_cid = f.old_cid),
  channel_messages AS (
    UPDATE messages m SET channel_cid = f.new_cid FROM free f WHERE m.channel_cid = f.old_cid),
  channel_recipients AS (
    UPDATE recipients r SET channel_cid = f.new_cid FROM free f WHERE r.channel_cid = f.old_cid),
  targets AS (
    UPDATE segment_targets s SET target_id = f.new_cid FROM free f WHERE s.target_id = f.old_cid
      AND NOT EXISTS (SELECT 1 FROM segment_targets o WHERE o.segment_id = s.segment_id AND o.target_id = f.new_cid))
  SELECT count(*)::int INTO renamed FROM renamed_channels;
  ALTER TABLE channels ENABLE TRIGGER beacon_key_never_changes;
  RETURN renamed;
END $$;

SELECT beacon_name_pair_channels_by_members();
