/**
 * Stop latency while a large audience is being written (src/delivery/materialize.ts).
 *
 * Seeds `--users` users that match a filter segment (plus 10% that do not) and a DRAFT 1:1
 * campaign over it, in SQL, on a scratch database; starts Beacon as its own process (as
 * `npm start` runs it, role all); subscribes to `campaignUpdated`, calls `startCampaign`,
 * and `--stop-after` ms later (default 2,000: mid-materialization at 1,000,000) calls
 * `stopCampaign`. It then reads the campaign row every 10 ms until its audience cursor and
 * counters have not moved for 2 s, and prints:
 *   firstProgressMs  startCampaign → the first event with part of the audience written;
 *   stopCallMs       how long the stopCampaign call took;
 *   audienceStopMs   stopCampaign call → the last change of the written audience, at 10 ms
 *                    resolution (a chunk in flight rolls back: none shows after the stop);
 *   sentStopMs       the same for messages sent (a batch in flight rolls back);
 *   written          recipients written by then, of `users`, and whether it was complete.
 *
 * Usage: npm run bench:stop -- --users 1000000 [--stop-after 2000]
 * BEACON_DELIVERY_* are read as Beacon reads them (batch 1,000 as in bench:delivery).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signServerToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from '../test/helpers/secret.js';
import { npmStartArgs, startWorker } from '../test/helpers/worker-process.js';
import { beaconDefaults } from './load/beacon-env.js';
import { intArg } from './load/args.js';
import { withScratchDatabase } from './load/scratch.js';

const users = intArg('users', 1_000_000, 1000);
const stopAfterMs = intArg('stop-after', 2000, 0);
const CAMPAIGN = 'bench-stop';
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO users (id, name, role, custom)
      SELECT 'user-' || n, 'User ' || n, 'user', jsonb_build_object('plan', CASE WHEN n <= $1 THEN 'pro' ELSE 'free' END)
      FROM generate_series(1, $1 + $1 / 10) AS n
      UNION ALL SELECT 'bench-sender', 'Beacon', 'admin', '{}'`, [users]);
    await client.query(`INSERT INTO segments (id, type, name, filter, updated_at) VALUES ('bench-pro', 'USER', 'Pro users', '{"plan": "pro"}', now())`);
    await client.query(
      `INSERT INTO campaigns (id, name, sender_id, message_template, create_channels, updated_at) VALUES ($1, 'Stop', 'bench-sender', $2, true, now())`,
      [CAMPAIGN, JSON.stringify({ text: 'Hi {{ user.name }}', attachments: [], custom: {} })],
    );
    await client.query(`INSERT INTO campaign_segments (campaign_id, segment_id, position) VALUES ($1, 'bench-pro', 0)`, [CAMPAIGN]);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function graphql(apiUrl: string, token: string, query: string): Promise<Record<string, { __typename: string }>> {
  const response = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: { id: CAMPAIGN } }),
  });
  const result = (await response.json()) as { data?: Record<string, { __typename: string }>; errors?: unknown };
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data;
}

interface Row {
  status: string;
  written: number;
  through: string | null;
  complete: boolean;
  sent: number;
}

async function run(url: string) {
  const env: Record<string, string> = { ...beaconDefaults(), BEACON_ROLE: 'all', LOG_LEVEL: 'info', BEACON_DELIVERY_BATCH_SIZE: '1000' };
  for (const [key, value] of Object.entries(process.env)) if (key.startsWith('BEACON_DELIVERY_') && value) env[key] = value;
  const beacon = await startWorker({ databaseUrl: url, name: 'bench-stop', nodeArgs: npmStartArgs(), env });
  const apiUrl = String(beacon.logs.find((e) => e.msg === 'beacon started')!.graphql);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const token = await signServerToken(TEST_SECRET);
  const ws = createClient({ url: apiUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
  try {
    let firstProgressAt: number | undefined;
    let subscribed!: () => void;
    const live = new Promise<void>((resolve) => (subscribed = resolve));
    ws.subscribe<{ campaignUpdated: { stats: { recipientsTotal: number } } }>(
      { query: `subscription ($id: ID) { campaignUpdated(id: $id) { stats { recipientsTotal } } }`, variables: { id: CAMPAIGN } },
      {
        next: (result) => {
          subscribed();
          if ((result.data?.campaignUpdated.stats.recipientsTotal ?? 0) > 0) firstProgressAt ??= Date.now();
        },
        error: (error) => console.error('subscription failed', error),
        complete: () => {},
      },
    );
    await live;
    const read = async (): Promise<Row> =>
      (
        await db.query<Row>(
          `SELECT status::text AS status, recipients_total AS written, materialized_through AS through,
             materialized_at IS NOT NULL AS complete, messages_sent AS sent FROM campaigns WHERE id = $1`,
          [CAMPAIGN],
        )
      ).rows[0]!;
    const startedAt = Date.now();
    const started = await graphql(apiUrl, token, 'mutation ($id: ID!) { startCampaign(id: $id) { __typename } }');
    if (started.startCampaign!.__typename !== 'StartCampaignPayload') throw new Error(JSON.stringify(started));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + stopAfterMs - Date.now())));
    const atCall = await read();
    const stopAt = Date.now();
    const stopped = await graphql(apiUrl, token, 'mutation ($id: ID!) { stopCampaign(id: $id) { __typename } }');
    const stopCallMs = Date.now() - stopAt;
    if (stopped.stopCampaign!.__typename !== 'StopCampaignPayload') throw new Error(JSON.stringify(stopped));
    // Last moments the audience (cursor or total) and the sent counter changed.
    let last = await read();
    let audienceAt = stopAt;
    let sentAt = stopAt;
    while (Date.now() - Math.max(audienceAt, sentAt) < 2000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const now = await read();
      if (now.written !== last.written || now.through !== last.through || now.complete !== last.complete) audienceAt = Date.now();
      if (now.sent !== last.sent) sentAt = Date.now();
      last = now;
    }
    return {
      stopAfterMs,
      firstProgressMs: firstProgressAt === undefined ? null : firstProgressAt - startedAt,
      stopCallMs,
      audienceStopMs: audienceAt - stopAt,
      sentStopMs: sentAt - stopAt,
      atStopCall: { written: atCall.written, complete: atCall.complete, sent: atCall.sent },
      final: { status: last.status, written: last.written, complete: last.complete, sent: last.sent },
    };
  } finally {
    await ws.dispose();
    await db.end();
    await beacon.kill();
  }
}

await withScratchDatabase(seed, async (url) => {
  const loadBefore = round(loadavg()[0]!, 2);
  const result = await run(url);
  const report = { users, loadAverage: { before: loadBefore, after: round(loadavg()[0]!, 2) }, ...result };
  console.log(JSON.stringify(report, null, 2));
  console.log(
    `stop during materialization of ${users.toLocaleString('en')} (load ${loadBefore}): first progress ${result.firstProgressMs} ms after startCampaign; ` +
      `stopCampaign at ${stopAfterMs} ms took ${result.stopCallMs} ms; audience still at ${result.audienceStopMs} ms, messages at ${result.sentStopMs} ms after the call; ` +
      `${result.final.written.toLocaleString('en')} written (${result.final.complete ? 'complete' : 'partial'}), ${result.final.status}`,
  );
});
process.exit(0);
