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

  test('a value that differs in kind from the last one sent goes out at once, whatever the interval', async () => {
    const mailbox = new LatestMailbox<{ status: string; sent: number }>(60_000, undefined, (last, next) => last.status !== next.status);
    mailbox.offer('a', { status: 'IN_PROGRESS', sent: 1 });
    expect((await mailbox.next()).value).toEqual({ status: 'IN_PROGRESS', sent: 1 });
    mailbox.offer('a', { status: 'IN_PROGRESS', sent: 2 });
    // Same kind: held for the interval (a minute here).
    const pending = mailbox.next();
    expect(await Promise.race([pending, sleep(100).then(() => 'held')])).toBe('held');
    mailbox.offer('a', { status: 'COMPLETED', sent: 3 });
    expect((await pending).value).toEqual({ status: 'COMPLETED', sent: 3 });
    // The status change opened the interval anew: the next counter change waits again.
    mailbox.offer('a', { status: 'COMPLETED', sent: 4 });
    expect(await Promise.race([mailbox.next(), sleep(100).then(() => 'held')])).toBe('held');
    mailbox.end();
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
  /** Windows of a minute: whatever arrives during a test did not wait for one. */
  let slow: CampaignEvents;
  beforeAll(async () => {
    t = await startTestApp();
    const bus = await createBeaconPubSub(undefined, createLogger('silent'));
    const source = liveCampaignSource(t.app.db.prisma);
    events = new CampaignEvents(bus, { source, subscriberIntervalMs: 50, coalesceMs: 10 });
    const slowBus = await createBeaconPubSub(undefined, createLogger('silent'));
    slow = new CampaignEvents(slowBus, { source, subscriberIntervalMs: 60_000, coalesceMs: 60_000 });
  });
  afterAll(async () => {
    await events?.close();
    await slow?.close();
    await t?.close();
  });

  test('status changes are never held back; counter changes wait for the window', async () => {
    const id = `hub-status-${process.pid}`;
    const prisma = t.app.db.prisma;
    await prisma.campaign.create({ data: { id, name: 'Hub status', messageTemplate: { text: 'Hi' } } });
    const feed = slow.updates({ campaignId: id, initial: true });
    expect((await feed.next()).value).toMatchObject({ id, status: 'DRAFT' });
    const change = async (messagesSent: number, status: 'IN_PROGRESS' | 'STOPPED' | 'COMPLETED') => {
      await prisma.campaign.update({ where: { id }, data: { messagesSent, status } });
      slow.campaignChanged(id, status);
    };
    // DRAFT → IN_PROGRESS: at once (publisher, hub and mailbox all see a new status).
    await change(1, 'IN_PROGRESS');
    expect((await feed.next()).value).toMatchObject({ status: 'IN_PROGRESS', messagesSent: 1 });
    // A counter change inside the (minute-long) window is held …
    await change(2, 'IN_PROGRESS');
    const next = feed.next();
    expect(await Promise.race([next, sleep(300).then(() => 'held')])).toBe('held');
    // … until a status change, which goes at once and carries the latest counters.
    await change(3, 'STOPPED');
    expect((await next).value).toMatchObject({ status: 'STOPPED', messagesSent: 3 });
    await change(4, 'IN_PROGRESS');
    expect((await feed.next()).value).toMatchObject({ status: 'IN_PROGRESS', messagesSent: 4 });
    await change(5, 'COMPLETED');
    expect((await feed.next()).value).toMatchObject({ status: 'COMPLETED', messagesSent: 5 });
    await feed.return?.();
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
