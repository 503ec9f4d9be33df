/**
 * A campaign's delivery timeline: messages sent per time bucket, counted in the database
 * from campaign_sends — each delivery batch's SENT recipients under its `sent_at`, written
 * with them (recipients' own `sent_at` has no index, so their updates stay HOT). The span
 * runs from the first send (or `startedAt`) to the end of delivery — `completedAt`,
 * `stoppedAt` of a STOPPED campaign, else now, and never before the last send — split into
 * `buckets` equal parts chosen by the client. A chart refreshes it on every live event of a
 * running campaign, and it reads one row per batch (500 for 1,000,000 recipients in
 * batches of 2,000), through the (campaign_id, sent_at) primary key.
 */
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';

export const DEFAULT_TIMELINE_BUCKETS = 60;
export const MAX_TIMELINE_BUCKETS = 500;

/** One bucket: messages sent in [start, end) (the last bucket also holds `end` itself). */
export interface TimelineBucket {
  start: Date;
  end: Date;
  sent: number;
}

interface Span {
  start: Date | null;
  end: Date | null;
}

/** Checks the bucket count: an integer from 1 to MAX_TIMELINE_BUCKETS, at `path`. */
export function checkBuckets(buckets: number, path: string): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_TIMELINE_BUCKETS) {
    throw new ValidationError(`${path} must be an integer from 1 to ${MAX_TIMELINE_BUCKETS}`, path);
  }
  return buckets;
}

/** The span of the timeline: scalar subqueries over the campaign's sends; now() only while delivery may still send. */
export function timelineSpanSql(campaignId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT
      LEAST(c.started_at, (SELECT min(s.sent_at) FROM campaign_sends s WHERE s.campaign_id = c.id AND s.sent > 0)) AS "start",
      GREATEST(
        COALESCE(c.completed_at, CASE WHEN c.status = 'STOPPED' THEN c.stopped_at END, CASE WHEN c.started_at IS NOT NULL THEN now() END),
        (SELECT max(s.sent_at) FROM campaign_sends s WHERE s.campaign_id = c.id AND s.sent > 0)) AS "end"
    FROM campaigns c WHERE c.id = ${campaignId}`;
}

/**
 * Sends per bucket (1-based; empty buckets have no row), over a range of the campaign's sends.
 * width_bucket puts the upper bound itself in bucket n+1: LEAST folds it into the last.
 */
export function timelineCountSql(campaignId: string, startMs: number, endMs: number, buckets: number): Prisma.Sql {
  return Prisma.sql`
    SELECT LEAST(width_bucket(date_part('epoch', s.sent_at) * 1000, ${startMs}::float8, ${endMs}::float8, ${buckets}::int), ${buckets}::int) AS "bucket",
      sum(s.sent)::int AS "sent"
    FROM campaign_sends s
    WHERE s.campaign_id = ${campaignId} AND s.sent_at >= ${new Date(startMs)} AND s.sent_at <= ${new Date(endMs)}
    GROUP BY 1`;
}

/** The timeline of one campaign in `buckets` buckets; empty before its first send or start. */
export async function campaignTimeline(prisma: PrismaClient, campaignId: string, buckets: number): Promise<TimelineBucket[]> {
  const spans = await prisma.$queryRaw<Span[]>(timelineSpanSql(campaignId));
  const span = spans[0];
  if (!span?.start || !span.end) return [];
  const start = span.start.getTime();
  // A span of zero (one send, no start) still needs a width for width_bucket.
  const end = Math.max(span.end.getTime(), start + 1);
  const rows = await prisma.$queryRaw<{ bucket: number; sent: number }[]>(timelineCountSql(campaignId, start, end, buckets));
  const sent = new Map(rows.map((row) => [Number(row.bucket), row.sent]));
  const width = (end - start) / buckets;
  return Array.from({ length: buckets }, (_, i) => ({
    start: new Date(Math.round(start + i * width)),
    end: new Date(i === buckets - 1 ? end : Math.round(start + (i + 1) * width)),
    sent: sent.get(i + 1) ?? 0,
  }));
}
