/**
 * The lifecycle with the API and the worker in separate processes: an API-only Beacon
 * (role api) takes the mutations and serves subscriptions, one worker child process
 * delivers (rate-limited, so delivery takes long enough to stop it midway), and live
 * events cross between them through Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startCampaign, waitForCampaign } from './helpers/delivery.js';
import { expectDeliveredOnce, messageCount, pglite, pollUntil, recipientTally, sleep, userCampaign } from './helpers/delivery-checks.js';
import { subscribeWs } from './helpers/subscriptions.js';
import { killAllWorkers, startWorker, workerReport } from './helpers/worker-process.js';
import { CampaignUpdatedDocument, DeleteUsersDocument, ResumeCampaignDocument, StopCampaignDocument } from './generated/graphql.js';

const REDIS = { REDIS_URL: 'redis://127.0.0.1:6379' };
/** Messages per second of the worker: 1,000 recipients take about 1.5 s after the first second's burst. */
const RATE = 400;

let t: TestApp;
beforeAll(async () => {
  if (pglite) return;
  t = await startTestApp({ env: { BEACON_ROLE: 'api', ...REDIS } });
  await startWorker({ databaseUrl: t.app.db.url, env: { ...REDIS, BEACON_DELIVERY_RATE: String(RATE) } });
});
afterEach(({ task }) => {
  if (task.result?.state === 'fail') console.error(`worker output:\n${workerReport()}`);
});
afterAll(async () => {
  await killAllWorkers();
  await t?.close();
});

const ms = (iso: string | null | undefined) => new Date(iso!).getTime();

async function stopCampaign(id: string) {
  const { stopCampaign } = await t.ok(StopCampaignDocument, { id });
  if (stopCampaign.__typename !== 'StopCampaignPayload') throw new Error(JSON.stringify(stopCampaign));
  return stopCampaign.campaign;
}

/** When the campaign's first message was written (database clock, this machine). */
async function firstMessageAt(id: string): Promise<number> {
  const [row] = await t.app.db.prisma.$queryRaw<{ at: Date }[]>`SELECT min(created_at) AS at FROM messages WHERE campaign_id = ${id}`;
  return row!.at.getTime();
}

describe.skipIf(pglite)('stop and resume across processes', { timeout: 60_000 }, () => {
  test('after stopCampaign returns no further message appears; resume completes with one message per recipient', async () => {
    const count = 1000;
    const id = await userCampaign(t, 'pause', count);
    await startCampaign(t, id);
    await pollUntil(() => messageCount(t, id), (n) => n >= 200, '200 sent', 20_000, 10);
    const stopped = await stopCampaign(id);
    const atStop = await messageCount(t, id);
    expect(stopped.status).toBe('STOPPED');
    expect(atStop).toBeLessThan(count);

    await sleep(1000);
    // A batch in flight when the stop committed was rolled back, so not even it shows up.
    expect(await messageCount(t, id)).toBe(atStop);
    expect(await recipientTally(t, id)).toEqual({ 'SENT/1': atStop, 'PENDING/0': count - atStop });
    const paused = await waitForCampaign(t, id, () => true);
    expect(paused).toMatchObject({ status: 'STOPPED', stats: { messagesSent: atStop, pending: count - atStop } });

    const { resumeCampaign } = await t.ok(ResumeCampaignDocument, { id });
    expect(resumeCampaign).toMatchObject({ __typename: 'ResumeCampaignPayload', campaign: { status: 'IN_PROGRESS' } });
    await expectDeliveredOnce(t, id, count);
  });

  test('stopAt stops a running campaign on time, and nothing is sent after it', async () => {
    const count = 2000;
    const id = await userCampaign(t, 'stopat', count);
    const stopAt = new Date(Date.now() + 1500);
    await startCampaign(t, id, { stopAt });
    const stopped = await waitForCampaign(t, id, (c) => c.status !== 'IN_PROGRESS', 10_000);
    expect(stopped.status).toBe('STOPPED');
    expect(ms(stopped.stoppedAt)).toBeGreaterThanOrEqual(stopAt.getTime() - 50);
    expect(ms(stopped.stoppedAt)).toBeLessThanOrEqual(stopAt.getTime() + 2000);
    const atStop = await messageCount(t, id);
    expect(atStop).toBeGreaterThan(0);
    expect(atStop).toBeLessThan(count);
    await sleep(1000);
    expect(await messageCount(t, id)).toBe(atStop);
    expect(await recipientTally(t, id)).toEqual({ 'SENT/1': atStop, 'PENDING/0': count - atStop });
  });

  test('a stopAt still ahead applies again after stop and resume', async () => {
    const count = 2000;
    const id = await userCampaign(t, 'restop', count);
    const stopAt = new Date(Date.now() + 2500);
    await startCampaign(t, id, { stopAt });
    await pollUntil(() => messageCount(t, id), (n) => n >= 100, '100 sent', 20_000, 10);
    await stopCampaign(id);
    const { resumeCampaign } = await t.ok(ResumeCampaignDocument, { id });
    expect(resumeCampaign).toMatchObject({ campaign: { status: 'IN_PROGRESS' } });
    const stopped = await waitForCampaign(t, id, (c) => c.status !== 'IN_PROGRESS', 10_000);
    expect(stopped.status).toBe('STOPPED');
    expect(ms(stopped.stoppedAt)).toBeGreaterThanOrEqual(stopAt.getTime() - 50);
    expect(ms(stopped.stoppedAt)).toBeLessThanOrEqual(stopAt.getTime() + 2000);
    expect(await messageCount(t, id)).toBeLessThan(count);
  });
});

describe.skipIf(pglite)('scheduled starts across processes', { timeout: 60_000 }, () => {
  test('a scheduled campaign starts within 2 s of scheduledFor, not before', async () => {
    const id = await userCampaign(t, 'sched', 50);
    const scheduledFor = new Date(Date.now() + 3000);
    expect(await startCampaign(t, id, { scheduledFor })).toMatchObject({ status: 'SCHEDULED', startedAt: null });
    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED', 15_000);
    for (const at of [ms(done.startedAt), await firstMessageAt(id)]) {
      expect(at).toBeGreaterThanOrEqual(scheduledFor.getTime() - 50);
      expect(at).toBeLessThanOrEqual(scheduledFor.getTime() + 2000);
    }
    await expectDeliveredOnce(t, id, 50);
  });

  test('a scheduled campaign stopped before its time never sends', async () => {
    const id = await userCampaign(t, 'never', 50);
    const scheduledFor = new Date(Date.now() + 2000);
    await startCampaign(t, id, { scheduledFor });
    expect(await stopCampaign(id)).toMatchObject({ status: 'STOPPED' });
    await sleep(scheduledFor.getTime() + 1500 - Date.now());
    expect(await waitForCampaign(t, id, () => true)).toMatchObject({ status: 'STOPPED', startedAt: null, stats: { recipientsTotal: 0, messagesSent: 0 } });
    expect(await messageCount(t, id)).toBe(0);
    expect(await recipientTally(t, id)).toEqual({});
  });

  test('a campaign whose sender is deleted before its start ends FAILED with a reason and sends nothing', async () => {
    const id = await userCampaign(t, 'orphan', 50);
    await startCampaign(t, id, { scheduledFor: new Date(Date.now() + 1500) });
    const { deleteUsers } = await t.ok(DeleteUsersDocument, { ids: ['orphan-sender'] });
    expect(deleteUsers).toMatchObject({ deletedIds: ['orphan-sender'] });
    const failed = await waitForCampaign(t, id, (c) => c.status !== 'SCHEDULED', 10_000);
    expect(failed).toMatchObject({ status: 'FAILED', startedAt: null, failureReason: expect.stringMatching(/sender/i) });
    expect(await messageCount(t, id)).toBe(0);
  });
});

describe.skipIf(pglite)('live events across processes', { timeout: 60_000 }, () => {
  test('a subscriber on the API process sees the worker progress rise to COMPLETED through Redis', async () => {
    const count = 1000;
    const id = await userCampaign(t, 'redis', count);
    const feed = subscribeWs(t, CampaignUpdatedDocument, { id });
    try {
      expect((await feed.next()).data?.campaignUpdated.status).toBe('DRAFT');
      await startCampaign(t, id);
      const last = await feed.waitFor((r) => r.data?.campaignUpdated.status === 'COMPLETED', 20_000);
      expect(last.data!.campaignUpdated.stats).toMatchObject({ messagesSent: count, progress: 1 });
      const seen = feed.results.map((r) => r.data!.campaignUpdated);
      expect([...new Set(seen.map((c) => c.status))]).toEqual(['DRAFT', 'IN_PROGRESS', 'COMPLETED']);
      // Only the worker process delivers, so every progress above 0 came from it via Redis.
      const progress = seen.filter((c) => c.status === 'IN_PROGRESS').map((c) => c.stats.progress);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(progress.filter((p) => p > 0 && p < 1).length).toBeGreaterThanOrEqual(2);
    } finally {
      await feed.close();
    }
  });
});
