import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createCampaign, seedUsers, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { connect, createChannel, createSegment, holdConversations, messageRows, pglite, recipientRows, runCampaign } from './helpers/delivery-extra.js';
import { pollUntil } from './helpers/delivery-checks.js';
import { CampaignProgressDocument, DeleteUsersDocument, MarkChannelReadDocument, RecipientDocument } from './generated/graphql.js';
import { distinctChannelId } from '../src/chat/channels.service.js';

let t: TestApp;
beforeAll(async () => {
  // Small batches: several lanes each claim a few recipients, so some stay unclaimed while delivery is held.
  t = await startTestApp({ env: { BEACON_JOB_POLL_MS: '200', BEACON_DELIVERY_BATCH_SIZE: '2' } });
});
afterAll(() => t?.close());

const direct = (sender: string, user: string) => `messaging:${distinctChannelId([sender, user])}`;

async function markRead(channelCid: string, userId: string, token?: string) {
  const result = await t.gql(MarkChannelReadDocument, { channelCid, userId }, token ? { token } : {});
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  const payload = result.data!.markChannelRead;
  if (payload.__typename !== 'MarkChannelReadPayload') throw new Error(JSON.stringify(payload));
  return payload;
}

async function stats(id: string) {
  return (await t.ok(CampaignProgressDocument, { id })).campaign!.stats;
}

describe('audience', () => {
  test('users in two overlapping segments get one message; the sender in the audience is never messaged', async () => {
    await seedUsers(t, 'ov', 5, (n) => ({ tier: n <= 3 ? 'gold' : 'silver' }));
    const gold = await createSegment(t, { type: 'USER', name: 'gold', filter: { tier: 'gold' } });
    const picked = await createSegment(t, { type: 'USER', name: 'picked', targetIds: ['ov-3', 'ov-4', 'ov-sender'] });
    const { id, stats } = await runCampaign(t, {
      name: 'Overlap',
      senderId: 'ov-sender',
      segmentIds: [gold, picked],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi {{user.name}}' },
    });
    expect(stats).toMatchObject({ recipientsTotal: 4, messagesSent: 4, pending: 0 });
    const recipients = await recipientRows(t, id);
    expect(recipients.map((r) => [r.userId, r.status])).toEqual(['ov-1', 'ov-2', 'ov-3', 'ov-4'].map((u) => [u, 'SENT']));
    const messages = await messageRows(t, id);
    expect(messages).toHaveLength(4);
    expect(new Set(messages.map((m) => m.channelCid)).size).toBe(4);
    expect(messages.every((m) => m.userId === 'ov-sender')).toBe(true);
    expect(await t.app.db.prisma.message.count({ where: { campaignId: id, text: 'Hi Sender' } })).toBe(0);
    const senderOnly = await t.app.db.prisma.channel.count({ where: { members: { every: { userId: 'ov-sender' } }, createdById: 'ov-sender' } });
    expect(senderOnly).toBe(0);
  });

  test.skipIf(pglite)('a user deleted after the audience was materialized is SKIPPED, and the rest are delivered', async () => {
    const users = await seedUsers(t, 'del', 12);
    const id = await createCampaign(t, {
      name: 'Deleted',
      senderId: 'del-sender',
      userIds: users,
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi {{user.name}}' },
    });
    const hold = await holdConversations(t, 'del-sender', users);
    const client = await connect(t);
    let doomed: string[] = [];
    try {
      await startCampaign(t, id);
      await waitForCampaign(t, id, (c) => c.stats.recipientsTotal === 12);
      expect(await t.app.db.prisma.message.count({ where: { campaignId: id } })).toBe(0); // held: nothing delivered yet
      // A deletion of users waits for the batches in flight and holds back the next ones
      // (references are checked per statement; see test/references.test.ts): ask for its
      // lock while the lanes are held, then let them go.
      await client.query('BEGIN');
      const locked = client.query('SELECT beacon_lock_references()');
      await hold.release();
      await locked;
      // No batch is in flight now: the PENDING rows are claimed by nobody. Delete two of their users.
      const { rows } = await client.query<{ user_id: string }>(
        `SELECT user_id FROM recipients WHERE campaign_id = $1 AND status = 'PENDING' ORDER BY user_id FOR UPDATE`,
        [id],
      );
      doomed = rows.slice(0, 2).map((r) => r.user_id);
      expect(doomed).toHaveLength(2);
      await client.query('DELETE FROM users WHERE id = ANY($1::text[])', [doomed]);
      await client.query('COMMIT');
    } finally {
      await client.end();
      await hold.release();
    }
    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED');
    expect(done.stats).toMatchObject({ recipientsTotal: 12, messagesSent: 10, messagesErrored: 0, pending: 0, progress: 1 });
    const recipients = await recipientRows(t, id);
    const skipped = recipients.filter((r) => r.status === 'SKIPPED');
    expect(skipped).toHaveLength(2);
    for (const r of skipped) expect(r).toMatchObject({ userId: null, messageId: null, sentAt: null, error: 'The user or channel was deleted' });
    expect(recipients.filter((r) => r.status === 'SENT').map((r) => r.userId).sort()).toEqual(users.filter((u) => !doomed.includes(u)).sort());
    expect(await messageRows(t, id)).toHaveLength(10);
    for (const user of doomed) expect(await t.app.db.prisma.channel.count({ where: { cid: direct('del-sender', user) } })).toBe(0);
  });

  test.skipIf(pglite)('a sender deleted while its campaign delivers: the batches in flight commit, the campaign ends FAILED, nothing points at the sender', async () => {
    const users = await seedUsers(t, 'sg', 12);
    const id = await createCampaign(t, {
      name: 'Sender gone',
      senderId: 'sg-sender',
      userIds: users,
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi {{user.name}}' },
    });
    const hold = await holdConversations(t, 'sg-sender', users);
    let deleting: Promise<unknown> = Promise.resolve();
    try {
      await startCampaign(t, id);
      await waitForCampaign(t, id, (c) => c.stats.recipientsTotal === 12);
      // A batch is in flight: its INSERT of the held channels waits for the holder.
      await pollUntil(
        () => t.app.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO channels%'`,
        (rows) => rows[0]!.n > 0,
        'a batch waiting for the held channels',
      );
      // deleteUsers waits for the held batches (they took the shared lock at BEGIN).
      deleting = t.ok(DeleteUsersDocument, { ids: ['sg-sender'] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await t.app.db.prisma.user.count({ where: { id: 'sg-sender' } })).toBe(1);
    } finally {
      await hold.release();
    }
    expect(await deleting).toMatchObject({ deleteUsers: { deletedIds: ['sg-sender'] } });
    const failed = await waitForCampaign(t, id, (c) => c.status === 'FAILED');
    expect(failed.failureReason).toMatch(/sender/i);
    const sent = await messageRows(t, id);
    expect(sent.length).toBeGreaterThan(0); // the held batches committed before the delete
    expect(sent.length).toBeLessThan(12);
    expect(sent.every((m) => m.userId === null)).toBe(true);
    const client = await connect(t);
    try {
      const { rows } = await client.query(`
        SELECT (SELECT count(*) FROM channel_members WHERE user_id = 'sg-sender')::int AS members,
               (SELECT count(*) FROM channels WHERE created_by_id = 'sg-sender')::int AS created,
               (SELECT count(*) FROM messages WHERE user_id = 'sg-sender')::int AS messages`);
      expect(rows[0]).toEqual({ members: 0, created: 0, messages: 0 });
    } finally {
      await client.end();
    }
  });
});

describe('read tracking', () => {
  test('markChannelRead after delivery sets readAt once and counts the user once; a read before the message does not count', async () => {
    await seedUsers(t, 'rd', 3);
    // rd-1 already talks with the sender, and reads that channel before the campaign.
    const early = await createChannel(t, { type: 'messaging', members: ['rd-sender', 'rd-1'] });
    await markRead(early, 'rd-1');
    const { id, stats: initial } = await runCampaign(t, {
      name: 'Reads',
      senderId: 'rd-sender',
      userIds: ['rd-1', 'rd-2', 'rd-3'],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi' },
    });
    expect(initial).toMatchObject({ usersSent: 3, usersRead: 0, readRatio: 0 });
    expect((await recipientRows(t, id)).every((r) => r.readAt === null)).toBe(true);

    // rd-2 marks its channel read with its own user token, twice.
    const token = await t.userToken('rd-2');
    const first = await markRead(direct('rd-sender', 'rd-2'), 'rd-2', token);
    const row = (await recipientRows(t, id)).find((r) => r.userId === 'rd-2')!;
    expect(row.readAt?.toISOString()).toBe(first.lastReadAt);
    expect(row.readAt!.getTime()).toBeGreaterThanOrEqual(row.sentAt!.getTime());
    expect(await stats(id)).toMatchObject({ usersRead: 1 });
    await markRead(direct('rd-sender', 'rd-2'), 'rd-2', token);
    const again = (await recipientRows(t, id)).find((r) => r.userId === 'rd-2')!;
    expect(again.readAt).toEqual(row.readAt);
    expect(await stats(id)).toMatchObject({ usersRead: 1 });
    const { recipient } = await t.ok(RecipientDocument, { id: row.id });
    expect(recipient?.readAt).toBe(first.lastReadAt);

    // The sender reading its side counts for nobody; rd-1 reading again (after the message) counts.
    await markRead(direct('rd-sender', 'rd-3'), 'rd-sender');
    await markRead(early, 'rd-1');
    const final = await stats(id);
    expect(final).toMatchObject({ usersSent: 3, usersRead: 2 });
    expect(final.readRatio).toBeCloseTo(2 / 3, 10);
    const read = (await recipientRows(t, id)).map((r) => [r.userId, r.readAt !== null]);
    expect(read).toEqual([
      ['rd-1', true],
      ['rd-2', true],
      ['rd-3', false],
    ]);
  });

  test('one read covers the messages of every campaign delivered into that channel', async () => {
    await seedUsers(t, 'two', 1);
    const input = { senderId: 'two-sender', userIds: ['two-1'], createChannels: true, channelTemplate: { type: 'messaging' }, messageTemplate: { text: 'Hi' } };
    const first = await runCampaign(t, { name: 'first', ...input });
    const second = await runCampaign(t, { name: 'second', ...input });
    await markRead(direct('two-sender', 'two-1'), 'two-1');
    for (const { id } of [first, second]) {
      expect(await stats(id)).toMatchObject({ usersSent: 1, usersRead: 1, readRatio: 1 });
      expect((await recipientRows(t, id))[0]!.readAt).not.toBeNull();
    }
  });

  test('a user token may mark read only for its own user', async () => {
    await seedUsers(t, 'tk', 1);
    const cid = await createChannel(t, { type: 'messaging', members: ['tk-sender', 'tk-1'] });
    const other = await t.gql(MarkChannelReadDocument, { channelCid: cid, userId: 'tk-sender' }, { token: await t.userToken('tk-1') });
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await markRead(cid, 'tk-1', await t.userToken('tk-1'));
    expect(own.channel.members.find((m) => m.userId === 'tk-1')?.lastReadAt).toBe(own.lastReadAt);
  });

  test('a channel recipient is read once, by a member other than the sender', async () => {
    await seedUsers(t, 'cr', 2);
    const cid = await createChannel(t, { type: 'team', id: 'cr-room', members: ['cr-1', 'cr-2', 'cr-sender'] });
    const segment = await createSegment(t, { type: 'CHANNEL', name: 'cr', targetIds: [cid] });
    const { id } = await runCampaign(t, { name: 'Channel reads', senderId: 'cr-sender', segmentIds: [segment], messageTemplate: { text: 'News' } });
    await markRead(cid, 'cr-sender');
    expect(await stats(id)).toMatchObject({ usersSent: 1, usersRead: 0 });
    await markRead(cid, 'cr-1');
    await markRead(cid, 'cr-2');
    expect(await stats(id)).toMatchObject({ usersSent: 1, usersRead: 1, readRatio: 1 });
    const [recipient] = await recipientRows(t, id);
    expect(recipient).toMatchObject({ channelCid: cid, status: 'SENT' });
    expect(recipient!.readAt).not.toBeNull();
  });
});
