/**
 * How the lanes of one campaign share its work: lanes that catch up with an audience still
 * being written are woken by the next chunk (src/delivery/audience-signal.ts), and the last
 * recipients of a complete audience are split across the lanes (laneBatchSize), so they
 * finish together instead of one lane delivering a last full batch alone.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { audienceGrew, nextAudienceChunk } from '../src/delivery/audience-signal.js';
import { startEventServices } from '../src/events/services.js';
import { createLogger } from '../src/logger.js';
import { MIN_TAIL_BATCH, laneBatchSize } from '../src/delivery/engine.js';
import { campaignMessageId, deliverBatch } from '../src/delivery/batch.js';
import { loadDeliveryPlan } from '../src/delivery/plan.js';
import pg from 'pg';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startCampaign } from './helpers/delivery.js';
import { expectDeliveredOnce, pglite, pollUntil, userCampaign } from './helpers/delivery-checks.js';

describe('laneBatchSize', () => {
  test('full batches while the audience is written or plenty is left; the rest split across the lanes at the end', () => {
    expect(laneBatchSize(2000, 4, null)).toBe(2000);
    expect(laneBatchSize(2000, 4, 100_000)).toBe(2000);
    expect(laneBatchSize(2000, 4, 8000)).toBe(2000);
    expect(laneBatchSize(2000, 4, 6000)).toBe(1500);
    expect(laneBatchSize(2000, 4, 4001)).toBe(1001);
    expect(laneBatchSize(2000, 4, 100)).toBe(MIN_TAIL_BATCH);
    expect(laneBatchSize(2000, 1, 100)).toBe(2000);
    expect(laneBatchSize(100, 4, 10)).toBe(100);
  });
});

describe('audience signal', () => {
  test('a waiting lane wakes at the next chunk of its campaign, not of another; an abort ends the wait with false', async () => {
    const controller = new AbortController();
    let woken = false;
    // Timeouts far beyond the test's: only the signal can settle these in time.
    const mine = nextAudienceChunk('lanes-a', 600_000, controller.signal).then((grew) => ((woken = true), grew));
    const other = nextAudienceChunk('lanes-b', 600_000, controller.signal);
    audienceGrew('lanes-c');
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe(false);
    audienceGrew('lanes-a');
    expect(await mine).toBe(true);
    controller.abort();
    expect(await other).toBe(false);
    expect(await nextAudienceChunk('lanes-a', 600_000, controller.signal)).toBe(false);
  });
});

describe('audience chunks of other processes', () => {
  test('a worker hears each campaign change another process publishes over Redis, and wakes that campaign’s waiting lanes', async () => {
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', BEACON_ROLE: 'worker' });
    const logger = createLogger('silent');
    // Workers read no campaigns for subscribers: the source is never asked.
    const unread = { read: async () => [], changedSince: async () => [] };
    const writer = await startEventServices(config, logger, unread);
    const heard: string[] = [];
    const worker = await startEventServices(config, logger, unread, (campaignId) => {
      heard.push(campaignId);
      audienceGrew(campaignId);
    });
    try {
      const campaignId = `lanes-remote-${process.pid}`;
      const controller = new AbortController();
      // Far beyond the test's timeout: only the event can end this wait in time.
      const waiting = nextAudienceChunk(campaignId, 600_000, controller.signal);
      // The subscribe connection may still be joining the channel: publish until heard.
      for (let i = 0; i < 100 && !heard.includes(campaignId); i += 1) {
        writer.events.campaignChanged(campaignId, 'IN_PROGRESS');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await waiting).toBe(true);
      expect(heard).toContain(campaignId);
    } finally {
      await worker.close();
      await writer.close();
    }
  });
});

describe('lanes of one campaign', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ logs: 'debug', env: { BEACON_DELIVERY_BATCH_SIZE: '2000', BEACON_DELIVERY_LANES: '4', BEACON_JOB_POLL_MS: '100' } });
  });
  afterAll(() => t?.close());

  test('an audience written in one chunk is split across the four lanes: no batch above a quarter of it, everyone once', async () => {
    const count = 3000;
    const id = await userCampaign(t, 'lanes', count);
    await startCampaign(t, id);
    await expectDeliveredOnce(t, id, count, 60_000);
    const batches = t.logs.filter((e) => e.msg === 'batch delivered' && e.campaignId === id).map((e) => e.claimed as number);
    expect(batches.reduce((sum, n) => sum + n, 0)).toBe(count);
    expect(Math.max(...batches)).toBeLessThanOrEqual(Math.ceil(count / 4));
    expect(batches.length).toBeGreaterThanOrEqual(4);
  });

  // Lanes of one campaign add to its counters, so each batch holds the campaign row from its
  // counter update to its commit. The update comes last in the batch's last statement: a
  // lane waiting for another's commit has its messages and recipient marks written already
  // (when it came first, the lanes' heaviest statements ran one at a time).
  test.skipIf(pglite)('a batch writes its messages before it waits for the campaign row another lane holds', async () => {
    const id = await userCampaign(t, 'rowwait', 2);
    const prisma = t.app.db.prisma;
    // Running with its audience written, by SQL: no job delivers it, the batch below does.
    await prisma.$executeRaw`UPDATE campaigns SET status = 'IN_PROGRESS', started_at = now(), materialized_at = now(), recipients_total = 2 WHERE id = ${id}`;
    await prisma.$executeRaw`INSERT INTO recipients (campaign_id, user_id) VALUES (${id}, 'rowwait-1'), (${id}, 'rowwait-2')`;
    const recipients = await prisma.recipient.findMany({ where: { campaignId: id }, select: { id: true } });
    const plan = (await loadDeliveryPlan(prisma, id))!;

    const holder = new pg.Client({ connectionString: t.app.db.url });
    const probe = new pg.Client({ connectionString: t.app.db.url });
    await holder.connect();
    await probe.connect();
    try {
      // Another lane between its counter update and its commit.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE', [id]);
      const batch = deliverBatch(t.app.db.pool, plan, plan.sender!, 10);
      await pollUntil(
        () => holder.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.datname = current_database()`),
        (result) => result.rows[0].n > 0,
        'the batch waiting for the campaign row',
      );
      // Its messages are written, not committed: inserting one of their ids waits for the batch.
      await probe.query('BEGIN');
      await probe.query(`SET LOCAL lock_timeout = '300ms'`);
      const inserted = await probe
        .query(`INSERT INTO messages (id, channel_cid, text) VALUES ($1, 'messaging:probe', 'probe')`, [campaignMessageId(id, recipients[0]!.id)])
        .then(() => 'inserted', (error: { code?: string }) => error.code);
      await probe.query('ROLLBACK');
      expect(inserted).toBe('55P03'); // lock_not_available: it waited for the batch's row
      await holder.query('COMMIT');
      expect(await batch).toMatchObject({ claimed: 2, sent: 2, committed: true });
      const sent = await prisma.recipient.findMany({ where: { campaignId: id }, select: { status: true, messageId: true } });
      expect(sent.map((r) => r.status)).toEqual(['SENT', 'SENT']);
      expect(await prisma.message.count({ where: { id: { in: sent.map((r) => r.messageId!) } } })).toBe(2);
    } finally {
      await holder.end();
      await probe.end();
    }
  });
});
