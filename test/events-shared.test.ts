/**
 * What an event costs per subscriber: a subscription's selection executes once per event
 * for every subscriber with the same document, variables and identity, over graphql-ws and
 * SSE alike (src/events/shared-results.ts). (That status changes are never held back is
 * test/events-live.test.ts's, with windows of a minute.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { subscribeSse, subscribeWs, type Feed } from './helpers/subscriptions.js';
import { CampaignUpdatedDocument, CampaignUpdatedWithRelationsDocument } from './generated/graphql.js';
import { subscriptionExecutions } from '../src/events/shared-results.js';

let t: TestApp;
const feeds: Feed<unknown>[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await Promise.all(feeds.map((feed) => feed.close()));
  await t?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function newCampaign(name: string): Promise<string> {
  const id = `shared-${process.pid}-${name}`;
  await t.app.db.prisma.campaign.create({ data: { id, name, messageTemplate: { text: 'Hi' } } });
  return id;
}

function keep<R>(feed: Feed<R>): Feed<R> {
  feeds.push(feed as Feed<unknown>);
  return feed;
}

describe('campaignUpdated executes each selection once per event', () => {
  test('10 graphql-ws and 5 SSE subscribers of one selection, 5 of another: two executions per event', async () => {
    const id = await newCampaign('fanout');
    const plain = [
      ...Array.from({ length: 10 }, () => keep(subscribeWs(t, CampaignUpdatedDocument, { id }))),
      ...Array.from({ length: 5 }, () => keep(subscribeSse(t, CampaignUpdatedDocument, { id }))),
    ];
    const withRelations = Array.from({ length: 5 }, () => keep(subscribeWs(t, CampaignUpdatedWithRelationsDocument, { id })));
    for (const feed of [...plain, ...withRelations]) await feed.next();

    for (const messagesSent of [4, 9]) {
      const before = subscriptionExecutions.count;
      await t.app.db.prisma.campaign.update({ where: { id }, data: { recipientsTotal: 10, messagesSent } });
      t.app.events.campaignChanged(id);
      for (const feed of plain) expect((await feed.next()).data!.campaignUpdated).toMatchObject({ id, stats: { messagesSent, pending: 10 - messagesSent } });
      for (const feed of withRelations) expect((await feed.next()).data!.campaignUpdated).toMatchObject({ id, segmentIds: [], sender: null, stats: { messagesSent } });
      expect(subscriptionExecutions.count - before).toBe(2);
      // Past the 250 ms window before the next change, so it is an event of its own.
      await sleep(300);
    }
  });

  test('a counter change held by the window, then COMPLETED: every subscriber ends on COMPLETED with the final counters', async () => {
    const id = await newCampaign('status');
    const subscribers = Array.from({ length: 5 }, () => keep(subscribeWs(t, CampaignUpdatedDocument, { id })));
    for (const feed of subscribers) await feed.next();
    const change = async (messagesSent: number, status: 'IN_PROGRESS' | 'COMPLETED') => {
      await t.app.db.prisma.campaign.update({ where: { id }, data: { recipientsTotal: 10, messagesSent, status } });
      t.app.events.campaignChanged(id, status);
    };
    await change(1, 'IN_PROGRESS');
    for (const feed of subscribers) expect((await feed.next()).data!.campaignUpdated).toMatchObject({ status: 'IN_PROGRESS' });
    // Inside the window the first event opened: the counter change waits, COMPLETED does not;
    // each subscriber ends on COMPLETED with the final counters, in at most two events.
    await change(5, 'IN_PROGRESS');
    await change(10, 'COMPLETED');
    for (const feed of subscribers) {
      const last = await feed.waitFor((result) => result.data?.campaignUpdated.status === 'COMPLETED');
      expect(last.data!.campaignUpdated.stats).toMatchObject({ messagesSent: 10, progress: 1 });
    }
    const late = await Promise.all(subscribers.map((feed) => feed.settle(400)));
    expect(late.flat()).toHaveLength(0);
  });
});
