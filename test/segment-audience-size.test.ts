import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { SegmentAudienceSizeDocument, type SegmentAudienceSizeQueryVariables } from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  const prisma = t.app.db.prisma;
  await prisma.user.createMany({
    data: [
      { id: 'boss', name: 'Boss', role: 'admin' },
      { id: 'ann', name: 'Ann', custom: { age: 30 } },
      { id: 'bob', name: 'Bob', custom: { age: 17 } },
      { id: 'cat', name: 'Cat', custom: { age: 45 } },
    ],
  });
  await prisma.channel.createMany({
    data: [
      { cid: 'team:a', type: 'team', id: 'a', createdById: 'boss', memberCount: 1 },
      { cid: 'team:b', type: 'team', id: 'b', createdById: 'boss', memberCount: 1 },
      { cid: 'team:c', type: 'team', id: 'c', createdById: 'ann', memberCount: 0 },
    ],
  });
  await prisma.channelMember.createMany({ data: [{ channelCid: 'team:a', userId: 'boss' }, { channelCid: 'team:b', userId: 'boss' }] });
});
afterAll(() => t?.close());

const size = async (variables: SegmentAudienceSizeQueryVariables) => (await t.ok(SegmentAudienceSizeDocument, variables)).segmentAudienceSize;

async function refused(variables: SegmentAudienceSizeQueryVariables) {
  const response = await t.gql(SegmentAudienceSizeDocument, variables);
  expect(response.data?.segmentAudienceSize ?? null).toBeNull();
  return response.errors?.[0];
}

describe('segmentAudienceSize', () => {
  test('counts a filter rule, allUsers, allSenderChannels for a sender, and no rule', async () => {
    expect(await size({ type: 'USER', filter: { age: { $gte: 18 } } })).toBe(2);
    expect(await size({ type: 'USER', filter: {} })).toBe(4);
    expect(await size({ type: 'USER', allUsers: true })).toBe(4);
    expect(await size({ type: 'CHANNEL', filter: { id: { $in: ['a', 'c'] } } })).toBe(2);
    expect(await size({ type: 'CHANNEL', allSenderChannels: true, senderId: 'boss' })).toBe(2);
    expect(await size({ type: 'CHANNEL', allSenderChannels: true })).toBe(0);
    expect(await size({ type: 'USER' })).toBe(0);
  });

  test('agrees with a saved segment of the same rule', async () => {
    const filter = { $or: [{ age: { $lt: 18 } }, { name: 'Cat' }] };
    const saved = await t.raw('mutation($f: JSON) { createSegment(input: {type: USER, name: "s", filter: $f}) { ... on CreateSegmentPayload { segment { size } } } }', { f: filter });
    expect(saved.data.createSegment.segment.size).toBe(2);
    expect(await size({ type: 'USER', filter })).toBe(2);
  });

  test('a bad filter is VALIDATION at its path, and so are two rules, a rule of the other type and an unknown sender', async () => {
    expect(await refused({ type: 'USER', filter: { $or: [{ age: { $gte: 18 } }, { age: { $bogus: 1 } }] } })).toMatchObject({
      extensions: { code: 'VALIDATION', path: 'filter.$or[1].age.$bogus' },
    });
    expect(await refused({ type: 'USER', filter: {}, allUsers: true })).toMatchObject({ extensions: { code: 'VALIDATION', path: 'filter, allUsers' } });
    expect(await refused({ type: 'CHANNEL', allUsers: true })).toMatchObject({ extensions: { code: 'VALIDATION', path: 'allUsers' } });
    expect(await refused({ type: 'USER', allSenderChannels: true })).toMatchObject({ extensions: { code: 'VALIDATION', path: 'allSenderChannels' } });
    expect(await refused({ type: 'CHANNEL', allSenderChannels: true, senderId: 'ghost' })).toMatchObject({
      extensions: { code: 'VALIDATION', path: 'senderId' },
    });
  });

  test('a filter over its size budget is VALIDATION before any SQL runs', async () => {
    const filter = { $or: Array.from({ length: 1_001 }, (_, i) => ({ name: `n${i}` })) };
    const error = await refused({ type: 'USER', filter });
    expect(error?.extensions?.code).toBe('VALIDATION');
    expect(String(error?.extensions?.path)).toMatch(/^filter\.\$or\[/);
  });

  test('writes nothing: no segment, no cached size', async () => {
    const before = await t.app.db.prisma.segment.count();
    await size({ type: 'USER', filter: { age: { $gte: 18 } } });
    expect(await t.app.db.prisma.segment.count()).toBe(before);
  });
});
