/**
 * BEACON_DELIVERY_RATE across all the lanes of one worker: no 1-second window holds more
 * than the rate, from the first second on. Read from the recipients' `sent_at`, which a
 * batch takes from its rate-limit grant (src/delivery/rate-limit.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startCampaign } from './helpers/delivery.js';
import { expectDeliveredOnce, userCampaign } from './helpers/delivery-checks.js';

const RATE = 200;

let t: TestApp;
beforeAll(async () => {
  // The default 4 lanes and batch size (1,000): a batch bigger than the rate.
  t = await startTestApp({ env: { BEACON_DELIVERY_RATE: String(RATE) } });
});
afterAll(async () => {
  await t?.close();
});

/** The most timestamps (ms, sorted) within any half-open window [x, x + 1000). */
function busiestSecond(sorted: number[]): number {
  let most = 0;
  for (let first = 0, last = 0; first < sorted.length; first += 1) {
    while (last < sorted.length && sorted[last]! < sorted[first]! + 1000) last += 1;
    most = Math.max(most, last - first);
  }
  return most;
}

describe('delivery rate', { timeout: 60_000 }, () => {
  test('BEACON_DELIVERY_RATE=200 with 4 lanes: no 1-second window holds more than 200 messages, the first included', async () => {
    const count = 800;
    const id = await userCampaign(t, 'rate', count);
    await startCampaign(t, id);
    await expectDeliveredOnce(t, id, count);
    const rows = await t.app.db.prisma.recipient.findMany({ where: { campaignId: id }, select: { sentAt: true } });
    const sent = rows.map((r) => r.sentAt!.getTime()).sort((a, b) => a - b);
    const [first, last] = [sent[0]!, sent.at(-1)!];
    const busiest = busiestSecond(sent);
    console.log(`rate ${RATE}/s: ${count} sent over ${last - first} ms; busiest 1-second window ${busiest}; first second ${sent.filter((s) => s < first + 1000).length}`);
    expect(busiest).toBeLessThanOrEqual(RATE);
    // The limit is met, not undershot by a wide margin: 800 at 200/s span a little under 4 s.
    expect(busiest).toBeGreaterThanOrEqual(RATE * 0.75);
  });
});
