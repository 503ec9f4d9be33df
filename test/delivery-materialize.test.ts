/**
 * A large audience is written chunk by chunk (src/delivery/materialize.ts): subscribers see
 * it grow, a stop lands between two chunks instead of waiting for the whole audience, and a
 * resume writes the rest — every recipient once, every message once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { materializeRecipients } from '../src/delivery/materialize.js';
import { distinctChannelId } from '../src/chat/channels.service.js';
import { campaignsWithFrontier, runDeliver, runStart } from '../src/delivery/engine.js';
import type pg from 'pg';
import { RateLimiter } from '../src/delivery/rate-limit.js';
import { createLogger } from '../src/logger.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createCampaign, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { createSegment } from './helpers/delivery-extra.js';
import { expectDeliveredOnce, messageCount, pglite, pollUntil, recipientTally, sleep } from './helpers/delivery-checks.js';
import { subscribeWs } from './helpers/subscriptions.js';
import { CampaignUpdatedDocument, ResumeCampaignDocument, StopCampaignDocument } from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { BEACON_JOB_POLL_MS: '200' } });
});
afterAll(() => t?.close());

/** Rows of the campaign in `recipients`, and what the campaign row says about them. */
async function audienceState(id: string) {
  const [row] = await t.app.db.prisma.$queryRaw<{ rows: number; total: number; materialized: boolean; through: string | null }[]>`
    SELECT (SELECT count(*)::int FROM recipients WHERE campaign_id = ${id}) AS rows, recipients_total AS total,
      materialized_at IS NOT NULL AS materialized, materialized_through AS through
    FROM campaigns WHERE id = ${id}`;
  return row!;
}

/** An IN_PROGRESS campaign (no job) over a segment of `count` new users `<prefix>-n` and their sender; returns its id. */
async function runningOver(prefix: string, count: number): Promise<string> {
  await t.app.db.prisma.$executeRaw`
    INSERT INTO users (id, name) SELECT ${prefix}::text || '-' || n, 'User ' || n FROM generate_series(1, ${count}::int) AS n
    UNION ALL SELECT ${prefix}::text || '-sender', 'Sender'`;
  const segment = await createSegment(t, { type: 'USER', name: prefix, filter: { id: { $autocomplete: `${prefix}-` } } });
  const id = await createCampaign(t, { name: prefix, senderId: `${prefix}-sender`, segmentIds: [segment], messageTemplate: { text: 'Hi' } });
  await t.app.db.prisma.campaign.update({ where: { id }, data: { status: 'IN_PROGRESS', startedAt: new Date() } });
  return id;
}

describe.skipIf(pglite)('materialization in chunks', { timeout: 180_000 }, () => {
  test('a 100,000-user audience grows live; a stop lands between chunks, nothing is sent after it, and a resume delivers everyone exactly once', async () => {
    const count = 100_000;
    // The audience and 10% more users outside it, by SQL; the sender matches the filter too.
    await t.app.db.prisma.$executeRaw`
      INSERT INTO users (id, name, custom)
      SELECT 'mat-' || n, 'User ' || n, jsonb_build_object('plan', CASE WHEN n <= ${count} THEN 'pro' ELSE 'free' END)
      FROM generate_series(1, ${count + count / 10}::int) AS n
      UNION ALL SELECT 'mat-sender', 'Sender', '{"plan": "pro"}'`;
    const segment = await createSegment(t, { type: 'USER', name: 'Pro', filter: { plan: 'pro' } });
    const id = await createCampaign(t, {
      name: 'Large',
      senderId: 'mat-sender',
      segmentIds: [segment],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi {{ user.name }}' },
    });
    const feed = subscribeWs(t, CampaignUpdatedDocument, { id });
    try {
      expect((await feed.next()).data?.campaignUpdated.status).toBe('DRAFT');
      await startCampaign(t, id);
      // Progress while materializing: part of the audience is counted, before all of it is.
      const growing = await feed.waitFor((r) => {
        const total = r.data?.campaignUpdated.stats.recipientsTotal ?? 0;
        return r.data?.campaignUpdated.status === 'IN_PROGRESS' && total > 0 && total < count;
      }, 20_000);
      expect(growing.data!.campaignUpdated.stats.recipientsTotal).toBeLessThan(count);

      const { stopCampaign } = await t.ok(StopCampaignDocument, { id });
      expect(stopCampaign).toMatchObject({ __typename: 'StopCampaignPayload', campaign: { status: 'STOPPED' } });
      const sentAtStop = await messageCount(t, id);
      // The chunk in flight commits, and no further one starts: the rows settle well before
      // the whole audience is written.
      let previous = -1;
      const settled = await pollUntil(
        async () => {
          const state = await audienceState(id);
          const still = state.rows === previous;
          previous = state.rows;
          return { ...state, still };
        },
        (s) => s.still,
        'the audience stops growing',
        10_000,
        500,
      );
      expect(settled).toMatchObject({ materialized: false, total: settled.rows });
      expect(settled.rows).toBeGreaterThan(0);
      expect(settled.rows).toBeLessThan(count);
      expect(settled.through).not.toBeNull();
      await sleep(1000);
      expect(await audienceState(id)).toMatchObject({ rows: settled.rows, materialized: false });
      // A batch in flight at the stop rolled back: nothing was sent after it returned.
      expect(await messageCount(t, id)).toBe(sentAtStop);
      const tally = await recipientTally(t, id);
      // (Either part can be empty: a stop before the first batch, or after the written rows drained.)
      const pending = settled.rows - sentAtStop;
      expect(tally).toEqual({ ...(sentAtStop ? { 'SENT/1': sentAtStop } : {}), ...(pending ? { 'PENDING/0': pending } : {}) });

      const { resumeCampaign } = await t.ok(ResumeCampaignDocument, { id });
      expect(resumeCampaign).toMatchObject({ __typename: 'ResumeCampaignPayload', campaign: { status: 'IN_PROGRESS' } });
      await expectDeliveredOnce(t, id, count, 150_000);
      expect(await audienceState(id)).toEqual({ rows: count, total: count, materialized: true, through: null });
      const audience = await t.app.db.prisma.$queryRaw<{ distinct: number; sender: number; outside: number }[]>`
        SELECT count(DISTINCT r.user_id)::int AS distinct,
          (count(*) FILTER (WHERE r.user_id = 'mat-sender'))::int AS sender,
          (count(*) FILTER (WHERE u.custom->>'plan' <> 'pro'))::int AS outside
        FROM recipients r JOIN users u ON u.id = r.user_id WHERE r.campaign_id = ${id}`;
      expect(audience).toEqual([{ distinct: count, sender: 0, outside: 0 }]);
      // The total only grew, and reached the audience before COMPLETED.
      const totals = feed.results.map((r) => r.data!.campaignUpdated.stats.recipientsTotal);
      expect(totals).toEqual([...totals].sort((a, b) => a - b));
    } finally {
      await feed.close();
    }
  });

  test('small chunks write a channel audience (a rule ∪ explicit targets) once, the cursor cleared at the end', async () => {
    // 60 channels (sorting before the tests' other channels): the sender is a member of the
    // even ones (the rule); targets name every third, one of them deleted below.
    await t.app.db.prisma.$executeRaw`INSERT INTO users (id, name) VALUES ('chan-sender', 'Sender')`;
    await t.app.db.prisma.$executeRaw`
      INSERT INTO channels (cid, type, id, created_by_id, member_count)
      SELECT 'club:chan-' || n, 'club', 'chan-' || n, 'chan-sender', 1 FROM generate_series(1, 60) AS n`;
    await t.app.db.prisma.$executeRaw`
      INSERT INTO channel_members (channel_cid, user_id) SELECT 'club:chan-' || n, 'chan-sender' FROM generate_series(2, 60, 2) AS n`;
    const targets = [...Array.from({ length: 20 }, (_, i) => `club:chan-${3 * (i + 1)}`)];
    const rule = await createSegment(t, { type: 'CHANNEL', name: 'Mine', allSenderChannels: true });
    const listed = await createSegment(t, { type: 'CHANNEL', name: 'Listed', targetIds: targets });
    const id = await createCampaign(t, { name: 'Channels', senderId: 'chan-sender', segmentIds: [rule, listed], messageTemplate: { text: 'Hi' } });
    await t.app.db.prisma.campaign.update({ where: { id }, data: { status: 'IN_PROGRESS' } });
    await t.app.db.prisma.$executeRaw`DELETE FROM channels WHERE cid = 'club:chan-60'`;
    const written: number[] = [];
    expect(await materializeRecipients(t.app.db.prisma, id, { firstChunkSize: 7, onChunk: (n) => void written.push(n) })).toBe('complete');
    // Even or a listed multiple of 3, up to 59 (60 is gone): 29 + 19 − 9 (multiples of 6) = 39, in several chunks.
    // Chunks of 7, 10, 15 … entities: the 59 channels take several.
    expect(written.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    expect(written.reduce((a, b) => a + b, 0)).toBe(39);
    expect(await audienceState(id)).toEqual({ rows: 39, total: 39, materialized: true, through: null });
    // A second run finds it complete and writes nothing.
    expect(await materializeRecipients(t.app.db.prisma, id)).toBe('complete');
    expect(await audienceState(id)).toMatchObject({ rows: 39, total: 39 });
  });

  test('users in two overlapping segments get one recipient row, and the campaign completes with the exact total', async () => {
    await t.app.db.prisma.$executeRaw`
      INSERT INTO users (id, name, custom)
      SELECT 'dup-' || n, 'User ' || n, jsonb_build_object('a', n % 2 = 0, 'b', n % 3 = 0)
      FROM generate_series(1, 12000) AS n
      UNION ALL SELECT 'dup-sender', 'Sender', '{"a": true}'`;
    const a = await createSegment(t, { type: 'USER', name: 'Even', filter: { a: true } });
    const b = await createSegment(t, { type: 'USER', name: 'Thirds', filter: { b: true } });
    const id = await createCampaign(t, { name: 'Both', senderId: 'dup-sender', segmentIds: [a, b], messageTemplate: { text: 'Hi' } });
    await startCampaign(t, id);
    // n even or a multiple of 3: 6,000 + 4,000 − 2,000. No channels to create: all ERRORED.
    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED', 60_000);
    expect(done.stats).toMatchObject({ recipientsTotal: 8000, messagesErrored: 8000, pending: 0 });
    expect(await audienceState(id)).toEqual({ rows: 8000, total: 8000, materialized: true, through: null });
  });

  test('a recipient row written before its chunk (by hand) is kept once: the chunk runs again tolerating it', async () => {
    await t.app.db.prisma.$executeRaw`
      INSERT INTO users (id, name) SELECT 'pre-' || n, 'User ' || n FROM generate_series(1, 40) AS n
      UNION ALL SELECT 'pre-sender', 'Sender'`;
    const segment = await createSegment(t, { type: 'USER', name: 'Pre', filter: { id: { $in: Array.from({ length: 40 }, (_, i) => `pre-${i + 1}`) } } });
    const id = await createCampaign(t, { name: 'Pre', senderId: 'pre-sender', segmentIds: [segment], messageTemplate: { text: 'Hi' } });
    await t.app.db.prisma.campaign.update({ where: { id }, data: { status: 'IN_PROGRESS' } });
    // One row in the second chunk (ids sort pre-1, pre-10 … pre-19, pre-2 …), one in the last.
    await t.app.db.prisma.$executeRaw`INSERT INTO recipients (campaign_id, user_id) VALUES (${id}, 'pre-13'), (${id}, 'pre-9')`;
    const written: number[] = [];
    expect(await materializeRecipients(t.app.db.prisma, id, { firstChunkSize: 7, onChunk: (n) => void written.push(n) })).toBe('complete');
    expect(written.length).toBeGreaterThanOrEqual(3);
    expect(written.reduce((a, b) => a + b, 0)).toBe(38);
    // The last chunk recounts the total from the rows: the two written by hand included.
    expect(await audienceState(id)).toEqual({ rows: 40, total: 40, materialized: true, through: null });
    const [dups] = await t.app.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT user_id FROM recipients WHERE campaign_id = ${id} GROUP BY user_id HAVING count(*) > 1) d`;
    expect(dups!.n).toBe(0);
  });

  test('each chunk waits for a slot (the process\'s batch slots while its API is busy) and gives it back when it ends', async () => {
    const id = await runningOver('slot', 20);
    let open!: () => void;
    const busy = new Promise<void>((resolve) => (open = resolve));
    let granted = 0;
    let held = 0;
    const heldAtChunkEnd: number[] = [];
    // The first slot comes only once a batch holding it ends (open()); the others at once.
    const slot = async () => {
      if (granted++ === 0) await busy;
      held += 1;
      return () => void (held -= 1);
    };
    const run = materializeRecipients(t.app.db.prisma, id, { firstChunkSize: 7, slot, onChunk: () => void heldAtChunkEnd.push(held) });
    await sleep(300);
    expect(await audienceState(id)).toMatchObject({ rows: 0, total: 0, materialized: false });
    open();
    expect(await run).toBe('complete');
    // 20 users and the sender, left out: chunks of 7, 10 … entities, one slot each, given back before the next.
    expect(await audienceState(id)).toEqual({ rows: 20, total: 20, materialized: true, through: null });
    expect(heldAtChunkEnd.length).toBeGreaterThanOrEqual(2);
    expect(heldAtChunkEnd.every((n) => n === 0)).toBe(true);
    expect(granted).toBe(heldAtChunkEnd.length);
    expect(held).toBe(0);
  });

  test('the start job takes its process\'s batch slots for the chunks it writes', async () => {
    const id = await runningOver('jobslot', 12);
    let acquired = 0;
    let released = 0;
    let chunks = 0;
    const outcome = await runStart(
      {
        prisma: t.app.db.prisma,
        pool: t.app.db.pool,
        logger: createLogger('silent'),
        // The start job reports each chunk it wrote as a change.
        hooks: { webhooks: false, changed: () => void (chunks += 1), announce: () => {} },
        batchSize: 100,
        lanes: 1,
        limiter: new RateLimiter(0),
        slots: { acquire: async () => ((acquired += 1), () => void (released += 1)) },
        reconnectWindowMs: 1000,
        enqueueLanes: async () => {},
      },
      id,
      { signal: new AbortController().signal, touch: async () => {} },
    );
    expect(outcome).toBe('done');
    expect(await audienceState(id)).toEqual({ rows: 12, total: 12, materialized: true, through: null });
    // A chunk covers a range of the whole users table (the other tests' users too): one slot each, given back.
    expect(chunks).toBeGreaterThanOrEqual(1);
    expect([acquired, released]).toEqual([chunks, chunks]);
  });

  test('an audience is written in key order, which for 1:1 conversations is the order of their channels', async () => {
    const id = await runningOver('order', 3000);
    // A second, overlapping segment: the audience is then a UNION, which no index delivers in key order.
    const overlap = await createSegment(t, { type: 'USER', name: 'order overlap', filter: { id: { $autocomplete: 'order-2' } } });
    await t.app.db.prisma.$executeRaw`INSERT INTO campaign_segments (campaign_id, segment_id, position) VALUES (${id}, ${overlap}, 1)`;
    expect(await materializeRecipients(t.app.db.prisma, id, { firstChunkSize: 100_000 })).toBe('complete');
    // List order is (created_at, id); ids are time-ordered across milliseconds only. So within
    // a chunk (one created_at), each millisecond's rows come before the next one's in key
    // order (C order). In the users' heap order (unsorted), 3,000 rows over several milliseconds overlap.
    const groups = await t.app.db.prisma.$queryRaw<{ created_at: Date; lo: string; hi: string; n: number }[]>`
      SELECT r.created_at, min(r.user_id) AS lo, max(r.user_id) AS hi, count(*)::int AS n
      FROM recipients r WHERE r.campaign_id = ${id} GROUP BY r.created_at, left(r.id, 13) ORDER BY r.created_at, left(r.id, 13)`;
    expect(groups.reduce((sum, g) => sum + g.n, 0)).toBe(3000);
    const followers = groups.slice(1).map((g, i) => ({ g, before: groups[i]! })).filter(({ g, before }) => g.created_at.getTime() === before.created_at.getTime());
    expect(followers.length).toBeGreaterThan(0);
    for (const { g, before } of followers) expect(before.hi < g.lo).toBe(true);
    // The receivers' 1:1 channels with the sender sort the same way.
    const receivers = (await t.app.db.prisma.$queryRaw<{ user_id: string }[]>`
      SELECT user_id FROM recipients WHERE campaign_id = ${id} ORDER BY user_id COLLATE "C"`).map((r) => r.user_id);
    const channels = receivers.map((user) => distinctChannelId(['order-sender', user]));
    expect(channels).toEqual([...channels].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
  });

  test('a chunk that ends after a stop rolls back: nothing of it shows, and none follows', async () => {
    // The stop holds the campaign row until the chunk has written its rows and waits for the
    // row at its last statement; without the guard the chunk would commit after the stop.
    const stopped = await runningOver('abandon', 50);
    const stop = await t.app.db.pool.connect();
    try {
      await stop.query('BEGIN');
      await stop.query(`UPDATE campaigns SET status = 'STOPPED' WHERE id = $1`, [stopped]);
      const run = materializeRecipients(t.app.db.prisma, stopped, { firstChunkSize: 100_000 });
      await pollUntil(
        async () => (await stop.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pg_blocking_pids(pid) @> ARRAY[pg_backend_pid()]`)).rows[0].n as number,
        (blocked) => blocked > 0,
        'the chunk waits for the campaign row',
        10_000,
        20,
      );
      await stop.query('COMMIT');
      expect(await run).toBe('not-running');
    } finally {
      stop.release();
    }
    expect(await audienceState(stopped)).toEqual({ rows: 0, total: 0, materialized: false, through: null });
  });

  test('lanes of a campaign in one process share its frontier while any of them runs, and drop it when the last ends, by an error too', async () => {
    const id = await runningOver('frontier', 3);
    // Each lane waits at its batch slot until let go; then its batch fails (not a lost connection), so the lane throws.
    const gates: (() => void)[] = [];
    const failing = { connect: async () => Promise.reject(new Error('no connection for this test')) } as unknown as pg.Pool;
    const deps = {
      prisma: t.app.db.prisma,
      pool: failing,
      logger: createLogger('silent'),
      hooks: { webhooks: false, changed: () => {}, announce: () => {} },
      batchSize: 100,
      lanes: 2,
      limiter: new RateLimiter(0),
      slots: { acquire: () => new Promise<() => void>((resolve) => gates.push(() => resolve(() => {}))) },
      reconnectWindowMs: 1000,
      enqueueLanes: async () => {},
    };
    const job = { signal: new AbortController().signal, touch: async () => {} };
    const first = runDeliver(deps, id, job);
    const second = runDeliver(deps, id, job);
    await pollUntil(async () => gates.length, (n) => n === 2, 'both lanes at their slot');
    expect(campaignsWithFrontier()).toContain(id);
    // A third lane that ends normally (its worker shutting down) while the others run: the
    // frontier stays for them (it was dropped when any lane returned: checked).
    const stopped = new AbortController();
    stopped.abort();
    expect(await runDeliver(deps, id, { ...job, signal: stopped.signal })).toBe('interrupted');
    expect(campaignsWithFrontier()).toContain(id);
    gates[0]!();
    await expect(first).rejects.toThrow('no connection for this test');
    expect(campaignsWithFrontier()).toContain(id);
    gates[1]!();
    await expect(second).rejects.toThrow('no connection for this test');
    // Nothing is left behind for a campaign no lane of this process runs (it stayed when a lane threw: checked).
    expect(campaignsWithFrontier()).not.toContain(id);
  });
});

