/**
 * Segment.size of a 100,000-user filter segment on real PostgreSQL. Creates a scratch
 * database on the server, migrates it, seeds users with custom data in one
 * `INSERT … SELECT generate_series`, adds explicit targets (half already in the filter,
 * so the dedup is exercised), and times countAudience — the query `Segment.size` runs.
 * Prints the figures, then drops the database.
 * Usage: npm run bench:segment-size [-- --users 200000]
 * BENCH_DATABASE_URL: a server URL allowed to CREATE DATABASE (default the local test server).
 */
import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { applyMigrations } from '../src/db/migrations.js';
import { countAudience, type AudienceRule } from '../src/segments/audience.js';
import { adminQuery, databaseUrl } from '../test/setup/global-setup.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const usersArg = process.argv.indexOf('--users');
const totalUsers = usersArg === -1 ? 200_000 : Number(process.argv[usersArg + 1]);
if (!Number.isInteger(totalUsers) || totalUsers < 100_000) throw new Error('--users needs an integer ≥ 100,000');
const RUNS = 7;

async function time(fn: () => Promise<number>): Promise<{ ms: number; value: number }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

const database = `beacon_bench_${randomBytes(6).toString('hex')}`;
await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
const url = databaseUrl(adminUrl, database);
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
try {
  await applyMigrations(url);
  const seedStart = performance.now();
  // Users 1..100,000 are on the pro plan and adults: exactly the filter's 100,000.
  await prisma.$executeRawUnsafe(`
    INSERT INTO users (id, name, role, teams, custom)
    SELECT 'user-' || n, 'User ' || n, CASE WHEN n % 50 = 0 THEN 'admin' ELSE 'user' END,
           CASE WHEN n % 3 = 0 THEN ARRAY['red'] ELSE ARRAY['blue'] END,
           jsonb_build_object(
             'plan', CASE WHEN n <= 100000 THEN 'pro' ELSE 'free' END,
             'age', CASE WHEN n <= 100000 THEN 18 + n % 60 ELSE n % 80 END,
             'address', jsonb_build_object('city', (ARRAY['Delft','Oslo','Lisbon','Osaka'])[1 + n % 4]))
    FROM generate_series(1, ${totalUsers}) AS n`);
  await prisma.$executeRawUnsafe(`
    INSERT INTO segments (id, type, name, filter, updated_at)
    VALUES ('bench', 'USER', 'Adult pro users', '{"plan": "pro", "age": {"$gte": 18}}', now())`);
  // 2,000 explicit targets: 1,000 inside the filter's audience, 1,000 outside.
  await prisma.$executeRawUnsafe(`
    INSERT INTO segment_targets (segment_id, target_id)
    SELECT 'bench', 'user-' || n FROM generate_series(99001, 101000) AS n`);
  await prisma.$executeRawUnsafe('ANALYZE');
  const seedMs = performance.now() - seedStart;

  const segment: AudienceRule = { id: 'bench', type: 'USER', filter: { plan: 'pro', age: { $gte: 18 } }, allUsers: false, allSenderChannels: false };
  await countAudience(prisma, segment); // warm-up: connection, plan, cache
  const runs: { ms: number; value: number }[] = [];
  for (let i = 0; i < RUNS; i += 1) runs.push(await time(() => countAudience(prisma, segment)));
  const sorted = runs.map((r) => r.ms).sort((a, b) => a - b);
  const size = runs[0]!.value;
  if (size !== 101_000) throw new Error(`expected a size of 101,000, got ${size}`);
  console.log(
    JSON.stringify(
      {
        users: totalUsers,
        filterMatches: 100_000,
        explicitTargets: 2_000,
        size,
        seedMs: Math.round(seedMs),
        sizeMs: { median: Number(sorted[Math.floor(RUNS / 2)]!.toFixed(1)), min: Number(sorted[0]!.toFixed(1)), max: Number(sorted[RUNS - 1]!.toFixed(1)) },
      },
      null,
      2,
    ),
  );
  console.log(`segment size (100,000-user filter segment): ${sorted[Math.floor(RUNS / 2)]!.toFixed(1)} ms (median of ${RUNS})`);
} finally {
  await prisma.$disconnect();
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
