import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createCampaign, seedUsers, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { createChannel, createSegment, membersOf, messageRows, recipientRows, runCampaign } from './helpers/delivery-extra.js';
import { distinctChannelId } from '../src/chat/channels.service.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { BEACON_JOB_POLL_MS: '200', BEACON_DELIVERY_BATCH_SIZE: '100' } });
});
afterAll(() => t?.close());

const oneToOne = (type: string, ...members: string[]) => `${type}:${distinctChannelId(members)}`;

describe('channel segment campaigns', () => {
  test('post one message per target channel as the sender; user.* renders empty, channel.* renders; members stay as they were', async () => {
    await seedUsers(t, 'ch', 4);
    const alpha = await createChannel(t, { type: 'team', id: 'alpha', members: ['ch-1', 'ch-2'], custom: { x: 'A', topic: 'launch' } });
    const beta = await createChannel(t, { type: 'team', id: 'beta', members: ['ch-3'], custom: { x: 'B' } });
    const gamma = await createChannel(t, { type: 'team', id: 'gamma', members: ['ch-4'], custom: { x: 'C' } });
    const delta = await createChannel(t, { type: 'team', id: 'delta', members: ['ch-4'], custom: { x: 'D' } });
    // The filter matches alpha and beta; gamma is an explicit target; delta is in neither.
    const segment = await createSegment(t, { type: 'CHANNEL', name: 'teams', filter: { type: 'team', x: { $in: ['A', 'B'] } }, targetIds: [gamma] });

    const { id, stats } = await runCampaign(t, {
      name: 'Channels',
      senderId: 'ch-sender',
      segmentIds: [segment],
      messageTemplate: { text: 'Hi [{{ user.name }}|{{receiver.id}}] in {{channel.id}} ({{channel.cid}}): {{channel.custom.x}}/{{channel.x}} {{channel.topic}} from {{sender.name}}' },
    });
    expect(stats).toMatchObject({ recipientsTotal: 3, messagesSent: 3, messagesErrored: 0, channelsCreated: 0, pending: 0, progress: 1 });

    const recipients = await recipientRows(t, id);
    expect(recipients.map((r) => [r.channelCid, r.userId, r.status, r.error])).toEqual([
      [alpha, null, 'SENT', null],
      [beta, null, 'SENT', null],
      [gamma, null, 'SENT', null],
    ]);
    const messages = await messageRows(t, id);
    expect(messages.map((m) => [m.channelCid, m.userId, m.text])).toEqual([
      [alpha, 'ch-sender', 'Hi [|] in alpha (team:alpha): A/A launch from Sender'],
      [beta, 'ch-sender', 'Hi [|] in beta (team:beta): B/B  from Sender'],
      [gamma, 'ch-sender', 'Hi [|] in gamma (team:gamma): C/C  from Sender'],
    ]);
    expect(recipients.map((r) => r.messageId)).toEqual(messages.map((m) => m.id));
    expect(await t.app.db.prisma.message.count({ where: { channelCid: delta } })).toBe(0);
    // Default senderMode: existing channels do not get the sender.
    expect(await membersOf(t, alpha)).toEqual({ members: ['ch-1', 'ch-2'], memberCount: 2 });
    expect(await membersOf(t, beta)).toEqual({ members: ['ch-3'], memberCount: 1 });
  });

  test('senderMode INCLUDE adds the sender to every target channel once', async () => {
    await seedUsers(t, 'chi', 2);
    const one = await createChannel(t, { type: 'team', id: 'chi-one', members: ['chi-1', 'chi-2'] });
    const two = await createChannel(t, { type: 'team', id: 'chi-two', members: ['chi-2', 'chi-sender'] });
    const segment = await createSegment(t, { type: 'CHANNEL', name: 'chi', targetIds: [one, two] });
    const { id } = await runCampaign(t, { name: 'Include', senderId: 'chi-sender', senderMode: 'INCLUDE', segmentIds: [segment], messageTemplate: { text: 'x' } });
    expect(await membersOf(t, one)).toEqual({ members: ['chi-1', 'chi-2', 'chi-sender'], memberCount: 3 });
    expect(await membersOf(t, two)).toEqual({ members: ['chi-2', 'chi-sender'], memberCount: 2 });
    expect((await messageRows(t, id)).map((m) => m.channelCid)).toEqual([one, two]);
  });
});

describe('user campaigns: conversations and rendering', () => {
  test('a group channel from channelTemplate.members renders user.* empty; a 1:1 distinct channel renders it', async () => {
    await seedUsers(t, 'g', 2);
    await t.app.db.prisma.user.create({ data: { id: 'g-helper', name: 'Helper' } });
    const group = await runCampaign(t, {
      name: 'Group',
      senderId: 'g-sender',
      userIds: ['g-1', 'g-2'],
      createChannels: true,
      channelTemplate: { type: 'group', members: ['g-helper'], custom: { kind: 'grp' } },
      messageTemplate: { text: 'Hello [{{user.name}}] {{channel.kind}}' },
    });
    expect(group.stats).toMatchObject({ recipientsTotal: 2, messagesSent: 2, channelsCreated: 2 });
    const groupCids = ['g-1', 'g-2'].map((u) => oneToOne('group', 'g-sender', u, 'g-helper'));
    const recipients = await recipientRows(t, group.id);
    // A user recipient's conversation is its message's channel (channelCid is the audience key of channel recipients).
    expect(recipients.map((r) => [r.userId, r.channelCid, r.status])).toEqual([
      ['g-1', null, 'SENT'],
      ['g-2', null, 'SENT'],
    ]);
    expect((await messageRows(t, group.id)).map((m) => m.channelCid).sort()).toEqual([...groupCids].sort());
    const messages = await messageRows(t, group.id);
    expect(messages.map((m) => m.text)).toEqual(['Hello [] grp', 'Hello [] grp']);
    for (const [i, cid] of groupCids.entries()) {
      expect(await membersOf(t, cid!)).toEqual({ members: [`g-${i + 1}`, 'g-helper', 'g-sender'].sort(), memberCount: 3 });
      const channel = await t.app.db.prisma.channel.findUniqueOrThrow({ where: { cid: cid! } });
      expect(channel).toMatchObject({ type: 'group', createdById: 'g-sender', custom: { kind: 'grp' } });
    }

    const direct = await runCampaign(t, {
      name: 'Direct',
      senderId: 'g-sender',
      userIds: ['g-1'],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hello [{{user.name}}|{{ receiver.id }}]' },
    });
    const cid = oneToOne('messaging', 'g-sender', 'g-1');
    expect((await messageRows(t, direct.id)).map((m) => [m.channelCid, m.text])).toEqual([[cid, 'Hello [User 1|g-1]']]);
    expect(await membersOf(t, cid)).toEqual({ members: ['g-1', 'g-sender'], memberCount: 2 });
  });

  test('a template member deleted after the campaign was saved is left out of the new channels and their memberCount', async () => {
    await seedUsers(t, 'tmd', 2);
    await t.app.db.prisma.user.createMany({ data: [{ id: 'tmd-helper', name: 'Helper' }, { id: 'tmd-gone', name: 'Gone' }] });
    const id = await createCampaign(t, {
      name: 'Deleted member',
      senderId: 'tmd-sender',
      userIds: ['tmd-1', 'tmd-2'],
      createChannels: true,
      channelTemplate: { type: 'group', members: ['tmd-helper', 'tmd-gone'] },
      messageTemplate: { text: 'Hi' },
    });
    await t.app.db.prisma.user.delete({ where: { id: 'tmd-gone' } });
    await startCampaign(t, id);
    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED');
    expect(done.stats).toMatchObject({ messagesSent: 2, channelsCreated: 2 });
    for (const user of ['tmd-1', 'tmd-2']) {
      // The channel id is the one the saved template names (the deleted member included).
      const cid = oneToOne('group', 'tmd-sender', user, 'tmd-helper', 'tmd-gone');
      expect(await membersOf(t, cid)).toEqual({ members: [user, 'tmd-helper', 'tmd-sender'].sort(), memberCount: 3 });
    }
  });

  test('a channel id that does not name the receiver may be shared, so user.* renders empty even for a lone recipient', async () => {
    await seedUsers(t, 'sh', 2);
    // One recipient: the shared channel has only sender and receiver now, but the next
    // campaign (or recipient) with this id posts into it too and would read the text.
    const shared = await runCampaign(t, {
      name: 'Shared',
      senderId: 'sh-sender',
      userIds: ['sh-1'],
      createChannels: true,
      channelTemplate: { type: 'messaging', id: 'sh-news' },
      messageTemplate: { text: 'Hey [{{user.name}}] from {{sender.name}}' },
    });
    expect((await messageRows(t, shared.id)).map((m) => [m.channelCid, m.text])).toEqual([['messaging:sh-news', 'Hey [] from Sender']]);
    const mixed = await runCampaign(t, {
      name: 'Shared by role',
      senderId: 'sh-sender',
      userIds: ['sh-1', 'sh-2'],
      createChannels: true,
      channelTemplate: { type: 'messaging', id: '{{user.role}}-room' },
      messageTemplate: { text: 'Hey [{{user.name}}]' },
    });
    expect((await messageRows(t, mixed.id)).map((m) => m.text)).toEqual(['Hey []', 'Hey []']);
    // An id naming the receiver gives each recipient a channel of its own: personalized.
    const own = await runCampaign(t, {
      name: 'Own',
      senderId: 'sh-sender',
      userIds: ['sh-1', 'sh-2'],
      createChannels: true,
      channelTemplate: { type: 'messaging', id: 'news-{{ receiver.id }}' },
      messageTemplate: { text: 'Hey [{{user.name}}]' },
    });
    expect((await messageRows(t, own.id)).map((m) => [m.channelCid, m.text]).sort()).toEqual([
      ['messaging:news-sh-1', 'Hey [User 1]'],
      ['messaging:news-sh-2', 'Hey [User 2]'],
    ]);
  });

  test('messages carry campaignId and the template custom and attachments', async () => {
    await seedUsers(t, 'cu', 2);
    const attachments = [{ type: 'image', image_url: 'https://example.com/a.png' }, { type: 'file', title: 'terms.pdf' }];
    const custom = { promo: 'spring', nested: { level: 2, tags: ['a', 'b'] } };
    const { id } = await runCampaign(t, {
      name: 'Custom',
      senderId: 'cu-sender',
      userIds: ['cu-1', 'cu-2'],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Deal for {{user.name}}', attachments, custom },
    });
    const messages = await messageRows(t, id);
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      expect(message).toMatchObject({ campaignId: id, userId: 'cu-sender', attachments, custom });
    }
  });
});

describe('senderMode on user campaigns', () => {
  test('default: an existing channel without the sender does not get it; a new channel does', async () => {
    await seedUsers(t, 'dm', 2);
    const existing = await createChannel(t, { type: 'room', id: 'dm-1-room', members: ['dm-1'] });
    const { id, stats } = await runCampaign(t, {
      name: 'Default mode',
      senderId: 'dm-sender',
      userIds: ['dm-1', 'dm-2'],
      createChannels: true,
      channelTemplate: { type: 'room', id: '{{user.id}}-room' },
      messageTemplate: { text: 'Hi' },
    });
    expect(stats).toMatchObject({ messagesSent: 2, channelsCreated: 1 });
    expect(await membersOf(t, existing)).toEqual({ members: ['dm-1'], memberCount: 1 });
    expect(await membersOf(t, 'room:dm-2-room')).toEqual({ members: ['dm-2', 'dm-sender'], memberCount: 2 });
    expect((await messageRows(t, id)).map((m) => [m.channelCid, m.userId])).toEqual([
      [existing, 'dm-sender'],
      ['room:dm-2-room', 'dm-sender'],
    ]);
  });

  test('INCLUDE: the sender joins existing target channels too, and member_count stays exact', async () => {
    await seedUsers(t, 'in', 3);
    await t.app.db.prisma.user.create({ data: { id: 'in-friend', name: 'Friend' } });
    const withoutSender = await createChannel(t, { type: 'room', id: 'in-1-room', members: ['in-1', 'in-friend'] });
    const withSender = await createChannel(t, { type: 'room', id: 'in-3-room', members: ['in-3', 'in-sender'] });
    const { stats } = await runCampaign(t, {
      name: 'Include mode',
      senderId: 'in-sender',
      senderMode: 'INCLUDE',
      userIds: ['in-1', 'in-2', 'in-3'],
      createChannels: true,
      channelTemplate: { type: 'room', id: '{{user.id}}-room' },
      messageTemplate: { text: 'Hi' },
    });
    expect(stats).toMatchObject({ messagesSent: 3, channelsCreated: 1 });
    expect(await membersOf(t, withoutSender)).toEqual({ members: ['in-1', 'in-friend', 'in-sender'], memberCount: 3 });
    expect(await membersOf(t, 'room:in-2-room')).toEqual({ members: ['in-2', 'in-sender'], memberCount: 2 });
    expect(await membersOf(t, withSender)).toEqual({ members: ['in-3', 'in-sender'], memberCount: 2 });
  });

  test('EXCLUDE: the sender is never added, not even when listed in channelTemplate.members; new channels get the receiver and the other template members', async () => {
    await seedUsers(t, 'ex', 2);
    await t.app.db.prisma.user.create({ data: { id: 'ex-helper', name: 'Helper' } });
    const existing = await createChannel(t, { type: 'room', id: 'ex-1-room', members: ['ex-1'] });
    const { id } = await runCampaign(t, {
      name: 'Exclude mode',
      senderId: 'ex-sender',
      senderMode: 'EXCLUDE',
      userIds: ['ex-1', 'ex-2'],
      createChannels: true,
      channelTemplate: { type: 'room', id: '{{user.id}}-room', members: ['ex-helper', 'ex-sender'] },
      messageTemplate: { text: 'Hi' },
    });
    expect(await membersOf(t, existing)).toEqual({ members: ['ex-1'], memberCount: 1 });
    expect(await membersOf(t, 'room:ex-2-room')).toEqual({ members: ['ex-2', 'ex-helper'], memberCount: 2 });
    expect((await messageRows(t, id)).map((m) => [m.channelCid, m.userId])).toEqual([
      [existing, 'ex-sender'],
      ['room:ex-2-room', 'ex-sender'],
    ]);
  });
});

describe('createChannels false', () => {
  test('users with an existing 1:1 channel are SENT; users without one are ERRORED with a readable error and get no channel', async () => {
    await seedUsers(t, 'nc', 2);
    const existing = await createChannel(t, { type: 'messaging', members: ['nc-sender', 'nc-1'] });
    expect(existing).toBe(oneToOne('messaging', 'nc-sender', 'nc-1'));
    const { id, stats } = await runCampaign(t, { name: 'No create', senderId: 'nc-sender', userIds: ['nc-1', 'nc-2'], messageTemplate: { text: 'Hi {{user.name}}' } });
    expect(stats).toMatchObject({ recipientsTotal: 2, messagesSent: 1, messagesErrored: 1, channelsCreated: 0, pending: 0 });
    const [sent, errored] = await recipientRows(t, id);
    expect(sent).toMatchObject({ userId: 'nc-1', status: 'SENT', channelCid: null, error: null, attempts: 1 });
    expect(errored).toMatchObject({ userId: 'nc-2', status: 'ERRORED', messageId: null, sentAt: null, attempts: 1 });
    expect(errored!.error).toMatch(/^No channel messaging:\S+ with nc-2, and createChannels is false$/);
    expect(await t.app.db.prisma.channel.count({ where: { cid: oneToOne('messaging', 'nc-sender', 'nc-2') } })).toBe(0);
    expect((await messageRows(t, id)).map((m) => [m.channelCid, m.text])).toEqual([[existing, 'Hi User 1']]);
  });

  test('a channel id template that renders to an existing channel is used', async () => {
    await seedUsers(t, 'nt', 2);
    const existing = await createChannel(t, { type: 'dm', id: 'nt-1-nt-sender', members: ['nt-1'] });
    const { id, stats } = await runCampaign(t, {
      name: 'No create, template id',
      senderId: 'nt-sender',
      userIds: ['nt-1', 'nt-2'],
      createChannels: false,
      channelTemplate: { type: 'dm', id: '{{user.id}}-{{sender.id}}' },
      messageTemplate: { text: 'Hi' },
    });
    expect(stats).toMatchObject({ messagesSent: 1, messagesErrored: 1, channelsCreated: 0 });
    const recipients = await recipientRows(t, id);
    expect(recipients.map((r) => [r.userId, r.status, r.channelCid])).toEqual([
      ['nt-1', 'SENT', null],
      ['nt-2', 'ERRORED', null],
    ]);
    expect(recipients[1]!.error).toBe('No channel dm:nt-2-nt-sender with nt-2, and createChannels is false');
    expect(await t.app.db.prisma.channel.count({ where: { cid: 'dm:nt-2-nt-sender' } })).toBe(0);
    expect((await messageRows(t, id)).map((m) => m.channelCid)).toEqual([existing]);
    expect(await membersOf(t, existing)).toEqual({ members: ['nt-1'], memberCount: 1 });
  });
});
