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
 * Usage: npm run bench:delivery -- --users 100000
 * BENCH_DATABASE_URL or DATABASE_URL: a server URL allowed to CREATE DATABASE (default the
 * local postgres@127.0.0.1:5432). BEACON_DELIVERY_BATCH_SIZE / BEACON_DELIVERY_LANES /
 * BEACON_DELIVERY_RATE are read as Beacon reads them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signServerToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { applyMigrations } from '../src/db/migrations.js';
import { distinctChannelId } from '../src/chat/channels.service.js';
import { adminQuery, databaseUrl } from '../test/setup/global-setup.js';
import { TEST_SECRET } from '../test/helpers/secret.js';
import { npmStartArgs, startWorker, type WorkerProcess } from '../test/helpers/worker-process.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const usersArg = process.argv.indexOf('--users');
const users = usersArg === -1 ? 100_000 : Number(process.argv[usersArg + 1]);
if (!Number.isInteger(users) || users < 1000) throw new Error('--users needs an integer ≥ 1,000');

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
/** distinctChannelId([sender, user]) in SQL: sha256 of the sorted ids joined by NUL, base64url, 32 chars. */
const floorCid = (user: string) => `'messaging:!members-' || left(translate(encode(sha256(
    convert_to(least(${user}, $2) COLLATE "C", 'UTF8') || '\\x00'::bytea || convert_to(greatest(${user}, $2) COLLATE "C", 'UTF8')),
  'base64'), '+/=', '-_'), 32)`;
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

/** Clock ticks of a local process, or null when `pid` is not a local process named `name`. */
function processTicks(pid: number, name = 'postgres'): number | null {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== name) return null;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds the server spends on one database, when the server runs on this machine:
 * samples its backends (pg_stat_activity) every 200 ms, so backends that exit still count.
 */
async function serverCpu(url: string, database: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const own = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let local = true;
  const sample = async () => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2', [database, own]);
    for (const { pid } of rows) {
      const ticks = processTicks(pid);
      if (ticks === null) local = false;
      else {
        if (!first.has(pid)) first.set(pid, ticks);
        last.set(pid, ticks);
      }
    }
  };
  await sample();
  const started = new Set(first.keys());
  const timer = setInterval(() => void sample().catch(() => {}), 200);
  return {
    async stop(): Promise<number | null> {
      clearInterval(timer);
      await sample();
      await client.end();
      if (!local) return null;
      let ticks = 0;
      // Backends that started during the run count from zero.
      for (const [pid, value] of last) ticks += value - (started.has(pid) ? first.get(pid)! : 0);
      return round(ticks / TICKS_PER_SECOND, 1);
    },
  };
}

/** When a run's phases happened, from the database rows. */
interface Timeline {
  started: Date;
  materialized: Date;
  firstBatch: Date;
  lastBatch: Date;
}

interface CampaignEvent {
  receivedAt: number;
  status: string;
  updatedAt: string;
  completedAt: string | null;
  messagesSent: number;
}

/** Subscribes to campaignUpdated(id) over graphql-ws; resolves `done` on COMPLETED. */
function subscribe(apiUrl: string, token: string) {
  const events: CampaignEvent[] = [];
  const client = createClient({
    url: apiUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  let resolveDone!: (event: CampaignEvent) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<CampaignEvent>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  let resolveFirst!: () => void;
  const first = new Promise<void>((resolve, reject) => {
    resolveFirst = resolve;
    void done.catch(reject);
  });
  const query = `subscription ($id: ID) { campaignUpdated(id: $id) { status updatedAt completedAt stats { messagesSent } } }`;
  client.subscribe<{ campaignUpdated: { status: string; updatedAt: string; completedAt: string | null; stats: { messagesSent: number } } }>(
    { query, variables: { id: CAMPAIGN } },
    {
      next: (result) => {
        const c = result.data?.campaignUpdated;
        if (!c) return rejectDone(new Error(JSON.stringify(result.errors)));
        const event = { receivedAt: Date.now(), status: c.status, updatedAt: c.updatedAt, completedAt: c.completedAt, messagesSent: c.stats.messagesSent };
        events.push(event);
        resolveFirst();
        if (c.status === 'COMPLETED') resolveDone(event);
        else if (c.status !== 'DRAFT' && c.status !== 'IN_PROGRESS') rejectDone(new Error(`campaign ended ${c.status}`));
      },
      error: rejectDone,
      complete: () => {},
    },
  );
  return { events, first, done, close: () => client.dispose() };
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

/** Beacon as its own process (as `npm start` runs it, role all) on `url`; resolves once it serves. */
async function startBeacon(url: string): Promise<{ beacon: WorkerProcess; apiUrl: string }> {
  // Beacon's own batch size unless this environment sets one (the worker helper's default is the tests' small batches).
  const batchSize = String(loadConfig({ DATABASE_URL: url }).deliveryBatchSize);
  const env: Record<string, string> = { BEACON_ROLE: 'all', LOG_LEVEL: 'info', BEACON_DELIVERY_BATCH_SIZE: batchSize };
  for (const [key, value] of Object.entries(process.env)) if (key.startsWith('BEACON_DELIVERY_') && value) env[key] = value;
  const beacon = await startWorker({ databaseUrl: url, name: 'bench', nodeArgs: npmStartArgs(), env });
  const started = beacon.logs.find((e) => e.msg === 'beacon started');
  return { beacon, apiUrl: String(started!.graphql) };
}

/** Runs the campaign through a Beacon process; returns the figures. */
async function endToEnd(url: string) {
  const { beacon, apiUrl } = await startBeacon(url);
  const settings = (key: string) => Number(beacon.logs.find((e) => e.msg === 'beacon started')?.[key] ?? NaN);
  try {
    const token = await signServerToken(TEST_SECRET);
    await createCampaign(apiUrl, token);
    const feed = subscribe(apiUrl, token);
    await feed.first; // the DRAFT state: the subscription is live
    const rssBefore = procStatusBytes(beacon.pid, 'VmRSS');
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, procStatusBytes(beacon.pid, 'VmRSS'))), 50);
    const server = await serverCpu(url, new URL(url).pathname.slice(1));
    const nodeTicks = processTicks(beacon.pid, 'node');
    const startedAt = Date.now();
    const started = await graphql(apiUrl, token, `mutation ($id: ID!) { startCampaign(id: $id) { __typename ... on Error { message } } }`, { id: CAMPAIGN });
    if (started.startCampaign.__typename !== 'StartCampaignPayload') throw new Error(JSON.stringify(started));
    let timer: NodeJS.Timeout | undefined;
    const completed = await Promise.race([
      feed.done,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no COMPLETED within 10 minutes')), 600_000))),
    ]).finally(() => clearTimeout(timer));
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, procStatusBytes(beacon.pid, 'VmRSS'));
    const vmHwm = procStatusBytes(beacon.pid, 'VmHWM');
    const nodeTicksAfter = processTicks(beacon.pid, 'node');
    const serverCpuSeconds = await server.stop();
    await feed.close();

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = await client
      .query<{ sent: number; recipients: number; messages: number; channels: number; members: number } & Timeline>(
        `SELECT (SELECT messages_sent FROM campaigns WHERE id = $1) AS sent,
                (SELECT started_at FROM campaigns WHERE id = $1) AS started,
                (SELECT materialized_at FROM campaigns WHERE id = $1) AS materialized,
                (SELECT min(sent_at) FROM recipients WHERE campaign_id = $1 AND sent_at IS NOT NULL) AS "firstBatch",
                (SELECT max(sent_at) FROM recipients WHERE campaign_id = $1 AND sent_at IS NOT NULL) AS "lastBatch",
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
    const progress = feed.events.filter((e) => e.status === 'IN_PROGRESS');
    const seen = [...progress, completed];
    const gaps = seen.slice(1).map((e, i) => e.receivedAt - seen[i]!.receivedAt);
    const staleness = seen.map((e) => e.receivedAt - Date.parse(e.status === 'COMPLETED' ? e.completedAt! : e.updatedAt));
    const seconds = (completedAt - startedAt) / 1000;
    const since = (at: Date) => at.getTime() - startedAt;
    return {
      batchSize: settings('deliveryBatchSize'),
      lanes: settings('deliveryLanes'),
      seconds: round(seconds, 2),
      /**
       * Ms from the startCampaign call to the campaign row's startedAt and materializedAt (the
       * materializing transaction's start), the first and the last batch's grant (sent_at),
       * and completedAt: where a run's time goes.
       */
      phasesMs: {
        started: since(check.started),
        materialized: since(check.materialized),
        firstBatch: since(check.firstBatch),
        lastBatch: since(check.lastBatch),
        completed: completedAt - startedAt,
      },
      recipientsPerSecond: Math.round(users / seconds),
      /** Of the Beacon process: before startCampaign, the highest sample, and the kernel's peak. */
      rssMb: { beforeStart: mb(rssBefore), peak: mb(rssPeak), vmHwm: mb(vmHwm) },
      cpuSeconds: {
        beacon: nodeTicks === null || nodeTicksAfter === null ? null : round((nodeTicksAfter - nodeTicks) / TICKS_PER_SECOND, 1),
        server: serverCpuSeconds,
      },
      events: {
        progressEvents: progress.length,
        meanGapMs: gaps.length ? Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length) : null,
        maxGapMs: gaps.length ? Math.max(...gaps) : null,
        /** Receipt time minus the committed state's updatedAt/completedAt (set just before its commit). */
        meanLagMs: Math.round(staleness.reduce((a, b) => a + b, 0) / staleness.length),
        completedLagMs: completed.receivedAt - completedAt,
      },
    };
  } finally {
    await beacon.kill();
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
  await adminQuery(adminUrl, `CREATE DATABASE ${floorDatabase} TEMPLATE ${database}`);

  const loadBefore = round(loadavg()[0]!, 2);
  const run = await endToEnd(url);
  const bulk = await floor(databaseUrl(adminUrl, floorDatabase));
  if (bulk.messages !== users) throw new Error(`the floor wrote ${bulk.messages} messages, not ${users}`);
  const floorPerSecond = Math.round(users / (bulk.ms / 1000));
  const ratio = round(floorPerSecond / run.recipientsPerSecond, 2);
  const report = {
    users,
    seedMs: Math.round(seedMs),
    loadAverage: { before: loadBefore, after: round(loadavg()[0]!, 2) },
    ...run,
    floor: { seconds: round(bulk.ms / 1000, 2), recipientsPerSecond: floorPerSecond, stepsMs: bulk.stepsMs, serverCpuSeconds: bulk.serverCpuSeconds },
    /** Floor throughput ÷ end-to-end throughput (below 1: faster than the floor, which uses one backend). */
    floorRatio: ratio,
  };
  console.log(JSON.stringify(report, null, 2));
  console.table(figureRows(report));
  console.log(
    `delivery of ${users.toLocaleString('en')} recipients (batch ${run.batchSize}, ${run.lanes} lanes, load ${loadBefore}): ` +
      `${run.recipientsPerSecond.toLocaleString('en')}/s end to end, floor ${floorPerSecond.toLocaleString('en')}/s (ratio ${ratio}), ` +
      `peak RSS ${run.rssMb.peak} MB, COMPLETED seen ${run.events.completedLagMs} ms after commit, progress every ${run.events.meanGapMs} ms`,
  );
} finally {
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${floorDatabase} WITH (FORCE)`);
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
process.exit(0);
