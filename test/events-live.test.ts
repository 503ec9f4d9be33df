/**
 * The subscriber side of live events without a socket in between: a subscriber's mailbox
 * (one pending state per campaign) and the per-process hub on a real database, read by a
 * consumer that does not pull, as graphql-ws does not while a socket write is pending.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { LatestMailbox } from '../src/events/mailbox.js';
import { CampaignEvents } from '../src/events/campaign-events.js';
import { createBeaconPubSub } from '../src/events/pubsub.js';
import { liveCampaignSource } from '../src/campaigns/live.js';
import { createLogger } from '../src/logger.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LatestMailbox', () => {
  test('keeps only the latest unsent state per key, in the order keys first arrived', async () => {
    const mailbox = new LatestMailbox<number>(0);
    for (let n = 1; n <= 100; n += 1) mailbox.offer('a', n);
    mailbox.offer('b', 1);
    mailbox.offer('a', 101);
    expect(mailbox.size).toBe(2);
    expect(await mailbox.next()).toEqual({ done: false, value: 101 });
    expect(await mailbox.next()).toEqual({ done: false, value: 1 });
    expect(mailbox.size).toBe(0);
  });

  test('hands out one key at most once per interval, holding the newest meanwhile', async () => {
    const mailbox = new LatestMailbox<string>(200);
    mailbox.offer('a', 'first');
    const first = await mailbox.next();
    const sentAt = Date.now();
    mailbox.offer('a', 'second');
    mailbox.offer('b', 'other');
    // Another key is not held back by a's interval.
    expect((await mailbox.next()).value).toBe('other');
    mailbox.offer('a', 'third');
    const next = await mailbox.next();
    expect(first.value).toBe('first');
    expect(next.value).toBe('third');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(195);
  });

  test('end() finishes a waiting consumer and drops what is pending; return() closes it once', async () => {
    let closed = 0;
    const mailbox = new LatestMailbox<number>(0, () => (closed += 1));
    const waiting = mailbox.next();
    mailbox.end();
    expect(await waiting).toEqual({ done: true, value: undefined });
    mailbox.offer('a', 1);
    expect(await mailbox.next()).toEqual({ done: true, value: undefined });
    await mailbox.return();
    expect(closed).toBe(1);
  });
});

describe('the live-events hub on a real database', () => {
  let t: TestApp;
  let events: CampaignEvents;
  beforeAll(async () => {
    t = await startTestApp();
    const bus = await createBeaconPubSub(undefined, createLogger('silent'));
    events = new CampaignEvents(bus, { source: liveCampaignSource(t.app.db.prisma), subscriberIntervalMs: 50, coalesceMs: 10 });
  });
  afterAll(async () => {
    await events?.close();
    await t?.close();
  });

  test('a reader that does not pull holds one state of its campaign, the latest, while another reads every change', async () => {
    const id = `hub-${process.pid}`;
    await t.app.db.prisma.campaign.create({ data: { id, name: 'Hub', messageTemplate: { text: 'Hi' } } });
    const slow = events.updates({ campaignId: id, initial: true });
    const fast = events.updates({ campaignId: id, initial: true });
    expect((await slow.next()).value).toMatchObject({ id, messagesSent: 0 });
    expect((await fast.next()).value).toMatchObject({ id, messagesSent: 0 });
    const fastSeen: number[] = [];
    const reading = (async () => {
      for await (const row of fast) {
        fastSeen.push(row.messagesSent);
        if (row.messagesSent === 30) return;
      }
    })();
    for (let sent = 1; sent <= 30; sent += 1) {
      await t.app.db.prisma.campaign.update({ where: { id }, data: { messagesSent: sent } });
      events.campaignChanged(id);
      await sleep(15);
    }
    await reading;
    // The fast reader saw progress; the slow one holds a single state, the last.
    expect(fastSeen.length).toBeGreaterThanOrEqual(2);
    expect(fastSeen.at(-1)).toBe(30);
    expect((slow as LatestMailbox<unknown>).size).toBe(1);
    expect((await slow.next()).value).toMatchObject({ id, messagesSent: 30 });
    await slow.return?.();
    await fast.return?.();
  });
});
