/**
 * Writes a campaign's audience into `recipients`, once, inside the database: one
 * `INSERT … SELECT` over the union of its segments' audience queries (or its listed user
 * ids), deduplicated by UNION and the (campaign, user|channel) unique keys, the sender
 * left out. No id ever travels through Node. `materialized_at` marks it done, and the
 * campaign row is locked first, so two start jobs racing write the audience once.
 */
import { Prisma } from '../generated/prisma/client.js';
import { segmentAudienceSql, type AudienceRule } from '../segments/audience.js';
import type { Db } from './plan.js';

interface CampaignAudienceRow {
  sender_id: string | null;
  user_ids: string[];
  materialized_at: Date | null;
}

/** The audience of all the campaign's segments as one `target_id` query (UNION dedupes). */
async function segmentsAudience(db: Db, campaignId: string, senderId: string | null): Promise<{ sql: Prisma.Sql; type: 'USER' | 'CHANNEL' } | null> {
  const segments = await db.$queryRaw<AudienceRule[]>`
    SELECT s.id, s.type::text AS type, s.filter, s.all_users AS "allUsers", s.all_sender_channels AS "allSenderChannels"
    FROM campaign_segments cs JOIN segments s ON s.id = cs.segment_id
    WHERE cs.campaign_id = ${campaignId} ORDER BY cs.position`;
  if (segments.length === 0) return null;
  const parts = segments.map((segment) => segmentAudienceSql(segment, { senderId }));
  return { sql: Prisma.join(parts, ' UNION '), type: segments[0]!.type };
}

/**
 * Materializes the recipients of a campaign unless already done; returns how many were
 * written (0 when it had been done before). Run inside a transaction.
 */
export async function materializeRecipients(db: Db, campaignId: string): Promise<number> {
  const rows = await db.$queryRaw<CampaignAudienceRow[]>`
    SELECT sender_id, user_ids, materialized_at FROM campaigns WHERE id = ${campaignId} FOR UPDATE`;
  const campaign = rows[0];
  if (!campaign || campaign.materialized_at) return 0;
  const sender = campaign.sender_id;
  let inserted: { n: number }[];
  const audience = await segmentsAudience(db, campaignId, sender);
  if (audience?.type === 'CHANNEL') {
    inserted = await db.$queryRaw`
      WITH added AS (
        INSERT INTO recipients (campaign_id, channel_cid)
        SELECT ${campaignId}, a.target_id FROM (${audience.sql}) a
        ON CONFLICT DO NOTHING RETURNING 1)
      SELECT count(*)::int AS n FROM added`;
  } else {
    // Users: a segment union, or the listed ids that still exist; never the sender.
    const users = audience
      ? audience.sql
      : Prisma.sql`SELECT u.id AS target_id FROM users u WHERE u.id = ANY(${campaign.user_ids}::text[])`;
    inserted = await db.$queryRaw`
      WITH added AS (
        INSERT INTO recipients (campaign_id, user_id)
        SELECT ${campaignId}, a.target_id FROM (${users}) a
        WHERE a.target_id IS DISTINCT FROM ${sender}::text
        ON CONFLICT DO NOTHING RETURNING 1)
      SELECT count(*)::int AS n FROM added`;
  }
  const count = inserted[0]?.n ?? 0;
  await db.$executeRaw`
    UPDATE campaigns SET recipients_total = recipients_total + ${count}, materialized_at = now(), updated_at = now()
    WHERE id = ${campaignId}`;
  return count;
}
