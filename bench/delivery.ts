/**
 * End-to-end delivery throughput of a 1:1 campaign with createChannels on real PostgreSQL.
 *
 * Creates a scratch database on the server, migrates it, imports `--users` users that match a
 * filter segment (plus 10% that do not) in SQL (`INSERT … SELECT generate_series`, no
 * ANALYZE after it), and clones it (`CREATE DATABASE … TEMPLATE`). Then:
 *   1. Starts Beacon as its own process, as `npm start` runs it (`node <V8 flags>
 *      dist/main.js`, built by `npm run build`; role `all`, BEACON_DELIVERY_* from this
 *      environment) on the first copy, creates the segment and a DRAFT campaign over it
 *      through the API, subscribes to `campaignUpdated` over graphql-ws, calls
 *      `startCampaign`, and waits for COMPLETED: recipients/s from the startCampaign call to `completedAt`, the
 *      Beacon process's peak RSS (VmRSS sampled every 50 ms, and its VmHWM), the
 *      subscriber's lag, and CPU seconds of the Beacon process and of the server's backends
 *      (when the server runs on this machine).
 *   2. The floor: on the second copy (the same segment and campaign, by SQL), one
 *      transaction of set-based `INSERT … SELECT` statements writes the same rows (recipients, channels, memberships, messages,
 *      recipient updates, counters), with the text rendered in SQL.
 * Prints the figures as JSON, as a table and as a summary line, then drops both databases.
 * Other load on the machine skews wall-clock figures: the load average is printed with them,
 * and the CPU seconds of Beacon and of the server's backends are the steadier measure.
 *
 * Usage: npm run bench:delivery -- --users 100000 [--subscribers 1000] [--readers 50] [--workers 2] [--floor 0]
 *   --subscribers N  graphql-ws subscribers on the campaign (default 1): COMPLETED lag p50/p99
 *                    and the live-events hub's campaign reads per event (logged by the api
 *                    process as it stops).
 *   --readers N      N clients reading once a second what an open dashboard reads (the
 *                    campaign with stats, the list's first 50, a recipients page of 50):
 *                    latency p50/p99 while it delivers (bench/load/readers.ts), measured in
 *                    a child process of their own, so the bench's event loop (watchers,
 *                    samplers) does not add to Beacon's figure.
 *   --floor 0        skips the floor (2. above), which takes about as long as the run.
 *   --workers N      one `api` process and N `worker` processes instead of one `all`, their
 *                    events shared through Redis (BENCH_REDIS_URL, REDIS_URL or the local one),
 *                    each running lanes ÷ N lanes (BEACON_DELIVERY_CONCURRENCY, unless set).
 * BENCH_DATABASE_URL or DATABASE_URL: a server URL allowed to CREATE DATABASE (default the
 * local postgres@127.0.0.1:5432). BEACON_DELIVERY_BATCH_SIZE / BEACON_DELIVERY_LANES /
 * BEACON_DELIVERY_RATE are read as Beacon reads them. BENCH_CPU_PROF=dir starts Beacon with
 * `--cpu-prof --cpu-prof-dir dir`: the `all` (or `api`) process, which the bench stops with
 * SIGTERM, writes its whole life's V8 CPU profile there (sum it with bench/load/cpu-profile.ts).
 * BENCH_WAL_RANGE=1 prints the run's WAL range, for `pg_waldump --stats=record -s … -e …` (the
 * segments must still be there: a wal_keep_size larger than the run's WAL keeps them).
 * BENCH_LOG_DIR=dir writes each Beacon process's log to dir/<name>.log after the run, at
 * BENCH_LOG_LEVEL (default info; debug logs every batch a lane delivered, with its time), with
 * Node's DEBUG=BENCH_DEBUG (`agenda:*`: when each worker locked and began each job).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import pg from 'pg';
import { signServerToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { applyMigrations } from '../src/db/migrations.js';
import { distinctChannelId, distinctPairIdSql } from '../src/chat/channels.service.js';
import { Prisma } from '../src/generated/prisma/client.js';
import { adminQuery, databaseUrl } from '../test/setup/global-setup.js';
import { TEST_SECRET } from '../test/helpers/secret.js';
import { npmStartArgs, startWorker, type WorkerProcess } from '../test/helpers/worker-process.js';
import { closeWatchers, completedLags, openWatchers } from './load/watchers.js';
import { startReadersProcess } from './load/readers-process.js';
import { adminUrl, intArg } from './load/args.js';
import { beaconDefaults } from './load/beacon-env.js';
import { TICKS_PER_SECOND, processTicks } from './load/proc.js';
import { deliveryTableSizes, recipientUpdates, serverCpu, walCounter } from './load/database-figures.js';

const usersArg = process.argv.indexOf('--users');
const users = usersArg === -1 ? 100_000 : Number(process.argv[usersArg + 1]);
if (!Number.isInteger(users) || users < 1000) throw new Error('--users needs an integer ≥ 1,000');
/** graphql-ws subscribers watching the campaign (the first one's events are the progress figures). */
const subscribers = intArg('subscribers', 1, 1);
/** Dashboard readers polling once a second while it delivers (bench/load/readers.ts). */
const readers = intArg('readers', 0, 0);
/** 0: one `all` process; N: one `api` process and N `worker` processes. */
const workers = intArg('workers', 0, 0);
/** 0: no floor (its copy and its single transaction take as long as the run itself at 1,000,000). */
const withFloor = intArg('floor', 1, 0) > 0;
/** BENCH_CPU_PROF=dir: Beacon runs with --cpu-prof into dir (see the header). */
const cpuProfileDir = process.env.BENCH_CPU_PROF || null;

const CAMPAIGN = 'bench-campaign';
const SENDER = 'bench-sender';
const TEXT = 'Hi {{ user.name }}, your {{ user.plan }} plan renews in {{ user.city }}. — {{ sender.name }}';

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/**
 * The users (and the sender), identical in both copies, by one bulk insert — and, as after
 * a real import, no ANALYZE: the segment, the campaign and the delivery run on whatever
 * statistics PostgreSQL has (none yet for these rows).
 */
async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO users (id, name, role, custom)
      SELECT 'user-' || n, 'User ' || n, 'user',
             jsonb_build_object('plan', CASE WHEN n <= $1 THEN 'pro' ELSE 'free' END,
                                'city', (ARRAY['Delft','Oslo','Lisbon','Osaka'])[1 + n % 4])
      FROM generate_series(1, $1 + $1 / 10) AS n`, [users]);
    await client.query(`INSERT INTO users (id, name, role) VALUES ($1, 'Beacon', 'admin')`, [SENDER]);
  } finally {
    await client.end();
  }
}

const SEGMENT = { id: 'bench-pro', type: 'USER', name: 'Pro users', filter: { plan: 'pro' } };
const CAMPAIGN_INPUT = {
  id: CAMPAIGN,
  name: 'Bench',
  senderId: SENDER,
  segmentIds: [SEGMENT.id],
  createChannels: true,
  channelTemplate: { type: 'messaging' },
  messageTemplate: { text: TEXT },
};

/** The filter segment and the DRAFT campaign over it, through the public API (as a client would, right after the import). */
async function createCampaign(apiUrl: string, token: string): Promise<void> {
  const segment = await graphql(apiUrl, token, `mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { __typename ... on Error { message } } }`, { input: SEGMENT });
  if (segment.createSegment.__typename !== 'CreateSegmentPayload') throw new Error(JSON.stringify(segment));
  const campaign = await graphql(apiUrl, token, `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { __typename ... on Error { message } } }`, { input: CAMPAIGN_INPUT });
  if (campaign.createCampaign.__typename !== 'CreateCampaignPayload') throw new Error(JSON.stringify(campaign));
}

/** The same segment and campaign rows in the floor's copy, by SQL (not timed). */
async function createFloorCampaign(client: pg.Client): Promise<void> {
  await client.query(`INSERT INTO segments (id, type, name, filter, updated_at) VALUES ($1, 'USER', $2, $3, now())`, [SEGMENT.id, SEGMENT.name, JSON.stringify(SEGMENT.filter)]);
  await client.query(
    `INSERT INTO campaigns (id, name, sender_id, message_template, create_channels, updated_at)
     VALUES ($1, 'Bench', $2, $3, true, now())`,
    [CAMPAIGN, SENDER, JSON.stringify({ text: TEXT, attachments: [], custom: {} })],
  );
  await client.query(`INSERT INTO campaign_segments (campaign_id, segment_id, position) VALUES ($1, $2, 0)`, [CAMPAIGN, SEGMENT.id]);
}

/** `{{…}}` of TEXT, rendered in SQL for the floor. */
const FLOOR_TEXT = `'Hi ' || u.name || ', your ' || (u.custom->>'plan') || ' plan renews in ' || (u.custom->>'city') || '. — Beacon'`;
/** distinctChannelId([sender, user]) in SQL, the sender being the floor's parameter $2. */
const floorCid = (user: string) => `'messaging:' || ${distinctPairIdSql(Prisma.raw(user), Prisma.raw('$2')).sql}`;
const FLOOR_CID = floorCid('u.id');

/** The same rows as the campaign writes, by one transaction of INSERT … SELECT; returns ms. */
async function floor(url: string): Promise<{ ms: number; messages: number; stepsMs: Record<string, number>; serverCpuSeconds: number | null }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await createFloorCampaign(client);
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const ticksBefore = processTicks(pid);
    const params = [CAMPAIGN, SENDER];
    const stepsMs: Record<string, number> = {};
    let last = performance.now();
    const step = <T>(name: string, result: T): T => {
      const now = performance.now();
      stepsMs[name] = Math.round(now - last);
      last = now;
      return result;
    };
    const start = performance.now();
    await client.query('BEGIN');
    step('recipients', await client.query(`
      INSERT INTO recipients (campaign_id, user_id)
      SELECT $1, u.id FROM users u WHERE u.custom @> '{"plan": "pro"}' AND u.id <> $2`, params));
    const pending = `FROM recipients r JOIN users u ON u.id = r.user_id WHERE r.campaign_id = $1 AND r.status = 'PENDING'`;
    step('channels', await client.query(`
      INSERT INTO channels (cid, type, id, created_by_id, member_count)
      SELECT c.cid, 'messaging', substr(c.cid, 11), $2, 2 FROM (SELECT ${FLOOR_CID} AS cid ${pending}) c`, params));
    step('members', await client.query(`
      INSERT INTO channel_members (channel_cid, user_id)
      SELECT c.cid, x.uid FROM (SELECT ${FLOOR_CID} AS cid, u.id ${pending}) c, LATERAL (VALUES (c.id), ($2)) x(uid)`, params));
    const inserted = step('messages', await client.query(`
      INSERT INTO messages (id, channel_cid, user_id, text, campaign_id)
      SELECT 'campaign-' || $1 || '-' || r.id, ${FLOOR_CID}, $2, ${FLOOR_TEXT}, $1 ${pending}`, params));
    step('recipientUpdates', await client.query(`
      UPDATE recipients r SET status = 'SENT', message_id = 'campaign-' || $1 || '-' || r.id,
        error = NULL, sent_at = now(), attempts = r.attempts + 1, updated_at = now()
      WHERE r.campaign_id = $1 AND r.status = 'PENDING'`, [CAMPAIGN]));
    step('counters', await client.query(`
      UPDATE campaigns SET status = 'COMPLETED', recipients_total = $2, messages_sent = $2, users_sent = $2,
        channels_created = $2, materialized_at = now(), completed_at = now(), updated_at = now()
      WHERE id = $1`, [CAMPAIGN, inserted.rowCount]));
    step('commit', await client.query('COMMIT'));
    const ms = performance.now() - start;
    const ticksAfter = processTicks(pid);
    const serverCpuSeconds = ticksBefore === null || ticksAfter === null ? null : round((ticksAfter - ticksBefore) / TICKS_PER_SECOND, 1);
    const expected = `messaging:${distinctChannelId([SENDER, 'user-1'])}`;
    const same = await client.query('SELECT 1 FROM channels WHERE cid = $1', [expected]);
    if (same.rowCount !== 1) throw new Error(`the floor's channel ids differ from distinctChannelId (${expected})`);
    return { ms, messages: inserted.rowCount ?? 0, stepsMs, serverCpuSeconds };
  } finally {
    await client.end();
  }
}

/** When a run's phases happened, from the database rows. */
interface Timeline {
  started: Date;
  materialized: Date;
  firstBatch: Date;
  lastBatch: Date;
}

async function graphql(apiUrl: string, token: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: any; errors?: unknown };
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data;
}

/** A field of /proc/<pid>/status in bytes (VmRSS: resident now, VmHWM: the peak). */
function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.replace(/\D+/g, '')) * 1024 : NaN;
}

/**
 * Beacon as `npm start` runs it, on `url`: one process of role `all`, or with `--workers N`
 * one `api` process and N `worker` processes; resolves once they all serve.
 */
async function startBeacons(url: string): Promise<{ processes: WorkerProcess[]; api: WorkerProcess; apiUrl: string }> {
  // Beacon's own defaults (batch size, job polling and locks) unless this environment sets
  // them: the worker helper's are the tests' (small batches, a lock renewal every 200 ms).
  const env: Record<string, string> = { ...beaconDefaults(), LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' };
  // With several workers, each runs its share of the campaign's lanes (README, Configuration):
  // a worker may otherwise take them all while the others sit idle.
  if (workers > 0) env.BEACON_DELIVERY_CONCURRENCY = String(Math.ceil(loadConfig({ DATABASE_URL: url }).deliveryLanes / workers));
  for (const [key, value] of Object.entries(process.env)) if (key.startsWith('BEACON_DELIVERY_') && value) env[key] = value;
  if (process.env.BENCH_DEBUG) env.DEBUG = process.env.BENCH_DEBUG;
  // Events cross processes through Redis: the workers' progress reaches the api's subscribers.
  if (workers > 0) env.REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const nodeArgs = cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir, ...npmStartArgs()] : npmStartArgs();
  const start = (name: string, role: string) => startWorker({ databaseUrl: url, name, nodeArgs, env: { ...env, BEACON_ROLE: role } });
  const processes = workers === 0
    ? [await start('bench', 'all')]
    : await Promise.all([start('bench-api', 'api'), ...Array.from({ length: workers }, (_, i) => start(`bench-worker-${i + 1}`, 'worker'))]);
  const api = processes[0]!;
  const started = api.logs.find((e) => e.msg === 'beacon started');
  return { processes, api, apiUrl: String(started!.graphql) };
}

/** Runs the campaign through Beacon's processes; returns the figures. */
async function endToEnd(url: string) {
  const { processes, api, apiUrl } = await startBeacons(url);
  const settings = (key: string) => Number(processes.at(-1)!.logs.find((e) => e.msg === 'beacon started')?.[key] ?? NaN);
  const token = await signServerToken(TEST_SECRET);
  const watchers = await createCampaign(apiUrl, token).then(() => openWatchers(apiUrl.replace(/^http/, 'ws'), token, CAMPAIGN, subscribers)).catch(async (error: unknown) => {
    await Promise.all(processes.map((p) => p.kill()));
    throw error;
  });
  try {
    const reading = readers > 0 ? await startReadersProcess(apiUrl, token, CAMPAIGN, readers) : null;
    if (reading) {
      // Dashboards open before the campaign starts: 3 s of reads warm Beacon up, then only
      // the reads while it delivers count.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      reading.reset();
    }
    const rssOf = () => processes.map((p) => procStatusBytes(p.pid, 'VmRSS'));
    const rssBefore = rssOf();
    const rssPeak = [...rssBefore];
    const sampler = setInterval(() => rssOf().forEach((rss, i) => (rssPeak[i] = Math.max(rssPeak[i]!, rss))), 50);
    const server = await serverCpu(url, new URL(url).pathname.slice(1));
    const wal = await walCounter(url);
    const nodeTicksOf = () => processes.map((p) => processTicks(p.pid, 'node'));
    const nodeTicks = nodeTicksOf();
    const startedAt = Date.now();
    const started = await graphql(apiUrl, token, `mutation ($id: ID!) { startCampaign(id: $id) { __typename ... on Error { message } } }`, { id: CAMPAIGN });
    if (started.startCampaign.__typename !== 'StartCampaignPayload') throw new Error(JSON.stringify(started));
    let timer: NodeJS.Timeout | undefined;
    const completed = await Promise.race([
      watchers[0]!.completed,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no COMPLETED within 10 minutes')), 600_000))),
    ]).finally(() => clearTimeout(timer));
    const reads = await reading?.stop();
    const lags = await completedLags(watchers);
    clearInterval(sampler);
    rssOf().forEach((rss, i) => (rssPeak[i] = Math.max(rssPeak[i]!, rss)));
    const vmHwm = processes.map((p) => procStatusBytes(p.pid, 'VmHWM'));
    const nodeTicksAfter = nodeTicksOf();
    const serverCpuSeconds = await server.stop();
    const work = await wal.stop();
    const walBytes = work.walBytes;
    const sizes = await deliveryTableSizes(url, users);
    const updates = await recipientUpdates(url);
    const feed = watchers[0]!.seen;
    await closeWatchers(watchers);
    // The api process logs its live-events hub's reads as it stops.
    await api.terminate(30_000);
    if (process.env.BENCH_LOG_DIR) for (const p of processes) writeFileSync(join(process.env.BENCH_LOG_DIR, `${p.name}.log`), p.output());
    const liveReads = Number(api.logs.find((e) => e.msg === 'stopped')?.liveReads ?? NaN);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = await client
      .query<{ sent: number; recipients: number; messages: number; channels: number; members: number } & Timeline>(
        `SELECT (SELECT messages_sent FROM campaigns WHERE id = $1) AS sent,
                (SELECT started_at FROM campaigns WHERE id = $1) AS started,
                (SELECT materialized_at FROM campaigns WHERE id = $1) AS materialized,
                (SELECT min(sent_at) FROM campaign_sends WHERE campaign_id = $1) AS "firstBatch",
                (SELECT max(sent_at) FROM campaign_sends WHERE campaign_id = $1) AS "lastBatch",
                (SELECT count(*)::int FROM recipients WHERE campaign_id = $1 AND status = 'SENT') AS recipients,
                (SELECT count(*)::int FROM messages WHERE campaign_id = $1) AS messages,
                (SELECT count(*)::int FROM channels) AS channels,
                (SELECT count(*)::int FROM channel_members) AS members`,
        [CAMPAIGN],
      )
      .finally(() => client.end());
    const check = rows.rows[0]!;
    if (check.sent !== users || check.recipients !== users || check.messages !== users || check.channels !== users || check.members !== 2 * users) {
      throw new Error(`unexpected rows after delivery: ${JSON.stringify(check)}`);
    }

    const completedAt = Date.parse(completed.completedAt!);
    const progress = feed.filter((e) => e.status === 'IN_PROGRESS');
    const firstAfter = (match: (e: (typeof progress)[number]) => boolean) => {
      const state = progress.find(match);
      return state ? state.at - startedAt : null;
    };
    const seen = [...progress, completed];
    const gaps = seen.slice(1).map((e, i) => e.at - seen[i]!.at);
    const staleness = seen.map((e) => e.at - Date.parse(e.status === 'COMPLETED' ? e.completedAt! : e.updatedAt));
    const seconds = (completedAt - startedAt) / 1000;
    const cpu = nodeTicks.map((before, i) => (before === null || nodeTicksAfter[i] === null ? null : round((nodeTicksAfter[i]! - before) / TICKS_PER_SECOND, 1)));
    const events = feed.length - 1; // after the initial DRAFT state
    const since = (at: Date) => at.getTime() - startedAt;
    return {
      batchSize: settings('deliveryBatchSize'),
      lanes: settings('deliveryLanes'),
      /** Beacon's processes: `all`, or `api` then the workers. */
      processes: processes.map((p) => p.name),
      seconds: round(seconds, 2),
      /**
       * Ms from the startCampaign call to the campaign row's startedAt and materializedAt
       * (the last chunk's transaction start: the whole audience written), the first and the
       * last batch's grant (sent_at), and completedAt: where a run's time goes.
       */
      phasesMs: {
        started: since(check.started),
        materialized: since(check.materialized),
        firstBatch: since(check.firstBatch),
        lastBatch: since(check.lastBatch),
        completed: completedAt - startedAt,
      },
      recipientsPerSecond: Math.round(users / seconds),
      /** Of the (first) Beacon process: before startCampaign, the highest sample, and the kernel's peak. */
      rssMb: { beforeStart: mb(rssBefore[0]!), peak: mb(rssPeak[0]!), vmHwm: mb(vmHwm[0]!) },
      /** Peak RSS of each process, in the order of `processes`. */
      rssPeakMbByProcess: rssPeak.map(mb),
      cpuSeconds: {
        beacon: cpu.some((c) => c === null) ? null : round(cpu.reduce((a, b) => a! + b!, 0)!, 1),
        server: serverCpuSeconds,
        /** Each Beacon process's share, in the order of `processes`. */
        beaconByProcess: cpu,
      },
      events: {
        progressEvents: progress.length,
        /** From the startCampaign call to the first state a subscriber received with part of the audience written (or a message sent). */
        firstProgressMs: firstAfter((e) => e.recipientsTotal > 0 || e.messagesSent > 0),
        /** … and to the first with a message sent. */
        firstSentMs: firstAfter((e) => e.messagesSent > 0),
        meanGapMs: gaps.length ? Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length) : null,
        maxGapMs: gaps.length ? Math.max(...gaps) : null,
        /** Receipt time minus the committed state's updatedAt/completedAt (set just before its commit). */
        meanLagMs: Math.round(staleness.reduce((a, b) => a + b, 0) / staleness.length),
        completedLagMs: completed.at - completedAt,
      },
      subscribers: {
        count: subscribers,
        /** From completedAt to each subscriber receiving COMPLETED. */
        completedLagMs: lags,
        /**
         * Campaign reads the api process's live-events hub made in its whole life — the
         * subscribers' initial states as they connected (in groups of 100) included — and that
         * per event the first subscriber received. bench:subscribers counts the run alone.
         */
        liveReads,
        liveReadsPerEvent: round(liveReads / Math.max(1, events), 2),
      },
      readers: reads ? { count: readers, ...reads } : null,
      /**
       * PostgreSQL's own work: WAL written from startCampaign to COMPLETED (the whole
       * server's: other databases' writes count too), and the delivery tables' size
       * (heap, indexes, TOAST) after the run.
       */
      database: {
        walMb: mb(walBytes),
        walBytesPerRecipient: Math.round(walBytes / users),
        blocksReadPerRecipient: round(work.blocksRead / users, 2),
        /** The relations those reads were of (the six most read), per recipient. */
        blocksReadPerRecipientBy: Object.fromEntries(Object.entries(work.blocksReadByRelation).slice(0, 6).map(([name, read]) => [name, round(read / users, 3)])),
        blocksHitPerRecipient: round(work.blocksHit / users, 1),
        backendWritesPerRecipient: round(work.buffersWrittenByBackends / users, 2),
        recipientUpdatesHot: `${updates.hot} of ${updates.updates}`,
        tableMb: sizes.mb,
        bytesPerRecipient: sizes.bytesPerRecipient,
      },
    };
  } finally {
    await Promise.all(processes.map((p) => p.kill()));
  }
}

/** The report as rows of a table: one figure a row, nested keys joined by dots (`floor.stepsMs.members`). */
function figureRows(report: Record<string, unknown>, prefix = ''): { figure: string; value: unknown }[] {
  return Object.entries(report).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' ? figureRows(value as Record<string, unknown>, `${prefix}${key}.`) : [{ figure: `${prefix}${key}`, value }],
  );
}

const database = `beacon_bench_${randomBytes(6).toString('hex')}`;
const floorDatabase = `${database}_floor`;
await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
try {
  const url = databaseUrl(adminUrl, database);
  await applyMigrations(url);
  const seedStart = performance.now();
  await seed(url);
  const seedMs = performance.now() - seedStart;
  if (withFloor) await adminQuery(adminUrl, `CREATE DATABASE ${floorDatabase} TEMPLATE ${database}`);

  const loadBefore = round(loadavg()[0]!, 2);
  const run = await endToEnd(url);
  const bulk = withFloor ? await floor(databaseUrl(adminUrl, floorDatabase)) : null;
  if (bulk && bulk.messages !== users) throw new Error(`the floor wrote ${bulk.messages} messages, not ${users}`);
  const floorPerSecond = bulk ? Math.round(users / (bulk.ms / 1000)) : null;
  const ratio = floorPerSecond === null ? null : round(floorPerSecond / run.recipientsPerSecond, 2);
  const report = {
    users,
    seedMs: Math.round(seedMs),
    loadAverage: { before: loadBefore, after: round(loadavg()[0]!, 2) },
    ...run,
    floor: bulk && { seconds: round(bulk.ms / 1000, 2), recipientsPerSecond: floorPerSecond, stepsMs: bulk.stepsMs, serverCpuSeconds: bulk.serverCpuSeconds },
    /** Floor throughput ÷ end-to-end throughput (below 1: faster than the floor, which uses one backend). */
    floorRatio: ratio,
  };
  console.log(JSON.stringify(report, null, 2));
  console.table(figureRows(report));
  console.log(
    `delivery of ${users.toLocaleString('en')} recipients (batch ${run.batchSize}, ${run.lanes} lanes, load ${loadBefore}): ` +
      `${run.recipientsPerSecond.toLocaleString('en')}/s end to end, ${floorPerSecond === null ? 'no floor' : `floor ${floorPerSecond.toLocaleString('en')}/s (ratio ${ratio})`}, ` +
      `peak RSS ${run.rssMb.peak} MB, COMPLETED seen ${run.events.completedLagMs} ms after commit, progress every ${run.events.meanGapMs} ms, ` +
      `first progress ${run.events.firstProgressMs} ms (first sent ${run.events.firstSentMs} ms) after startCampaign; ` +
      `server CPU ${run.cpuSeconds.server} s, Beacon ${run.cpuSeconds.beacon} s, WAL ${run.database.walMb} MB (${run.database.walBytesPerRecipient} B/recipient), ${run.database.blocksReadPerRecipient} blocks read and ${run.database.backendWritesPerRecipient} written by backends per recipient`,
  );
  console.log(
    `${run.processes.join(' + ')}; ${subscribers.toLocaleString('en')} subscriber(s): COMPLETED p99 ${run.subscribers.completedLagMs.p99} ms, ` +
      `${run.subscribers.liveReads} live-hub reads in all (initial states included)` +
      (run.readers ? `; ${readers} readers: p50 ${run.readers.ms.p50} / p99 ${run.readers.ms.p99} ms over ${run.readers.requests} reads (${run.readers.errors} errors; the readers' process ${run.readers.clientCpuSeconds} CPU s)` : ''),
  );
} finally {
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${floorDatabase} WITH (FORCE)`);
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
process.exit(0);
