/**
 * A worker stopped with SIGTERM mid-delivery, then a new one started: the old one lets its
 * batches commit, hands its jobs back unlocked and exits 0 before its pool closes; the new
 * one continues within seconds, with the default 60 s job lock (not after it). Exactly
 * once throughout, read from the tables.
 */
import { describe, expect, test } from 'vitest';
import type { TestApp } from './helpers/app.js';
import { startCampaign } from './helpers/delivery.js';
import { campaignJobs, expectDeliveredOnce, messageCount, pglite, pollUntil, recipientTally, sleep, userCampaign } from './helpers/delivery-checks.js';
import { startWorker, type WorkerProcess } from './helpers/worker-process.js';
import { workerTestSetup } from './helpers/worker-setup.js';

let t: TestApp;
workerTestSetup((app) => (t = app));

/** Production's job timing (a 60 s lock, polls every second), rate-limited so delivery takes a while. */
const WORKER_ENV = { BEACON_JOB_LOCK_MS: '60000', BEACON_JOB_POLL_MS: '1000', BEACON_DELIVERY_RATE: '400' };
const newWorker = () => startWorker({ databaseUrl: t.app.db.url, env: WORKER_ENV });

/** Checks a SIGTERMed worker's exit: code 0, no error logged, no use of the closed pool. */
async function expectCleanExit(worker: WorkerProcess) {
  expect(await worker.terminate()).toEqual({ code: 0, signal: null });
  expect(worker.output()).not.toMatch(/Cannot use a pool|after calling end/);
  expect(worker.logs.filter((e) => e.level === 'error')).toEqual([]);
  expect(worker.logs.some((e) => e.msg === 'stopped')).toBe(true);
}

/** When the worker logged "beacon started" (it takes jobs from then on). */
const readyAt = (worker: WorkerProcess) => Date.parse(worker.logs.find((e) => e.msg === 'beacon started')!.time);

describe.skipIf(pglite)('SIGTERM', { timeout: 90_000 }, () => {
  test('a worker SIGTERMed mid-delivery exits 0 with its lanes unlocked; a new worker resumes within 5 s of starting and completes exactly once', async () => {
    const count = 1500;
    const id = await userCampaign(t, 'term', count);
    const first = await newWorker();
    await startCampaign(t, id);
    await pollUntil(() => messageCount(t, id), (n) => n >= 300, '300 sent', 20_000, 10);
    await expectCleanExit(first);

    const atExit = await messageCount(t, id);
    expect(atExit).toBeLessThan(count);
    // Every batch either committed or rolled back; every lane is handed back, unlocked and due.
    expect(await recipientTally(t, id)).toEqual({ 'SENT/1': atExit, 'PENDING/0': count - atExit });
    const jobs = await campaignJobs(t, id);
    expect(jobs.map((j) => [j.name, j.locked])).toEqual(Array.from({ length: 4 }, () => ['campaign.deliver', false]));

    const spawned = Date.now();
    const second = await newWorker();
    await pollUntil(() => messageCount(t, id), (n) => n > atExit, 'delivery resumed', 20_000, 10);
    const resumed = Date.now();
    console.log(`SIGTERM: resumed ${resumed - readyAt(second)} ms after the new worker started (${resumed - spawned} ms after its spawn)`);
    expect(resumed - readyAt(second)).toBeLessThan(5000);
    await expectDeliveredOnce(t, id, count);
    expect(second.sent(id)).toBe(count - atExit);
    await expectCleanExit(second);
  });

  test('a worker SIGTERMed while its start job waits to write the recipients finishes that transaction, exits 0 and leaves the lanes queued', async () => {
    const count = 300;
    const id = await userCampaign(t, 'termstart', count);
    await startCampaign(t, id); // queued: no worker runs yet
    // Hold the campaign row so the start job's first chunk waits (its INSERT's foreign-key check locks the row FOR KEY SHARE).
    const holder = await t.app.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE', [id]);
      const worker = await newWorker();
      await pollUntil(
        () => t.app.db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [worker.name]),
        (r) => r.rows[0].n > 0,
        'start job waiting for the campaign row',
        20_000,
      );
      const exit = expectCleanExit(worker);
      await sleep(500);
      expect(worker.exited).toBe(false); // still finishing the start
      await holder.query('COMMIT');
      await exit;
    } finally {
      holder.release();
    }
    const row = await t.app.db.prisma.campaign.findUniqueOrThrow({ where: { id }, select: { status: true, materializedAt: true, recipientsTotal: true } });
    expect(row).toMatchObject({ status: 'IN_PROGRESS', recipientsTotal: count });
    expect(row.materializedAt).not.toBeNull();
    expect(await recipientTally(t, id)).toEqual({ 'PENDING/0': count });
    // The start job is done and gone; the lanes it queued wait, unlocked, for the next worker.
    expect((await campaignJobs(t, id)).map((j) => [j.name, j.locked])).toEqual(Array.from({ length: 4 }, () => ['campaign.deliver', false]));

    const next = await newWorker();
    await expectDeliveredOnce(t, id, count);
    await expectCleanExit(next);
  });
});
