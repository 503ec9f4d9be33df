import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import {
  AddChannelMembersDocument,
  ChannelDocument,
  CreateChannelDocument,
  DeleteUsersDocument,
  MarkChannelReadDocument,
  MessagesDocument,
  SendMessageDocument,
  UpsertUsersDocument,
  UserDocument,
} from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

describe('upsertUsers', () => {
  test('inserts users with custom data and returns them in input order', async () => {
    const { upsertUsers } = await t.ok(UpsertUsersDocument, {
      users: [
        { id: 'zed', name: 'Zed', teams: ['red'], custom: { address: { city: 'Delft' } } },
        { id: 'amy', name: 'Amy', role: 'admin', language: 'nl' },
      ],
    });
    if (upsertUsers.__typename !== 'UpsertUsersPayload') throw new Error(JSON.stringify(upsertUsers));
    expect(upsertUsers.users.map((u) => u.id)).toEqual(['zed', 'amy']);
    expect(upsertUsers.users[0]).toMatchObject({ role: 'user', teams: ['red'], custom: { address: { city: 'Delft' } } });
    expect(upsertUsers.users[1]).toMatchObject({ role: 'admin', language: 'nl', custom: {} });
  });

  test('replaces an existing user whole and keeps createdAt', async () => {
    const before = await t.ok(UpsertUsersDocument, { users: [{ id: 'replace-me', name: 'Old', custom: { a: 1 } }] });
    const after = await t.ok(UpsertUsersDocument, { users: [{ id: 'replace-me', name: 'New' }] });
    if (before.upsertUsers.__typename !== 'UpsertUsersPayload' || after.upsertUsers.__typename !== 'UpsertUsersPayload') throw new Error('failed');
    expect(after.upsertUsers.users[0]).toMatchObject({ name: 'New', custom: {} });
    expect(after.upsertUsers.users[0]!.createdAt).toBe(before.upsertUsers.users[0]!.createdAt);
  });

  test('writes 1,000 users in one call', async () => {
    const users = Array.from({ length: 1000 }, (_, i) => ({ id: `bulk-${i}`, custom: { n: i } }));
    const { upsertUsers } = await t.ok(UpsertUsersDocument, { users });
    expect(upsertUsers.__typename).toBe('UpsertUsersPayload');
    expect(await t.app.db.prisma.user.count({ where: { id: { startsWith: 'bulk-' } } })).toBe(1000);
  });

  test('rejects 1,001 users, a bad id, duplicates and non-object custom data, writing nothing', async () => {
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ id: `over-${i}` }));
    const cases = [
      { users: tooMany, path: 'users' },
      { users: [{ id: 'ok-1' }, { id: 'has space' }], path: 'users[1].id' },
      { users: [{ id: 'dup' }, { id: 'dup' }], path: 'users.id[1]' },
      { users: [{ id: 'ok-2', custom: [1, 2] }], path: 'users[0].custom' },
      { users: [{ id: 'ok-3', name: 'x'.repeat(257) }], path: 'users[0].name' },
    ];
    for (const c of cases) {
      const { upsertUsers } = await t.ok(UpsertUsersDocument, { users: c.users });
      expect(upsertUsers).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', path: [c.path] });
    }
    expect(await t.app.db.prisma.user.count({ where: { id: { in: ['ok-1', 'ok-2', 'ok-3', 'over-0', 'dup'] } } })).toBe(0);
  });
});

describe('channels', () => {
  beforeAll(async () => {
    await t.ok(UpsertUsersDocument, { users: [{ id: 'c-ann' }, { id: 'c-ben' }, { id: 'c-cat' }] });
  });

  test('creates a channel with members, then returns the existing one', async () => {
    const input = { type: 'messaging', id: 'room-1', createdById: 'c-ann', members: ['c-ann', 'c-ben'], custom: { topic: 'x' } };
    const first = await t.ok(CreateChannelDocument, { input });
    expect(first.createChannel).toMatchObject({ created: true, channel: { cid: 'messaging:room-1', memberCount: 2, custom: { topic: 'x' } } });
    const again = await t.ok(CreateChannelDocument, { input: { ...input, custom: { topic: 'changed' } } });
    expect(again.createChannel).toMatchObject({ created: false, channel: { cid: 'messaging:room-1', custom: { topic: 'x' } } });
  });

  test('a channel without id is identified by its two members, in any order', async () => {
    const a = await t.ok(CreateChannelDocument, { input: { type: 'messaging', members: ['c-ann', 'c-cat'] } });
    const b = await t.ok(CreateChannelDocument, { input: { type: 'messaging', members: ['c-cat', 'c-ann'] } });
    if (a.createChannel.__typename !== 'CreateChannelPayload' || b.createChannel.__typename !== 'CreateChannelPayload') throw new Error('failed');
    expect(a.createChannel.created).toBe(true);
    expect(b.createChannel.created).toBe(false);
    expect(b.createChannel.channel.cid).toBe(a.createChannel.channel.cid);
    expect(a.createChannel.channel.id).toMatch(/^!members-/);
  });

  test('concurrent creations of one distinct channel agree on one channel', async () => {
    await t.ok(UpsertUsersDocument, { users: [{ id: 'race-1' }, { id: 'race-2' }] });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => t.ok(CreateChannelDocument, { input: { type: 'messaging', members: ['race-1', 'race-2'] } })),
    );
    const created = results.filter((r) => r.createChannel.__typename === 'CreateChannelPayload' && r.createChannel.created);
    expect(created).toHaveLength(1);
  });

  test('validation: unknown members, bad type, id-less with one member', async () => {
    const unknown = await t.ok(CreateChannelDocument, { input: { type: 'messaging', id: 'x1', members: ['c-ann', 'ghost'] } });
    expect(unknown.createChannel).toMatchObject({ __typename: 'ValidationError', path: ['input.members'] });
    expect((unknown.createChannel as { message: string }).message).toContain('ghost');
    const badType = await t.ok(CreateChannelDocument, { input: { type: 'Bad Type', id: 'x2' } });
    expect(badType.createChannel).toMatchObject({ __typename: 'ValidationError', path: ['input.type'] });
    const lonely = await t.ok(CreateChannelDocument, { input: { type: 'messaging', members: ['c-ann'] } });
    expect(lonely.createChannel).toMatchObject({ __typename: 'ValidationError', path: ['input.members'] });
    expect(await t.app.db.prisma.channel.count({ where: { id: { in: ['x1', 'x2'] } } })).toBe(0);
  });

  test('addChannelMembers adds new members once and keeps memberCount exact', async () => {
    await t.ok(CreateChannelDocument, { input: { type: 'team', id: 'ops', members: ['c-ann'] } });
    const added = await t.ok(AddChannelMembersDocument, { cid: 'team:ops', userIds: ['c-ann', 'c-ben', 'c-cat'] });
    expect(added.addChannelMembers).toMatchObject({ channel: { memberCount: 3 } });
    const missing = await t.ok(AddChannelMembersDocument, { cid: 'team:nope', userIds: ['c-ann'] });
    expect(missing.addChannelMembers).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  test('deleteUsers removes memberships and recounts channels', async () => {
    await t.ok(UpsertUsersDocument, { users: [{ id: 'leaver' }] });
    await t.ok(AddChannelMembersDocument, { cid: 'team:ops', userIds: ['leaver'] });
    const deleted = await t.ok(DeleteUsersDocument, { ids: ['leaver', 'never-existed'] });
    expect(deleted.deleteUsers).toMatchObject({ deletedIds: ['leaver'] });
    const { channel } = await t.ok(ChannelDocument, { cid: 'team:ops' });
    expect(channel?.memberCount).toBe(3);
    expect(channel?.members.map((m) => m.userId).sort()).toEqual(['c-ann', 'c-ben', 'c-cat']);
    expect((await t.ok(UserDocument, { id: 'leaver' })).user).toBeNull();
  });
});

describe('messages and read state', () => {
  beforeAll(async () => {
    await t.ok(UpsertUsersDocument, { users: [{ id: 'm-ann' }, { id: 'm-ben' }] });
    await t.ok(CreateChannelDocument, { input: { type: 'messaging', id: 'chat', members: ['m-ann', 'm-ben'] } });
  });

  test('sendMessage stores text, attachments and custom data', async () => {
    const { sendMessage } = await t.ok(SendMessageDocument, {
      input: { channelCid: 'messaging:chat', userId: 'm-ann', text: 'hello', attachments: [{ type: 'image', url: 'https://x/y.png' }], custom: { k: 1 } },
    });
    expect(sendMessage).toMatchObject({
      sentMessage: { text: 'hello', attachments: [{ type: 'image' }], custom: { k: 1 }, campaignId: null, user: { id: 'm-ann' }, channel: { cid: 'messaging:chat' } },
    });
  });

  test('sendMessage validates its input', async () => {
    const empty = await t.ok(SendMessageDocument, { input: { channelCid: 'messaging:chat', userId: 'm-ann', text: '' } });
    expect(empty.sendMessage).toMatchObject({ __typename: 'ValidationError', path: ['input.text'] });
    const long = await t.ok(SendMessageDocument, { input: { channelCid: 'messaging:chat', userId: 'm-ann', text: 'x'.repeat(5001) } });
    expect(long.sendMessage).toMatchObject({ __typename: 'ValidationError', path: ['input.text'] });
    const noChannel = await t.ok(SendMessageDocument, { input: { channelCid: 'messaging:none', userId: 'm-ann', text: 'hi' } });
    expect(noChannel.sendMessage).toMatchObject({ __typename: 'NotFoundError' });
    const badAttachments = await t.ok(SendMessageDocument, { input: { channelCid: 'messaging:chat', userId: 'm-ann', text: 'hi', attachments: { not: 'a list' } } });
    expect(badAttachments.sendMessage).toMatchObject({ __typename: 'ValidationError', path: ['input.attachments'] });
  });

  test('messages page forward oldest first and backward from the newest', async () => {
    for (let i = 0; i < 5; i += 1) {
      await t.ok(SendMessageDocument, { input: { channelCid: 'messaging:chat', userId: 'm-ben', text: `n${i}` } });
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { messages }: { messages: { edges: { node: { text: string } }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } } =
        await t.ok(MessagesDocument, { channelCid: 'messaging:chat', first: 2, after });
      seen.push(...messages.edges.map((e) => e.node.text));
      if (!messages.pageInfo.hasNextPage) break;
      after = messages.pageInfo.endCursor ?? null;
    }
    expect(seen).toEqual(['hello', 'n0', 'n1', 'n2', 'n3', 'n4']);
    const newest = await t.ok(MessagesDocument, { channelCid: 'messaging:chat', last: 2 });
    expect(newest.messages.edges.map((e) => e.node.text)).toEqual(['n3', 'n4']);
    expect(newest.messages.pageInfo.hasPreviousPage).toBe(true);
    expect(newest.messages.totalCount).toBe(6);
    const older = await t.ok(MessagesDocument, { channelCid: 'messaging:chat', last: 3, before: newest.messages.pageInfo.startCursor });
    expect(older.messages.edges.map((e) => e.node.text)).toEqual(['n0', 'n1', 'n2']);
  });

  test('markChannelRead sets lastReadAt for a member and refuses a non-member', async () => {
    const { markChannelRead } = await t.ok(MarkChannelReadDocument, { channelCid: 'messaging:chat', userId: 'm-ben' });
    if (markChannelRead.__typename !== 'MarkChannelReadPayload') throw new Error(JSON.stringify(markChannelRead));
    const ben = markChannelRead.channel.members.find((m) => m.userId === 'm-ben');
    expect(ben?.lastReadAt).toBe(markChannelRead.lastReadAt);
    const outsider = await t.ok(MarkChannelReadDocument, { channelCid: 'messaging:chat', userId: 'c-ann' });
    expect(outsider.markChannelRead).toMatchObject({ __typename: 'NotFoundError', path: ['userId'] });
  });
});
