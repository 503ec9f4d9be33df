/**
 * Jobs queued by an API-only process (role api) wake the workers at once, through
 * PostgreSQL's NOTIFY, rather than at their next poll. Agenda connects its notification
 * channel only in processes that run jobs, and a job saved while it is not connected
 * notifies nobody: a campaign started through an api process began only when a worker next
 * polled (BEACON_JOB_POLL_MS). The worker here polls once a minute, so only the
 * notification can start the campaign within the test's time.
 */
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startCampaign } from './helpers/delivery.js';
import { expectDeliveredOnce, pglite, userCampaign } from './helpers/delivery-checks.js';
import { killAllWorkers, startWorker, workerReport } from './helpers/worker-process.js';

/** The longest poll Beacon allows: a job found by polling would start up to a minute late. */
const POLL_MS = 60_000;

let t: TestApp;
beforeAll(async () => {
  if (pglite) return;
  t = await startTestApp({ env: { BEACON_ROLE: 'api' } });
  // Its first poll runs as it starts; the next one comes after the test's timeout.
  await startWorker({ databaseUrl: t.app.db.url, env: { BEACON_JOB_POLL_MS: String(POLL_MS) } });
});
afterEach(({ task }) => {
  if (task.result?.state === 'fail') console.error(`worker output:\n${workerReport()}`);
});
afterAll(async () => {
  await killAllWorkers();
  await t?.close();
});

describe.skipIf(pglite)('jobs queued by an api process', { timeout: 30_000 }, () => {
  test('startCampaign on an api process wakes a worker that polls once a minute: the campaign delivers at once', async () => {
    const id = await userCampaign(t, 'wake', 50);
    await startCampaign(t, id);
    await expectDeliveredOnce(t, id, 50, 20_000);
  });

  test('so does a start scheduled a second ahead: the notified worker runs it when it comes due', async () => {
    const id = await userCampaign(t, 'wake-scheduled', 30);
    // The worker locks a job due within its poll interval as the notification arrives, and
    // runs it on a timer when due.
    await startCampaign(t, id, { scheduledFor: new Date(Date.now() + 1000) });
    await expectDeliveredOnce(t, id, 30, 20_000);
  });
});
