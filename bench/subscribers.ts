/**
 * What live subscribers cost: one running campaign watched by 1 and by N graphql-ws clients.
 *
 * Creates a scratch database, migrates it, seeds `--recipients` users, an all-users segment
 * and a DRAFT campaign over it in SQL, and clones it once per run. Each run starts Beacon as
 * its own process (compiled, `npm start`'s V8 flags, role `all`; bench/subscribers-beacon.mjs,
 * which also counts Prisma's queries), opens the subscribers (each its own WebSocket), waits
 * for every initial state, makes `--fanout-events` changes of the DRAFT campaign first (the
 * fan-out phase: what an event costs per subscriber with no delivery beside it), then
 * starts the campaign and waits until every subscriber has seen
 * COMPLETED. Figures per run, while the campaign ran: the events a subscriber received,
 * the reads the live-events hub made for subscribers (and per event), the executions of the
 * subscribers' selection per event (shared by all 1,000: one), every SELECT of the
 * campaigns table (delivery's own included) and every query, time from `completedAt` to
 * each subscriber seeing COMPLETED (p50, p99, max), Beacon's RSS (idle, with the
 * subscribers, peak), and CPU seconds of Beacon and of the clients (this process: all
 * subscribers share its one thread and the machine's cores with Beacon), and what the
 * subscribers add to Beacon's CPU per event and subscriber (the two runs' difference).
 * Prints a table and JSON, then drops the databases. Other load on the machine skews the
 * wall-clock figures: the load average is printed with them.
 *
 * Usage: npm run bench:subscribers -- --subscribers 1000 --recipients 20000 [--fanout-events 20] [--cpu-prof DIR]
 * BENCH_DATABASE_URL or DATABASE_URL: a server URL allowed to CREATE DATABASE (default the
 * local postgres@127.0.0.1:5432).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { signServerToken } from '../src/auth/tokens.js';
import { applyMigrations } from '../src/db/migrations.js';
import { adminQuery, databaseUrl } from '../test/setup/global-setup.js';
import { TEST_SECRET } from '../test/helpers/secret.js';
import { npmStartArgs } from '../test/helpers/worker-process.js';
import { closeWatchers, completedLags, openWatchers, type Watcher } from './load/watchers.js';
import { adminUrl, intArg } from './load/args.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const subscribers = intArg('subscribers', 1000, 1);
const recipients = intArg('recipients', 20_000, 100);
/** Events of the fan-out phase (see `fanout`). */
const fanoutEvents = intArg('fanout-events', 20, 1);

/** `--cpu-prof DIR`: Beacon writes a V8 CPU profile of each run into DIR. */
const cpuProfDir = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined;

const CAMPAIGN = 'bench-live';

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Users, an all-users segment and the DRAFT campaign (1:1 channels created on the way). */
async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO users (id, name, role) SELECT 'user-' || n, 'User ' || n, 'user' FROM generate_series(1, $1) AS n`, [recipients]);
    await client.query(`INSERT INTO users (id, name, role) VALUES ('bench-sender', 'Beacon', 'admin')`);
    await client.query(`INSERT INTO segments (id, type, name, all_users, updated_at) VALUES ('bench-all', 'USER', 'Everyone', true, now())`);
    await client.query(
      `INSERT INTO campaigns (id, name, sender_id, message_template, create_channels, updated_at)
       VALUES ($1, 'Live bench', 'bench-sender', '{"text": "Hi {{ user.name }}", "attachments": [], "custom": {}}', true, now())`,
      [CAMPAIGN],
    );
    await client.query(`INSERT INTO campaign_segments (campaign_id, segment_id, position) VALUES ($1, 'bench-all', 0)`, [CAMPAIGN]);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

function vmRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.replace(/\D+/g, '')) * 1024 : NaN;
}

/** CPU seconds (user + system) of a local process so far, and the system part alone. */
function cpuSeconds(pid: number): { total: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { total: (Number(fields[11]) + Number(fields[12])) / 100, system: Number(fields[12]) / 100 };
}

interface Counts {
  queries: number;
  /** SELECTs of the campaigns table, for any purpose (delivery's own included). */
  campaignReads: number;
  /** Reads the live-events hub made for subscribers. */
  liveReads: number;
  /** Executions of subscribers' selections (shared by subscribers with the same one). */
  executions: number;
}

/** Beacon (bench/subscribers-beacon.mjs) on `url`; resolves with its API URL once it serves. */
async function startBeacon(url: string) {
  const execArgv = [...npmStartArgs().slice(0, -1), ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [])];
  const child: ChildProcess = fork(join(ROOT, 'bench/subscribers-beacon.mjs'), [], {
    cwd: ROOT,
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: url,
      PORT: '0',
      BEACON_ROLE: 'all',
      BEACON_API_SECRET: TEST_SECRET,
      BEACON_DATA_DIR: mkdtempSync(join(tmpdir(), 'beacon-bench-')),
      LOG_LEVEL: 'warn',
    },
  });
  const apiUrl = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`beacon exited with ${code}`)));
    child.on('message', (message: { started?: boolean; url?: string }) => {
      if (message.started) resolve(message.url!);
    });
  });
  const counts = () =>
    new Promise<Counts>((resolve) => {
      const answer = (message: Counts & { started?: boolean }) => {
        if (message.started) return;
        child.off('message', answer);
        resolve(message);
      };
      child.on('message', answer);
      child.send({ count: true });
    });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  };
  // Reports a change of campaign `id` in Beacon, as a writer does after its commit.
  const touch = (id: string) => child.send({ touch: id });
  return { pid: child.pid!, apiUrl, counts, touch, stop };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The fan-out phase, before the campaign starts: `fanoutEvents` changes of the DRAFT
 * campaign (its description, written in SQL, then reported to Beacon as a writer would:
 * `campaignChanged`), 300 ms apart so each is an event of its own, each awaited until every
 * subscriber has it. Returns Beacon's CPU seconds meanwhile: what an event costs without
 * delivery running beside it.
 */
async function fanout(url: string, beacon: { pid: number; touch(id: string): void }, clients: readonly Watcher[]) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const cpuBefore = cpuSeconds(beacon.pid);
    for (let i = 1; i <= fanoutEvents; i += 1) {
      const seen = clients.map((c) => c.seen.length);
      await db.query(`UPDATE campaigns SET description = $2, updated_at = now() WHERE id = $1`, [CAMPAIGN, `Fan-out ${i}`]);
      beacon.touch(CAMPAIGN);
      const deadline = Date.now() + 10_000;
      while (clients.some((c, n) => c.seen.length <= seen[n]!)) {
        if (Date.now() > deadline) throw new Error('a subscriber missed a fan-out event');
        await sleep(10);
      }
      await sleep(300);
    }
    return cpuSeconds(beacon.pid).total - cpuBefore.total;
  } finally {
    await db.end();
  }
}

/** One run on its own copy of the seeded database. */
async function run(url: string, count: number) {
  const beacon = await startBeacon(url);
  let clients: Watcher[] = [];
  try {
    const token = await signServerToken(TEST_SECRET);
    const rssIdle = vmRss(beacon.pid);
    const wsUrl = beacon.apiUrl.replace(/^http/, 'ws');
    clients = await openWatchers(wsUrl, token, CAMPAIGN, count);
    const fanoutCpu = await fanout(url, beacon, clients);
    const seenBefore = clients[0]!.seen.length;
    const rssSubscribed = vmRss(beacon.pid);
    let rssPeak = rssSubscribed;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, vmRss(beacon.pid))), 50);
    const before = await beacon.counts();
    const startedAt = Date.now();
    const cpuBefore = { beacon: cpuSeconds(beacon.pid), clients: cpuSeconds(process.pid) };
    const response = await fetch(beacon.apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation ($id: ID!) { startCampaign(id: $id) { __typename ... on Error { message } } }`, variables: { id: CAMPAIGN } }),
    });
    const started = (await response.json()) as { data?: { startCampaign: { __typename: string } } };
    if (started.data?.startCampaign.__typename !== 'StartCampaignPayload') throw new Error(JSON.stringify(started));
    const lags = await completedLags(clients);
    clearInterval(sampler);
    const cpuAfter = { beacon: cpuSeconds(beacon.pid), clients: cpuSeconds(process.pid) };
    const cpu = {
      beacon: cpuAfter.beacon.total - cpuBefore.beacon.total,
      beaconSystem: cpuAfter.beacon.system - cpuBefore.beacon.system,
      clients: cpuAfter.clients.total - cpuBefore.clients.total,
    };
    const after = await beacon.counts();
    const completedAt = Date.parse(clients[0]!.seen.find((e) => e.status === 'COMPLETED')!.completedAt!);
    // Events while it ran; every subscriber saw the same states (the first one's count).
    const events = clients[0]!.seen.length - seenBefore;
    const liveReads = after.liveReads - before.liveReads;
    return {
      subscribers: count,
      /** From the startCampaign call to the campaign's completedAt. */
      deliverySeconds: Number(((completedAt - startedAt) / 1000).toFixed(2)),
      events,
      liveReads,
      liveReadsPerEvent: Number((liveReads / events).toFixed(2)),
      executionsPerEvent: Number(((after.executions - before.executions) / events).toFixed(2)),
      campaignReads: after.campaignReads - before.campaignReads,
      queries: after.queries - before.queries,
      completedLagMs: lags,
      rssMb: { idle: mb(rssIdle), subscribed: mb(rssSubscribed), peak: mb(rssPeak) },
      /** CPU seconds while the campaign ran: Beacon's, and this process's (the subscribers' clients). */
      cpuSeconds: { beacon: Number(cpu.beacon.toFixed(1)), beaconSystem: Number(cpu.beaconSystem.toFixed(1)), clients: Number(cpu.clients.toFixed(1)) },
      /** Beacon's CPU seconds in the fan-out phase (before the campaign started). */
      fanoutCpuSeconds: Number(fanoutCpu.toFixed(2)),
    };
  } finally {
    await closeWatchers(clients);
    await beacon.stop();
  }
}

const database = `beacon_bench_${randomBytes(6).toString('hex')}`;
const copies = [`${database}_one`, `${database}_many`];
await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
try {
  const url = databaseUrl(adminUrl, database);
  await applyMigrations(url);
  await seed(url);
  for (const copy of copies) await adminQuery(adminUrl, `CREATE DATABASE ${copy} TEMPLATE ${database}`);
  const load = Number(loadavg()[0]!.toFixed(2));
  const one = await run(databaseUrl(adminUrl, copies[0]!), 1);
  const many = await run(databaseUrl(adminUrl, copies[1]!), subscribers);
  const rows = [one, many].map((r) => [
    r.subscribers.toLocaleString('en'),
    r.deliverySeconds,
    r.events,
    r.liveReads,
    r.liveReadsPerEvent,
    r.executionsPerEvent,
    r.campaignReads,
    r.queries,
    `${r.completedLagMs.p50} / ${r.completedLagMs.p99} / ${r.completedLagMs.max}`,
    `${r.rssMb.idle} / ${r.rssMb.subscribed} / ${r.rssMb.peak}`,
    `${r.cpuSeconds.beacon} (${r.cpuSeconds.beaconSystem}) / ${r.cpuSeconds.clients}`,
  ]);
  const header = ['subscribers', 'delivery s', 'events', 'live reads', 'live reads/event', 'executions/event', 'all campaign SELECTs', 'all queries', 'COMPLETED lag ms p50 / p99 / max', 'RSS MB idle / subscribed / peak', 'CPU s Beacon (system) / clients'];
  // What subscribers add to Beacon's CPU: the many-subscriber run less the one-subscriber run
  // (delivery's own CPU), per event and subscriber.
  const perEventAndSubscriber = (seconds: (r: typeof one) => number) =>
    Math.round(((seconds(many) - seconds(one)) / (many.events * many.subscribers - one.events)) * 1e6);
  const cpuPerEventPerSubscriberUs = perEventAndSubscriber((r) => r.cpuSeconds.beacon);
  const systemCpuPerEventPerSubscriberUs = perEventAndSubscriber((r) => r.cpuSeconds.beaconSystem);
  // The same from the fan-out phase, with no delivery beside it: the steadier figure.
  const fanoutCpuPerEventPerSubscriberUs = Math.round(((many.fanoutCpuSeconds - one.fanoutCpuSeconds) / (fanoutEvents * (many.subscribers - one.subscribers))) * 1e6);
  console.log(`live subscribers on one campaign of ${recipients.toLocaleString('en')} recipients (load ${load})`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(`Beacon CPU per event per subscriber: ${cpuPerEventPerSubscriberUs} µs (system ${systemCpuPerEventPerSubscriberUs} µs: socket writes, on loopback the receiving side's TCP work too)`);
  console.log(`Beacon CPU per event per subscriber without delivery (${fanoutEvents} changes of the DRAFT campaign): ${fanoutCpuPerEventPerSubscriberUs} µs`);
  console.log(
    JSON.stringify({ recipients, loadAverage: { before: load, after: Number(loadavg()[0]!.toFixed(2)) }, cpuPerEventPerSubscriberUs, systemCpuPerEventPerSubscriberUs, fanoutCpuPerEventPerSubscriberUs, runs: [one, many] }, null, 2),
  );
} finally {
  for (const copy of copies) await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`);
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
process.exit(0);
