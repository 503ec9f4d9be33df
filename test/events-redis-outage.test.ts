/**
 * Live status across a Redis outage (issue 9, point 4): Beacon on a Redis of the test's own,
 * which is killed mid-campaign and started again after the campaign completed. Events
 * published meanwhile are lost in Redis, so the subscriber must get the current state when
 * the connection is back.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createCampaign, seedUsers, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { subscribeWs } from './helpers/subscriptions.js';
import { startOwnRedis, type OwnRedis } from './helpers/redis.js';
import { CampaignUpdatedDocument } from './generated/graphql.js';
import { Redis } from 'ioredis';
import { createBeaconPubSub } from '../src/events/pubsub.js';
import { createLogger } from '../src/logger.js';

let redis: OwnRedis;
let t: TestApp;
beforeAll(async () => {
  redis = await startOwnRedis();
  // 300 recipients at 60 per second: delivery runs for several seconds, so Redis goes down mid-campaign.
  t = await startTestApp({
    env: { REDIS_URL: redis.url, BEACON_JOB_POLL_MS: '200', BEACON_DELIVERY_BATCH_SIZE: '10', BEACON_DELIVERY_RATE: '60' },
  });
});
afterAll(async () => {
  await t?.close();
  await redis?.kill();
});

test('a subscriber that last saw IN_PROGRESS receives COMPLETED after Redis comes back, and later events flow', async () => {
  const users = await seedUsers(t, 'outage', 300);
  const id = await createCampaign(t, {
    name: 'Outage',
    senderId: 'outage-sender',
    userIds: users,
    createChannels: true,
    channelTemplate: { type: 'messaging' },
    messageTemplate: { text: 'Hi {{ user.name }}' },
  });
  const one = subscribeWs(t, CampaignUpdatedDocument, { id });
  const every = subscribeWs(t, CampaignUpdatedDocument, {});
  try {
    expect((await one.next()).data?.campaignUpdated.status).toBe('DRAFT');
    await startCampaign(t, id);
    const progress = (r: Awaited<ReturnType<typeof one.next>>) => r.data?.campaignUpdated.status === 'IN_PROGRESS' && r.data.campaignUpdated.stats.messagesSent > 0 && r.data.campaignUpdated.stats.pending > 0;
    await one.waitFor(progress, 15_000);
    await every.waitFor((r) => r.data?.campaignUpdated.id === id && progress(r), 5_000);

    await redis.kill();
    const completed = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED', 30_000);
    expect(completed.stats.messagesSent).toBe(300);
    // The outage was real: the completion was published into a dead Redis and never arrived.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const statusOf = (feed: typeof one) => feed.results.map((r) => r.data?.campaignUpdated).filter((c) => c?.id === id).map((c) => c!.status);
    expect(statusOf(one)).not.toContain('COMPLETED');
    expect(statusOf(every)).not.toContain('COMPLETED');

    await redis.start();
    const isCompleted = (r: Awaited<ReturnType<typeof one.next>>) => r.data?.campaignUpdated.id === id && r.data.campaignUpdated.status === 'COMPLETED';
    const seen = await one.waitFor(isCompleted, 15_000);
    expect(seen.data!.campaignUpdated.stats).toMatchObject({ messagesSent: 300, pending: 0, progress: 1 });
    expect((await every.waitFor(isCompleted, 5_000)).data!.campaignUpdated.stats.messagesSent).toBe(300);

    // Later events flow again through Redis.
    await t.app.db.prisma.campaign.update({ where: { id }, data: { name: 'After the outage' } });
    t.app.events.campaignChanged(id);
    expect((await one.waitFor((r) => r.data?.campaignUpdated.name === 'After the outage', 10_000)).data!.campaignUpdated.status).toBe('COMPLETED');
    await every.waitFor((r) => r.data?.campaignUpdated.name === 'After the outage', 5_000);
  } finally {
    await one.close();
    await every.close();
  }
});

test('a publish that fails while Redis is down is sent again, the latest per campaign, once it is back', async () => {
  const bus = await createBeaconPubSub(redis.url, createLogger('silent'));
  let listener: Redis | undefined;
  try {
    await redis.kill();
    bus.pubsub.publish('campaign:updated', { campaignId: 'kept', status: 'IN_PROGRESS' });
    bus.pubsub.publish('campaign:updated', { campaignId: 'kept', status: 'COMPLETED' });
    bus.pubsub.publish('campaign:updated', { campaignId: 'other' });
    // Down long enough that ioredis waits several hundred ms between reconnect attempts,
    // so the listener below subscribes before the publish connection is back.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.start();
    listener = new Redis(redis.url);
    const received: unknown[] = [];
    listener.on('message', (_channel: string, message: string) => received.push(JSON.parse(message)));
    await listener.subscribe('campaign:updated');
    const until = Date.now() + 10_000;
    while (received.length < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toEqual([{ campaignId: 'kept', status: 'COMPLETED' }, { campaignId: 'other' }]);
  } finally {
    listener?.disconnect();
    await bus.close();
  }
});
