import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { subscribeSse, subscribeWs, type Feed } from './helpers/subscriptions.js';
import {
  CampaignUpdatedDocument,
  CampaignUpdatedWithRelationsDocument,
  DeleteCampaignDocument,
  UpdateCampaignDocument,
  type CampaignUpdatedSubscription,
} from './generated/graphql.js';
import { createLogger } from '../src/logger.js';
import { createBeaconPubSub, type CampaignUpdate } from '../src/events/pubsub.js';
import { CampaignEvents } from '../src/events/campaign-events.js';
import type { CampaignStatus } from '../src/generated/prisma/enums.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let seq = 0;

/** A DRAFT campaign written straight to the database; returns its id. */
async function newCampaign(app: TestApp = t): Promise<string> {
  const id = `live-${process.pid}-${++seq}`;
  await app.app.db.prisma.campaign.create({ data: { id, name: `Campaign ${id}`, messageTemplate: { text: 'Hi {{ user.name }}' } } });
  return id;
}

/** What delivery does: commit new counters (and status), then report the change. */
async function deliver(id: string, messagesSent: number, status?: CampaignStatus, app: TestApp = t) {
  const row = await app.app.db.prisma.campaign.update({ where: { id }, data: { recipientsTotal: 20, messagesSent, ...(status ? { status } : {}) } });
  app.app.events.campaignChanged(id, row.status);
}

const campaignOf = (result: { data?: CampaignUpdatedSubscription | null; errors?: unknown }) => {
  if (!result.data) throw new Error(`no data: ${JSON.stringify(result.errors)}`);
  return result.data.campaignUpdated;
};
const codeOf = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

const feeds: Feed<unknown>[] = [];
/** Subscribes and closes the feed when the file ends. */
function watch(via: typeof subscribeWs, variables: { id?: string }, options: { token?: string | null } = {}, app: TestApp = t) {
  const feed = via(app, CampaignUpdatedDocument, variables, options);
  feeds.push(feed);
  return feed;
}
afterAll(() => Promise.all(feeds.map((feed) => feed.close())));

describe('campaignUpdated over graphql-ws', () => {
  test('sends the current state first, then the campaign after each change', async () => {
    const id = await newCampaign();
    await deliver(id, 3);
    const feed = watch(subscribeWs, { id });
    expect(campaignOf(await feed.next())).toMatchObject({ id, status: 'DRAFT', stats: { messagesSent: 3, recipientsTotal: 20, pending: 17 } });
    await deliver(id, 7);
    expect(campaignOf(await feed.next())).toMatchObject({ id, stats: { messagesSent: 7, pending: 13 } });
    await sleep(300);
    await deliver(id, 9, 'IN_PROGRESS');
    expect(campaignOf(await feed.next())).toMatchObject({ status: 'IN_PROGRESS', stats: { messagesSent: 9 } });
  });

  test('20 changes within 200 ms arrive as a few events, not 20, the last with the final counters', async () => {
    const id = await newCampaign();
    const feed = watch(subscribeWs, { id });
    await feed.next();
    const started = Date.now();
    for (let sent = 1; sent <= 20; sent += 1) {
      await deliver(id, sent);
      await sleep(Math.max(0, started + sent * 10 - Date.now()));
    }
    // At most one event per 250 ms window of the burst, plus the trailing one, plus one: the
    // publisher's own coalescing (≤ 100 ms) and the shared read can carry the last change
    // into the window after the burst (the bound follows the measured burst length, so a
    // slow machine does not fail the test; the 250 ms spacing itself is the next test's).
    const windows = Math.ceil((Date.now() - started) / 250);
    const events = (await feed.settle(700)).map(campaignOf);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThanOrEqual(windows + 2);
    expect(events.length).toBeLessThan(20);
    expect(events.at(-1)!.stats).toMatchObject({ messagesSent: 20, pending: 0, progress: 1 });
  });

  test('counter changes of one campaign come at most every 250 ms, and the terminal status is delivered', async () => {
    const id = await newCampaign();
    const feed = watch(subscribeWs, { id });
    await feed.next();
    const arrivals: number[] = [];
    const collected = (async () => {
      for (;;) {
        const event = campaignOf(await feed.next(3000));
        arrivals.push(Date.now());
        if (event.status === 'COMPLETED') return event;
      }
    })();
    const started = Date.now();
    for (let sent = 1; sent < 20; sent += 1) {
      await deliver(id, sent, 'IN_PROGRESS');
      await sleep(40);
    }
    await deliver(id, 20, 'COMPLETED');
    const last = await collected;
    expect(last.stats).toMatchObject({ messagesSent: 20, progress: 1 });
    // Counted, not timed per gap (arrival gaps include socket jitter): at most one counter
    // event per 250 ms window of the burst, plus one per status change, which is never held
    // back: the leading one (DRAFT → IN_PROGRESS) and the final one (COMPLETED).
    const windows = Math.ceil((arrivals.at(-1)! - started) / 250);
    expect(arrivals.length).toBeLessThanOrEqual(windows + 2);
    expect(arrivals.length).toBeLessThan(20);
    expect(arrivals.length).toBeGreaterThanOrEqual(2);
  });

  test('without an id, receives the changes of every campaign (no initial event)', async () => {
    const [a, b, probe] = [await newCampaign(), await newCampaign(), await newCampaign()];
    const feed = watch(subscribeWs, {});
    // No initial event: touch a probe campaign until its event arrives, so the subscription is live.
    for (let tries = 0; ; tries += 1) {
      expect(tries).toBeLessThan(50);
      t.app.events.campaignChanged(probe);
      if (await feed.next(100).then(() => true, () => false)) break;
    }
    await deliver(a, 5);
    await deliver(b, 6);
    const events = (await feed.settle(500)).map(campaignOf).filter((c) => c.id === a || c.id === b);
    expect(events.map((c) => [c.id, c.stats.messagesSent]).sort()).toEqual([[a, 5], [b, 6]]);
  });

  test('relations in the selection (sender, segmentIds) load for each event beside the shared row', async () => {
    const id = await newCampaign();
    const prisma = t.app.db.prisma;
    await prisma.user.create({ data: { id: `${id}-sender`, name: 'Live sender' } });
    await prisma.segment.create({ data: { id: `${id}-segment`, type: 'USER', name: 'Live segment', allUsers: true } });
    await prisma.campaign.update({ where: { id }, data: { senderId: `${id}-sender`, segments: { create: { segmentId: `${id}-segment`, position: 0 } } } });
    const feed = subscribeWs(t, CampaignUpdatedWithRelationsDocument, { id });
    feeds.push(feed);
    const first = (await feed.next()).data!.campaignUpdated;
    expect(first).toMatchObject({ id, segmentIds: [`${id}-segment`], sender: { id: `${id}-sender`, name: 'Live sender' } });
    await prisma.user.update({ where: { id: `${id}-sender` }, data: { name: 'Renamed sender' } });
    await deliver(id, 2);
    expect((await feed.next()).data!.campaignUpdated).toMatchObject({ sender: { name: 'Renamed sender' }, stats: { messagesSent: 2 } });
  });

  test('an unknown campaign id is NOT_FOUND', async () => {
    const feed = watch(subscribeWs, { id: 'no-such-campaign' });
    const result = await feed.next();
    expect(codeOf(result)).toBe('NOT_FOUND');
    expect(result.data ?? null).toBeNull();
  });

  test('a user token is FORBIDDEN and no token refuses the connection', async () => {
    const id = await newCampaign();
    const forbidden = watch(subscribeWs, { id }, { token: await t.userToken('alice') });
    const result = await forbidden.next();
    expect(codeOf(result)).toBe('FORBIDDEN');
    expect(result.data ?? null).toBeNull();
    const anonymous = watch(subscribeWs, { id }, { token: null });
    await expect(anonymous.next()).rejects.toThrow(/ended/);
    expect(anonymous.failure).toMatchObject({ code: 4401 });
  });

  test('updateCampaign pushes the updated campaign; deleteCampaign ends the subscription', async () => {
    const id = await newCampaign();
    const feed = watch(subscribeWs, { id });
    await feed.next();
    const { updateCampaign } = await t.ok(UpdateCampaignDocument, { id, input: { name: 'Renamed live' } });
    expect(updateCampaign.__typename).toBe('UpdateCampaignPayload');
    expect(campaignOf(await feed.next())).toMatchObject({ id, name: 'Renamed live' });
    const { deleteCampaign } = await t.ok(DeleteCampaignDocument, { id });
    expect(deleteCampaign.__typename).toBe('DeleteCampaignPayload');
    await expect(feed.next()).rejects.toThrow(/ended/);
    expect(feed.completed).toBe(true);
  });
});

describe('campaignUpdated database reads', () => {
  let counted: TestApp;
  beforeAll(async () => {
    counted = await startTestApp({ recordQueries: true });
  });
  afterAll(() => counted?.close());
  const campaignReads = (queries: string[]) => queries.filter((q) => /^SELECT\b[\s\S]*\bFROM "public"\."campaigns"/i.test(q)).length;

  test('50 subscribers of one campaign cost one read of it per event, not 50', async () => {
    const id = await newCampaign(counted);
    const feeds = Array.from({ length: 50 }, () => watch(subscribeWs, { id }, {}, counted));
    for (const feed of feeds) await feed.next();
    for (let sent = 5; sent <= 15; sent += 5) {
      await counted.app.db.prisma.campaign.update({ where: { id }, data: { recipientsTotal: 20, messagesSent: sent } });
      const { queries } = await counted.queriesDuring(async () => {
        counted.app.events.campaignChanged(id);
        for (const feed of feeds) expect(campaignOf(await feed.next())).toMatchObject({ id, stats: { messagesSent: sent } });
        const late = await Promise.all(feeds.map((feed) => feed.settle(300)));
        expect(late.flat()).toHaveLength(0);
      });
      expect(campaignReads(queries)).toBe(1);
      expect(queries).toHaveLength(1);
    }
  });
});

describe('campaignUpdated over SSE', () => {
  test('sends the current state first, then the changed campaign', async () => {
    const id = await newCampaign();
    const feed = watch(subscribeSse, { id });
    expect(campaignOf(await feed.next())).toMatchObject({ id, status: 'DRAFT', stats: { messagesSent: 0 } });
    await deliver(id, 11, 'IN_PROGRESS');
    expect(campaignOf(await feed.next())).toMatchObject({ status: 'IN_PROGRESS', stats: { messagesSent: 11 } });
  });

  test('without a token is UNAUTHENTICATED; a user token is FORBIDDEN', async () => {
    const id = await newCampaign();
    expect(codeOf(await watch(subscribeSse, { id }, { token: null }).next())).toBe('UNAUTHENTICATED');
    expect(codeOf(await watch(subscribeSse, { id }, { token: await t.userToken('alice') }).next())).toBe('FORBIDDEN');
  });
});

describe('CampaignEvents publishing', () => {
  async function recordPublishes(events: CampaignEvents, bus: Awaited<ReturnType<typeof createBeaconPubSub>>) {
    const published: (CampaignUpdate & { at: number })[] = [];
    const source = bus.pubsub.subscribe('campaign:updated');
    void (async () => {
      for await (const update of source) published.push({ ...update, at: Date.now() });
    })();
    await sleep(0);
    return { published, stop: () => source.return() };
  }

  test('coalesces a burst per campaign (leading + trailing, ≤1 per 100 ms) and publishes terminal statuses at once', async () => {
    const bus = await createBeaconPubSub(undefined, createLogger('silent'));
    const events = new CampaignEvents(bus);
    const { published, stop } = await recordPublishes(events, bus);
    try {
      const started = Date.now();
      for (let i = 0; i < 20; i += 1) {
        events.campaignChanged('burst', 'IN_PROGRESS');
        await sleep(10);
      }
      // One publish per 100 ms window of the burst as it really ran (a loaded machine
      // stretches the sleeps), plus the trailing one.
      const windows = Math.ceil((Date.now() - started) / 100);
      await sleep(150);
      const burst = published.filter((p) => p.campaignId === 'burst');
      expect(burst.length).toBeGreaterThanOrEqual(2);
      expect(burst.length).toBeLessThanOrEqual(windows + 1);
      expect(burst.length).toBeLessThan(20);
      const before = published.length;
      events.campaignChanged('burst', 'COMPLETED');
      await sleep(0);
      expect(published.length).toBe(before + 1);
      expect(published.at(-1)).toMatchObject({ campaignId: 'burst', status: 'COMPLETED' });
    } finally {
      await stop();
      await events.close();
    }
  });

  test('close() publishes pending changes at once', async () => {
    const bus = await createBeaconPubSub(undefined, createLogger('silent'));
    const events = new CampaignEvents(bus);
    const { published, stop } = await recordPublishes(events, bus);
    events.campaignChanged('pending', 'IN_PROGRESS');
    events.campaignChanged('pending', 'IN_PROGRESS');
    await sleep(0);
    expect(published.length).toBe(1);
    await events.close();
    await sleep(0);
    expect(published.length).toBe(2);
    events.campaignChanged('pending', 'IN_PROGRESS');
    await sleep(150);
    expect(published.length).toBe(2);
    await stop();
  });
});

describe('with Redis: two Beacon processes on one database', () => {
  const redisEnv = { REDIS_URL: 'redis://127.0.0.1:6379' };
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    first = await startTestApp({ env: redisEnv });
    second = await startTestApp({ env: redisEnv, databaseUrl: first.app.db.url });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  test('a change published by one reaches a subscriber of the other', async () => {
    const id = await newCampaign(first);
    const feed = watch(subscribeWs, { id }, {}, first);
    expect(campaignOf(await feed.next())).toMatchObject({ id, stats: { messagesSent: 0 } });
    await deliver(id, 4, 'IN_PROGRESS', second);
    expect(campaignOf(await feed.next())).toMatchObject({ status: 'IN_PROGRESS', stats: { messagesSent: 4 } });
    await deliver(id, 20, 'COMPLETED', second);
    expect(campaignOf(await feed.waitFor((r) => campaignOf(r).status === 'COMPLETED'))).toMatchObject({ stats: { messagesSent: 20 } });
  });
});
