/**
 * BEACON_DELIVERY_RATE across all the lanes of one worker: no 1-second window holds more
 * than the rate, from the first second on. Read from the recipients' `sent_at`, which a
 * batch takes from its rate-limit grant (src/delivery/rate-limit.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startCampaign } from './helpers/delivery.js';
import { expectDeliveredOnce, userCampaign } from './helpers/delivery-checks.js';
import { RateLimiter } from '../src/delivery/rate-limit.js';

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

describe('RateLimiter', () => {
  test.concurrent.each([7, 15, 250])('rate %i: grants to 4 lanes at once, some settled short, never exceed the rate in any 1-second window', async (rate) => {
    const limiter = new RateLimiter(rate);
    const stop = new AbortController();
    const granted: number[] = []; // one timestamp per message granted and used
    const until = Date.now() + 1500;
    await Promise.all(
      Array.from({ length: 4 }, async (_, lane) => {
        for (let n = 0; Date.now() < until; n += 1) {
          const grant = await limiter.acquire(1000, stop.signal);
          // Every third batch of lane 0 finds fewer recipients than granted.
          const used = lane === 0 && n % 3 === 0 ? Math.floor(grant.size / 2) : grant.size;
          grant.settle(used);
          for (let i = 0; i < used; i += 1) granted.push(grant.at.getTime());
        }
      }),
    );
    granted.sort((a, b) => a - b);
    expect(busiestSecond(granted)).toBeLessThanOrEqual(rate);
    expect(granted.at(-1)! - granted[0]!).toBeGreaterThanOrEqual(1000); // windows past the first second were exercised
  });

  test('a lane waiting for a grant is released by its abort signal', async () => {
    const limiter = new RateLimiter(1);
    const stop = new AbortController();
    await limiter.acquire(1, stop.signal); // the second's only message
    const waiting = limiter.acquire(1, stop.signal);
    stop.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
  });
});
