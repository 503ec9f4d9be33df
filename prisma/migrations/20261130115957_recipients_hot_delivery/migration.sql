-- A delivery batch's update of its recipients (status, message_id, sent_at, error,
-- attempts, updated_at) becomes a HOT update: no index covers a column it changes, and each
-- page keeps room for the new versions of its rows, so PostgreSQL writes the new version
-- beside the old one and no index entry at all. Before, each delivered recipient wrote five
-- more index entries (primary key, audience key, list order, status, sent_at) on its update;
-- pg_waldump of a 100,000-recipient delivery counted 1.76 million btree insertions.
--
-- Who read the two indexes instead:
--   * the claim walks the list order (campaign_id, created_at, id) from the lane's cursor
--     and checks the status row by row (src/delivery/batch.ts);
--   * completion reads the counters (src/delivery/completion.ts), as totalCount by status
--     already did;
--   * Campaign.timeline reads campaign_sends: SENT recipients counted per (campaign, sent_at),
--     one row per batch (its grant time), kept by a trigger on recipients in the statement
--     that writes them, whoever writes them (src/campaigns/timeline.ts);
--   * recipient lists filtered or sorted by status or sentAt walk the campaign's list order.
-- DropIndex
DROP INDEX "recipients_campaign_id_status_id_idx";
DROP INDEX "recipients_campaign_id_sent_at_idx";

-- A recipient row grows on delivery (message_id, sent_at): fillfactor 40 leaves room on each
-- page for the new versions of all its rows, which one batch updates together (the old
-- versions die only when the batch commits). Applies to pages written from now on.
ALTER TABLE "recipients" SET (fillfactor = 40);

-- CreateTable
CREATE TABLE "campaign_sends" (
    "campaign_id" TEXT COLLATE "C" NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,
    "sent" INTEGER NOT NULL,

    CONSTRAINT "campaign_sends_pkey" PRIMARY KEY ("campaign_id","sent_at")
);

-- AddForeignKey
ALTER TABLE "campaign_sends" ADD CONSTRAINT "campaign_sends_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The sends of campaigns delivered before this migration.
INSERT INTO "campaign_sends" ("campaign_id", "sent_at", "sent")
SELECT "campaign_id", "sent_at", count(*)::int FROM "recipients"
WHERE "status" = 'SENT' AND "sent_at" IS NOT NULL
GROUP BY "campaign_id", "sent_at";

-- Every statement that writes recipients keeps campaign_sends in step: + its new SENT rows,
-- − its old ones, per (campaign, sent_at). Read tracking (read_at) nets to nothing; a
-- delivery batch adds one row, its grant time. Deletions only subtract from existing rows
-- (the rows of a campaign being deleted are gone with it, by the foreign key). The
-- transition tables are the ones the references checks already capture.
CREATE FUNCTION beacon_recipients_sends() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE campaign_sends s SET sent = s.sent - d.n
    FROM (SELECT campaign_id, sent_at, count(*)::int AS n FROM old_rows
          WHERE status = 'SENT' AND sent_at IS NOT NULL GROUP BY campaign_id, sent_at) d
    WHERE s.campaign_id = d.campaign_id AND s.sent_at = d.sent_at;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO campaign_sends AS s (campaign_id, sent_at, sent)
    SELECT campaign_id, sent_at, count(*)::int FROM new_rows
    WHERE status = 'SENT' AND sent_at IS NOT NULL GROUP BY campaign_id, sent_at
    ON CONFLICT (campaign_id, sent_at) DO UPDATE SET sent = s.sent + excluded.sent;
  ELSE
    INSERT INTO campaign_sends AS s (campaign_id, sent_at, sent)
    SELECT campaign_id, sent_at, sum(n)::int FROM (
      SELECT campaign_id, sent_at, 1 AS n FROM new_rows WHERE status = 'SENT' AND sent_at IS NOT NULL
      UNION ALL
      SELECT campaign_id, sent_at, -1 FROM old_rows WHERE status = 'SENT' AND sent_at IS NOT NULL
    ) d GROUP BY campaign_id, sent_at HAVING sum(n) <> 0
    ON CONFLICT (campaign_id, sent_at) DO UPDATE SET sent = s.sent + excluded.sent;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER beacon_recipients_sends_insert AFTER INSERT ON recipients REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_recipients_sends();
CREATE TRIGGER beacon_recipients_sends_update AFTER UPDATE ON recipients REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_recipients_sends();
CREATE TRIGGER beacon_recipients_sends_delete AFTER DELETE ON recipients REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION beacon_recipients_sends();
