/**
 * Delivery with real worker processes: an API-only Beacon (role api) takes the mutations,
 * child processes (role worker) deliver, and the test SIGKILLs them mid-delivery. The
 * guarantees are read from the tables: one message per recipient, one committed attempt each.
 */
import { describe, expect, test } from 'vitest';
import type { TestApp } from './helpers/app.js';
import { startCampaign } from './helpers/delivery.js';
import { campaignJobs, expectDeliveredOnce, messageCount, pglite, pollUntil, recipientTally, sleep, userCampaign } from './helpers/delivery-checks.js';
import { killAllWorkers, startWorker, type WorkerProcess } from './helpers/worker-process.js';
import { workerTestSetup } from './helpers/worker-setup.js';

let t: TestApp;
workerTestSetup((app) => (t = app));

/**
 * Every worker of this file: slow enough (after the first second's burst) that a kill
 * lands mid-delivery; four lanes per campaign, at most two per worker, so two workers
 * must share a campaign.
 */
const WORKER_ENV = { BEACON_DELIVERY_RATE: '500', BEACON_DELIVERY_LANES: '4', BEACON_DELIVERY_CONCURRENCY: '2' };
const newWorker = () => startWorker({ databaseUrl: t.app.db.url, env: WORKER_ENV });

/**
 * The worker left running by the previous test (a worker start costs seconds of tsx
 * start-up, so the replacement of one test is the first worker of the next), or a new one.
 */
let current: WorkerProcess | undefined;
async function liveWorker(): Promise<WorkerProcess> {
  if (!current || current.exited) current = await newWorker();
  return current;
}

describe.skipIf(pglite)('delivery by worker processes', { timeout: 60_000 }, () => {
  test('an API-only process queues the start but runs no job; a worker started later delivers everything', async () => {
    await killAllWorkers();
    const id = await userCampaign(t, 'apionly', 300);
    await startCampaign(t, id);
    await sleep(1500);
    const row = await t.app.db.prisma.campaign.findUniqueOrThrow({ where: { id }, select: { status: true, materializedAt: true } });
    expect(row).toEqual({ status: 'IN_PROGRESS', materializedAt: null });
    expect(await recipientTally(t, id)).toEqual({});
    expect((await campaignJobs(t, id)).map((j) => [j.name, j.locked])).toEqual([['campaign.start', false]]);

    await liveWorker();
    await expectDeliveredOnce(t, id, 300);
  });

  const KILL_POINTS: [string, number][] = [
    ['while the start job runs', 0],
    ['after ~10% of the messages', 0.1],
    ['after ~60% of the messages', 0.6],
  ];
  test.each(KILL_POINTS)('a worker SIGKILLed %s: a new worker completes the campaign with exactly one message per recipient', async (_, fraction) => {
    const count = 1000;
    const id = await userCampaign(t, `crash${fraction * 100}`, count);
    const first = await liveWorker();
    await startCampaign(t, id);
    if (fraction === 0) {
      await pollUntil(() => campaignJobs(t, id), (jobs) => jobs.some((j) => j.name === 'campaign.start' && j.locked), 'start job locked', 10_000, 5);
    } else {
      await pollUntil(() => messageCount(t, id), (n) => n >= count * fraction, `${fraction * 100}% sent`, 20_000, 10);
    }
    await first.kill();
    await sleep(300); // let the server finish what the dead connections had already sent
    const atKill = await messageCount(t, id);
    expect(atKill).toBeLessThan(count);
    if (fraction > 0) expect(atKill).toBeGreaterThan(0);
    // The dead worker's jobs are still locked in the table: the new one takes them over
    // when the locks expire (BEACON_JOB_LOCK_MS).
    expect((await campaignJobs(t, id)).some((j) => j.locked && j.worker === first.name)).toBe(true);

    const second = (current = await newWorker());
    await expectDeliveredOnce(t, id, count);
    // The new worker claimed exactly what was left: nothing redone, nothing skipped.
    expect(second.sent(id)).toBe(count - atKill);
  });

  test('a worker whose database connections are cut twice mid-delivery survives, retries its lanes, and completes the campaign exactly once', async () => {
    const count = 1000;
    const id = await userCampaign(t, 'cut', count);
    const worker = await liveWorker();
    await startCampaign(t, id);
    // Each cut fails the lanes running then (two per worker here): after the second, the
    // campaign completes only if failed lanes run again.
    for (const fraction of [0.3, 0.6]) {
      await pollUntil(() => messageCount(t, id), (n) => n >= count * fraction, `${fraction * 100}% sent`, 20_000, 10);
      const [cut] = await t.app.db.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = ${worker.name}`;
      expect(cut!.n).toBeGreaterThan(0);
    }
    await expectDeliveredOnce(t, id, count);
    expect(worker.exited).toBe(false);
  });

  test('two workers deliver one campaign side by side: both send, no recipient gets two messages', async () => {
    const count = 1500;
    const id = await userCampaign(t, 'pair', count);
    const [a, b] = [await liveWorker(), await newWorker()];
    await startCampaign(t, id);
    const holders = await pollUntil(
      async () => new Set((await campaignJobs(t, id)).filter((j) => j.name === 'campaign.deliver' && j.locked).map((j) => j.worker)),
      (workers) => workers.size === 2,
      'both workers holding delivery lanes',
      10_000,
    );
    expect([...holders].sort()).toEqual([a.name, b.name].sort());
    await expectDeliveredOnce(t, id, count);
    expect(a.sent(id)).toBeGreaterThan(0);
    expect(b.sent(id)).toBeGreaterThan(0);
    expect(a.sent(id) + b.sent(id)).toBe(count);
  });
});
