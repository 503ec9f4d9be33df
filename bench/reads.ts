/**
 * Node CPU per dashboard read, with no delivery running: what each of the three reads of an
 * open dashboard (bench/load/readers.ts — the campaign with stats, the campaigns list's
 * first 50, a recipients page of 50 with users) costs the Beacon process.
 *
 * Creates a scratch database, migrates it, writes by SQL `--users` users, a segment and the
 * campaign over them (IN_PROGRESS, half its recipients SENT, counters to match) plus
 * `--campaigns` − 1 more, and starts Beacon as `npm start` runs it (role `api`, built by
 * `npm run build`). After a warm-up, fires `--requests` requests of each kind, `--concurrency`
 * at a time, and reads the Beacon process's CPU ticks (/proc) before and after each kind:
 * CPU ms per request is steady under other load on the machine, the wall-clock latency is not.
 * `--profile` runs Beacon with `--cpu-prof` and prints, per kind, the functions and packages
 * with the most self time in that kind's window.
 *
 * `--concurrency 1` gives each request's own cost; above 1, identical requests in flight at
 * once share one execution (src/graphql/single-flight.ts), as polling dashboards do under load.
 * BENCH_NODE_ENV sets Beacon's NODE_ENV (`production` drops development checks);
 * BENCH_SEMI sets V8's --max-semi-space-size (MB) over npm start's.
 *
 * Usage: npm run bench:reads -- [--users 100000] [--campaigns 1] [--requests 400] [--concurrency 8] [--kinds campaign,list,recipients,trivial] [--profile]
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { signServerToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from '../test/helpers/secret.js';
import { npmStartArgs, startWorker } from '../test/helpers/worker-process.js';
import { beaconDefaults } from './load/beacon-env.js';
import { intArg } from './load/args.js';
import { withScratchDatabase } from './load/scratch.js';
import { selfTimes } from './load/cpu-profile.js';
import { TICKS_PER_SECOND, processTicksSplit } from './load/proc.js';
import { dashboardReads, type Kinds } from './load/readers.js';
import { percentile } from './load/watchers.js';

const users = intArg('users', 100_000, 100);
const campaigns = intArg('campaigns', 1, 1);
const requests = intArg('requests', 400, 10);
const concurrency = intArg('concurrency', 8, 1);
const profile = process.argv.includes('--profile');
const CAMPAIGN = 'bench-campaign';

/** Users, the sender, a segment and the campaigns, by SQL; then ANALYZE (a database in use has statistics). */
async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO users (id, name, role, custom)
       SELECT 'user-' || n, 'User ' || n, 'user', jsonb_build_object('plan', 'pro') FROM generate_series(1, $1) AS n`,
      [users],
    );
    await client.query(`INSERT INTO users (id, name, role) VALUES ('bench-sender', 'Beacon', 'admin')`);
    await client.query(`INSERT INTO segments (id, type, name, filter, updated_at) VALUES ('bench-pro', 'USER', 'Pro users', '{"plan":"pro"}', now())`);
    const template = JSON.stringify({ text: 'Hi {{ user.name }}', attachments: [], custom: {} });
    await client.query(
      `INSERT INTO campaigns (id, name, sender_id, message_template, channel_template, create_channels, status, started_at, created_at, updated_at)
       SELECT CASE WHEN n = 0 THEN $1 ELSE 'other-' || n END, 'Campaign ' || n, 'bench-sender', $2, '{"type":"messaging"}', true,
              CASE WHEN n = 0 THEN 'IN_PROGRESS' ELSE 'DRAFT' END::campaign_status,
              CASE WHEN n = 0 THEN now() END, now() - n * interval '1 minute', now()
       FROM generate_series(0, $3 - 1) AS n`,
      [CAMPAIGN, template, campaigns],
    );
    await client.query(`INSERT INTO campaign_segments (campaign_id, segment_id, position) SELECT id, 'bench-pro', 0 FROM campaigns`);
    await client.query(
      `INSERT INTO recipients (campaign_id, user_id, status, sent_at, attempts)
       SELECT $1, 'user-' || n, CASE WHEN n <= $2 / 2 THEN 'SENT' ELSE 'PENDING' END::recipient_status,
              CASE WHEN n <= $2 / 2 THEN now() END, CASE WHEN n <= $2 / 2 THEN 1 ELSE 0 END
       FROM generate_series(1, $2) AS n`,
      [CAMPAIGN, users],
    );
    await client.query(
      `UPDATE campaigns SET recipients_total = $2, messages_sent = $2 / 2, users_sent = $2 / 2, channels_created = $2 / 2,
              materialized_at = now() WHERE id = $1`,
      [CAMPAIGN, users],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function post(apiUrl: string, token: string, body: string): Promise<void> {
  const response = await fetch(apiUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  const result = (await response.json()) as { errors?: unknown };
  if (!response.ok || result.errors) throw new Error(`read failed (${response.status}): ${JSON.stringify(result).slice(0, 500)}`);
}

/** `count` requests of `body`, `concurrency` at a time; returns each one's latency in ms. */
async function fire(apiUrl: string, token: string, body: string, count: number): Promise<number[]> {
  const latencies: number[] = [];
  let left = count;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (left > 0) {
        left -= 1;
        const started = performance.now();
        await post(apiUrl, token, body);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

await withScratchDatabase(seed, async (url) => {
  const profileDir = profile ? mkdtempSync(join(tmpdir(), 'beacon-reads-prof-')) : null;
  const start = npmStartArgs();
  const extra = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(process.env.BENCH_SEMI ? [`--max-semi-space-size=${process.env.BENCH_SEMI}`] : [])];
  const nodeArgs = [...start.slice(0, -1), ...extra, start.at(-1)!];
  const beacon = await startWorker({ databaseUrl: url, name: 'bench-reads', nodeArgs, env: { ...beaconDefaults(), BEACON_ROLE: 'api', LOG_LEVEL: 'info', ...(process.env.BENCH_NODE_ENV ? { NODE_ENV: process.env.BENCH_NODE_ENV } : {}) } });
  const apiUrl = String(beacon.logs.find((e) => e.msg === 'beacon started')?.graphql ?? '');
  const token = await signServerToken(TEST_SECRET);
  // `trivial` ({ __typename }): what any request costs before it reads anything.
  const reads = { ...dashboardReads(CAMPAIGN), trivial: { query: '{ __typename }', variables: {} } };
  const only = process.argv.indexOf('--kinds');
  const kinds = only === -1 ? (Object.keys(reads) as (keyof typeof reads)[]) : (process.argv[only + 1]!.split(',') as (keyof typeof reads)[]);
  const figures: Record<string, { cpuMsPerRequest: number; userMs: number; systemMs: number; p50Ms: number; p99Ms: number }> = {};
  const windows = new Map<string, [number, number]>();
  try {
    const loadBefore = loadavg()[0]!;
    // Warm-up: V8's tiers, Prisma's query plans, yoga's caches.
    for (const kind of kinds) await fire(apiUrl, token, JSON.stringify(reads[kind]), Math.min(100, requests));
    for (const kind of kinds) {
      const from = nowUs();
      const before = processTicksSplit(beacon.pid, 'node')!;
      const latencies = await fire(apiUrl, token, JSON.stringify(reads[kind]), requests);
      const after = processTicksSplit(beacon.pid, 'node')!;
      const msPerRequest = (ticks: number) => Math.round((ticks * 1000 * 100) / TICKS_PER_SECOND / requests) / 100;
      windows.set(kind, [from, nowUs()]);
      const sorted = latencies.sort((a, b) => a - b);
      figures[kind] = {
        cpuMsPerRequest: msPerRequest(after.user + after.system - before.user - before.system),
        userMs: msPerRequest(after.user - before.user),
        systemMs: msPerRequest(after.system - before.system),
        p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
        p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
      };
    }
    console.log(`${users.toLocaleString('en')} users, ${campaigns} campaign(s), ${requests} requests per kind, ${concurrency} at a time, load ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
    console.table(figures);
  } finally {
    await beacon.terminate(30_000).catch(() => beacon.kill());
  }
  if (profileDir) {
    const file = join(profileDir, readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'))!);
    for (const [kind, [from, to]] of windows) {
      const { functions, places, totalMs } = selfTimes(file, from, to);
      console.log(`\n${kind}: ${totalMs} ms of samples (${(totalMs / requests).toFixed(2)} ms/request) — top self time`);
      console.table(functions.slice(0, 25));
      console.table(places.slice(0, 15));
    }
    console.log(`profile: ${file}`);
  }
});
process.exit(0);
