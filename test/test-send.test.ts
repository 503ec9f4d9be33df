import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { TestCampaignDocument } from './generated/graphql.js';
import { distinctChannelId } from '../src/chat/channels.service.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.db.prisma.user.createMany({
    data: [
      { id: 'boss', name: 'Boss', role: 'admin' },
      { id: 'ann', name: 'Ann', custom: { address: { city: 'Delft' } } },
      { id: 'bob', name: 'Bob' },
      { id: 'helper', name: 'Helper' },
      { id: 'cat', name: 'Cat' },
      { id: 'dan', name: 'Dan' },
    ],
  });
});
afterAll(() => t?.close());

let seq = 0;
async function campaign(fields: Record<string, unknown>): Promise<string> {
  const id = `test-send-${++seq}`;
  await t.app.db.prisma.campaign.create({
    data: {
      id,
      name: id,
      senderId: 'boss',
      messageTemplate: { text: 'Hey {{ user.name }} from {{sender.name}} in {{ user.address.city }}', custom: { promo: true } },
      ...fields,
    },
  });
  return id;
}

async function send(id: string, userIds: string[]) {
  const { testCampaign } = await t.ok(TestCampaignDocument, { id, userIds });
  if (testCampaign.__typename !== 'TestCampaignPayload') throw new Error(JSON.stringify(testCampaign));
  return testCampaign.results;
}

const prisma = () => t.app.db.prisma;

describe('testCampaign', () => {
  test('creates the 1:1 channel with the sender, posts the rendered text, and touches no stats or recipients', async () => {
    const id = await campaign({ createChannels: true, channelTemplate: { type: 'messaging' } });
    const [result] = await send(id, ['ann']);
    expect(result).toMatchObject({ userId: 'ann', status: 'SENT', error: null });
    const message = await prisma().message.findUniqueOrThrow({ where: { id: result!.messageId! } });
    expect(message.text).toBe('Hey Ann from Boss in Delft');
    expect(message).toMatchObject({ userId: 'boss', campaignId: null, custom: { promo: true } });
    const cid = `messaging:${distinctChannelId(['boss', 'ann'])}`;
    expect(message.channelCid).toBe(cid);
    expect(result).toMatchObject({ channelCid: cid, channel: { cid, memberCount: 2 } });
    const members = await prisma().channelMember.findMany({ where: { channelCid: cid }, orderBy: { userId: 'asc' } });
    expect(members.map((m) => m.userId)).toEqual(['ann', 'boss']);
    expect((await prisma().channel.findUniqueOrThrow({ where: { cid } })).memberCount).toBe(2);
    const after = await prisma().campaign.findUniqueOrThrow({ where: { id } });
    expect(after).toMatchObject({ messagesSent: 0, recipientsTotal: 0, channelsCreated: 0, status: 'DRAFT' });
    expect(await prisma().recipient.count({ where: { campaignId: id } })).toBe(0);
  });

  test('reuses the channel on a second test send', async () => {
    const id = await campaign({ createChannels: true, channelTemplate: { type: 'messaging' } });
    const first = await send(id, ['bob']);
    const second = await send(id, ['bob']);
    const [a, b] = await Promise.all(
      [first[0]!.messageId!, second[0]!.messageId!].map((mid) => prisma().message.findUniqueOrThrow({ where: { id: mid } })),
    );
    expect(a!.id).not.toBe(b!.id);
    expect(a!.channelCid).toBe(b!.channelCid);
    expect(await prisma().channel.count({ where: { cid: a!.channelCid } })).toBe(1);
  });

  test('a channel id template names the channel; template members join; user.* renders empty in the group', async () => {
    const id = await campaign({
      createChannels: true,
      channelTemplate: { type: 'team', id: 'news-{{user.id}}', members: ['helper'], custom: { topic: 'news' } },
      messageTemplate: { text: '[{{user.name}}] in {{channel.cid}} ({{channel.topic}})' },
    });
    const [result] = await send(id, ['ann']);
    expect(result!.status).toBe('SENT');
    const message = await prisma().message.findUniqueOrThrow({ where: { id: result!.messageId! } });
    expect(message.text).toBe('[] in team:news-ann (news)');
    expect(result).toMatchObject({ channelCid: 'team:news-ann', channel: { cid: 'team:news-ann', memberCount: 3 } });
    const channel = await prisma().channel.findUniqueOrThrow({ where: { cid: 'team:news-ann' }, include: { members: true } });
    expect(channel.members.map((m) => m.userId).sort()).toEqual(['ann', 'boss', 'helper']);
    expect(channel).toMatchObject({ createdById: 'boss', memberCount: 3, custom: { topic: 'news' } });
  });

  test('senderMode EXCLUDE leaves the sender out of new channels', async () => {
    const id = await campaign({ createChannels: true, senderMode: 'EXCLUDE', channelTemplate: { type: 'solo', id: 'solo-{{user.id}}' } });
    const [result] = await send(id, ['bob']);
    expect(result!.status).toBe('SENT');
    const members = await prisma().channelMember.findMany({ where: { channelCid: 'solo:solo-bob' } });
    expect(members.map((m) => m.userId)).toEqual(['bob']);
  });

  test('without createChannels a missing channel is a per-user error, and an existing one is used', async () => {
    const id = await campaign({ createChannels: false });
    const cid = `messaging:${distinctChannelId(['boss', 'cat'])}`;
    await prisma().channel.create({ data: { cid, type: 'messaging', id: cid.slice('messaging:'.length), memberCount: 2 } });
    await prisma().channelMember.createMany({ data: ['boss', 'cat'].map((userId) => ({ channelCid: cid, userId })) });
    const results = await send(id, ['dan', 'cat']);
    expect(results[0]).toMatchObject({ userId: 'dan', status: 'ERRORED', messageId: null, channelCid: null, channel: null });
    expect(results[0]!.error).toMatch(/createChannels is false/);
    expect(await prisma().channel.count({ where: { cid: `messaging:${distinctChannelId(['boss', 'dan'])}` } })).toBe(0);
    expect(results[1]).toMatchObject({ userId: 'cat', status: 'SENT', channelCid: cid, channel: { cid } });
  });

  test('unknown users and the sender come back as per-user errors, in input order', async () => {
    const id = await campaign({ createChannels: true, channelTemplate: { type: 'messaging' } });
    const results = await send(id, ['ghost', 'boss', 'ann']);
    expect(results.map((r) => [r.userId, r.status])).toEqual([
      ['ghost', 'ERRORED'],
      ['boss', 'ERRORED'],
      ['ann', 'SENT'],
    ]);
    expect(results[0]!.error).toMatch(/does not exist/);
  });

  test('an unknown campaign is NOT_FOUND and more than 100 users is VALIDATION', async () => {
    const missing = await t.ok(TestCampaignDocument, { id: 'nope', userIds: ['ann'] });
    expect(missing.testCampaign).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND', path: ['id'] });
    const id = await campaign({});
    const tooMany = await t.ok(TestCampaignDocument, { id, userIds: Array.from({ length: 101 }, (_, i) => `u${i}`) });
    expect(tooMany.testCampaign).toMatchObject({ code: 'VALIDATION', path: ['userIds'] });
  });

  test('a user token is FORBIDDEN', async () => {
    const id = await campaign({});
    const result = await t.gql(TestCampaignDocument, { id, userIds: ['ann'] }, { token: await t.userToken('ann') });
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
