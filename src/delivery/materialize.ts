/**
 * Writes a campaign's audience into `recipients`, once, inside the database: `INSERT …
 * SELECT` over the union of its segments' audience queries (or its listed user ids),
 * deduplicated by UNION and the (user|channel, campaign) unique keys, the sender left out.
 * No id ever travels through Node. `materialized_at` marks it done, and the campaign row is
 * locked first (FOR NO KEY UPDATE: the recipients' foreign-key checks still pass), so two
 * start jobs racing write the audience once, and a stop waits for it.
 *
 * Given a pool with room, the audience is written as hash partitions of the target ids,
 * each by its own statement on its own connection, at once: PostgreSQL runs one INSERT on
 * one core, and this is most of a large campaign's start. Each partition commits on its own;
 * should the job die before `materialized_at` is set, the next run writes what is missing
 * (ON CONFLICT DO NOTHING) and `recipients_total` is counted from the rows, not added up.
 */
import type pg from 'pg';
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

/** Where the partitions of a large audience are written, each on its own connection. */
export interface MaterializeParallel {
  pool: pg.Pool;
  /** How many partitions (2 suits a 2-core server; 1 writes everything in the transaction). */
  partitions: number;
}

/**
 * Materializes the recipients of a campaign unless already done; returns how many were
 * written (0 when it had been done before). Run inside a transaction (`db`).
 */
export async function materializeRecipients(db: Db, campaignId: string, parallel?: MaterializeParallel): Promise<number> {
  const rows = await db.$queryRaw<CampaignAudienceRow[]>`
    SELECT sender_id, user_ids, materialized_at FROM campaigns WHERE id = ${campaignId} FOR NO KEY UPDATE`;
  const campaign = rows[0];
  if (!campaign || campaign.materialized_at) return 0;
  const sender = campaign.sender_id;
  const audience = await segmentsAudience(db, campaignId, sender);
  // Users: a segment union, or the listed ids that still exist; never the sender.
  const channels = audience?.type === 'CHANNEL';
  const source = channels
    ? audience.sql
    : Prisma.sql`SELECT a.target_id FROM (${audience ? audience.sql : Prisma.sql`SELECT u.id AS target_id FROM users u WHERE u.id = ANY(${campaign.user_ids}::text[])`}) a
        WHERE a.target_id IS DISTINCT FROM ${sender}::text`;
  const insert = (where: Prisma.Sql) => Prisma.sql`
    INSERT INTO recipients (campaign_id, ${Prisma.raw(channels ? 'channel_cid' : 'user_id')})
    SELECT ${campaignId}, a.target_id FROM (${source}) a WHERE ${where}
    ON CONFLICT DO NOTHING`;

  let written: number;
  const partitions = parallel && audience ? parallel.partitions : 1;
  if (partitions > 1) {
    const counts = await Promise.all(
      Array.from({ length: partitions }, async (_, i) => {
        const sql = insert(Prisma.sql`abs(hashtext(a.target_id) % ${partitions}) = ${i}`);
        return (await parallel!.pool.query(sql.text, sql.values)).rowCount ?? 0;
      }),
    );
    written = counts.reduce((a, b) => a + b, 0);
  } else {
    written = await db.$executeRaw(insert(Prisma.sql`TRUE`));
  }
  await db.$executeRaw`
    UPDATE campaigns SET recipients_total = (SELECT count(*)::int FROM recipients WHERE campaign_id = ${campaignId}),
      materialized_at = now(), updated_at = now()
    WHERE id = ${campaignId}`;
  return written;
}
