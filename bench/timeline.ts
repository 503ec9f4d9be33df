/**
 * Campaign.timeline on real PostgreSQL: a running campaign of 100,000 recipients (70,000
 * sent over an hour, 30,000 pending) beside two other campaigns of 100,000 each. Prints
 * EXPLAIN (ANALYZE, BUFFERS) of both statements campaignTimeline runs and its wall time
 * over several runs, then drops the scratch database. No assertion: figures to read.
 * Usage: npx tsx bench/timeline.ts [--recipients 200000]
 * BENCH_DATABASE_URL: a server URL allowed to CREATE DATABASE (default the local test server).
 */
import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from '../src/generated/prisma/client.js';
import { applyMigrations } from '../src/db/migrations.js';
import { campaignTimeline, timelineCountSql, timelineSpanSql } from '../src/campaigns/timeline.js';
import { adminQuery, databaseUrl } from '../test/setup/global-setup.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const arg = process.argv.indexOf('--recipients');
const total = arg === -1 ? 100_000 : Number(process.argv[arg + 1]);
if (!Number.isInteger(total) || total < 1_000) throw new Error('--recipients needs an integer ≥ 1,000');
const RUNS = 7;

const database = `beacon_bench_${randomBytes(6).toString('hex')}`;
await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
const url = databaseUrl(adminUrl, database);
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });

async function explain(label: string, sql: Prisma.Sql): Promise<void> {
  const rows = await prisma.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`EXPLAIN (ANALYZE, BUFFERS) ${sql}`);
  console.log(`\n${label}\n${rows.map((row) => row['QUERY PLAN']).join('\n')}`);
}

try {
  await applyMigrations(url);
  const started = Date.now() - 3_600_000;
  await prisma.$executeRawUnsafe(`
    INSERT INTO campaigns (id, name, status, message_template, started_at, updated_at)
    SELECT c, c, 'IN_PROGRESS', '{"text": "hi"}', to_timestamp(${started / 1000}), now() FROM unnest(ARRAY['a', 'bench', 'z']) AS c`);
  // Interleaved campaigns, as delivery writes them; 70% of each sent across the hour.
  await prisma.$executeRawUnsafe(`
    INSERT INTO recipients (campaign_id, status, sent_at)
    SELECT c, CASE WHEN n % 10 < 7 THEN 'SENT' ELSE 'PENDING' END::recipient_status,
      CASE WHEN n % 10 < 7 THEN to_timestamp(${started / 1000} + n * 3600.0 / ${total}) END
    FROM generate_series(1, ${total}) AS n, unnest(ARRAY['a', 'bench', 'z']) AS c`);
  await prisma.$executeRawUnsafe('VACUUM ANALYZE recipients');

  const span = (await prisma.$queryRaw<{ start: Date; end: Date }[]>(timelineSpanSql('bench')))[0]!;
  await explain('Span (min/max probes):', timelineSpanSql('bench'));
  await explain('Counts per bucket (500 buckets):', timelineCountSql('bench', span.start.getTime(), span.end.getTime(), 500));

  for (const buckets of [60, 500]) {
    const times: number[] = [];
    let sent = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      sent = (await campaignTimeline(prisma, 'bench', buckets)).reduce((sum, b) => sum + b.sent, 0);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`\ncampaignTimeline(${buckets} buckets) over ${total.toLocaleString('en')} recipients (${sent.toLocaleString('en')} sent): median ${times[RUNS >> 1]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms`);
  }
} finally {
  await prisma.$disconnect();
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
