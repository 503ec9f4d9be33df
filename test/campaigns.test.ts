import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import {
  CampaignDocument,
  CampaignsDocument,
  CreateCampaignDocument,
  CreateSegmentForCampaignsDocument,
  DeleteCampaignDocument,
  UpdateCampaignDocument,
  type CampaignFieldsFragment,
  type CreateCampaignInput,
  type UpdateCampaignInput,
} from './generated/graphql.js';
import type { CampaignStatus } from '../src/generated/prisma/enums.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.db.prisma.user.createMany({
    data: ['sender', 'u1', 'u2', 'u3', 'member'].map((id) => ({ id, name: id.toUpperCase() })),
  });
  for (const [id, type] of [['seg-a', 'USER'], ['seg-b', 'USER'], ['seg-c', 'CHANNEL']] as const) {
    const { createSegment } = await t.ok(CreateSegmentForCampaignsDocument, { input: { id, type, name: id } });
    expect(createSegment.__typename).toBe('CreateSegmentPayload');
  }
});
afterAll(() => t?.close());

const base = (over: Partial<CreateCampaignInput> = {}): CreateCampaignInput => ({
  name: 'Spring sale',
  senderId: 'sender',
  messageTemplate: { text: 'Hi {{ user.name }}' },
  ...over,
});

async function create(input: CreateCampaignInput): Promise<CampaignFieldsFragment> {
  const { createCampaign } = await t.ok(CreateCampaignDocument, { input });
  if (createCampaign.__typename !== 'CreateCampaignPayload') throw new Error(JSON.stringify(createCampaign));
  return createCampaign.campaign;
}

async function update(id: string, input: UpdateCampaignInput) {
  return (await t.ok(UpdateCampaignDocument, { id, input })).updateCampaign;
}

const setStatus = (id: string, status: CampaignStatus) => t.app.db.prisma.campaign.update({ where: { id }, data: { status } });
const counts = async () => ({
  campaigns: await t.app.db.prisma.campaign.count(),
  links: await t.app.db.prisma.campaignSegment.count(),
});

describe('createCampaign', () => {
  test('saves a DRAFT with every field, its segments in order, and zero stats', async () => {
    const campaign = await create({
      id: 'full',
      name: 'Full',
      description: 'All the fields',
      senderId: 'sender',
      segmentIds: ['seg-b', 'seg-a'],
      messageTemplate: { text: 'Hello {{ user.name }} from {{sender.name}}', attachments: [{ type: 'image', url: 'https://x/y.png' }], custom: { promo: 7 } },
      channelTemplate: { type: 'messaging', id: '{{user.id}}-{{ sender.id }}', members: ['member'], custom: { topic: 'sale' } },
      createChannels: true,
      skipPush: true,
      skipWebhook: true,
      senderMode: 'INCLUDE',
    });
    expect(campaign).toMatchObject({
      id: 'full',
      name: 'Full',
      description: 'All the fields',
      status: 'DRAFT',
      failureReason: null,
      senderId: 'sender',
      sender: { id: 'sender', name: 'SENDER' },
      senderMode: 'INCLUDE',
      segments: [{ id: 'seg-b', type: 'USER' }, { id: 'seg-a', type: 'USER' }],
      segmentIds: ['seg-b', 'seg-a'],
      userIds: [],
      messageTemplate: { text: 'Hello {{ user.name }} from {{sender.name}}', attachments: [{ type: 'image', url: 'https://x/y.png' }], custom: { promo: 7 } },
      channelTemplate: { type: 'messaging', id: '{{user.id}}-{{ sender.id }}', members: ['member'], custom: { topic: 'sale' } },
      createChannels: true,
      skipPush: true,
      skipWebhook: true,
      scheduledFor: null,
      stopAt: null,
      startedAt: null,
      completedAt: null,
      stoppedAt: null,
      stats: {
        recipientsTotal: 0,
        pending: 0,
        messagesSent: 0,
        messagesErrored: 0,
        channelsCreated: 0,
        usersSent: 0,
        usersRead: 0,
        readRatio: 0,
        progress: 0,
        startedAt: null,
        completedAt: null,
      },
    });
    const links = await t.app.db.prisma.campaignSegment.findMany({ where: { campaignId: 'full' }, orderBy: { position: 'asc' } });
    expect(links.map((l) => [l.segmentId, l.position])).toEqual([['seg-b', 0], ['seg-a', 1]]);
  });

  test('defaults: a UUID id, no audience, empty attachments and custom, flags off, default sender mode', async () => {
    const campaign = await create(base());
    expect(campaign.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(campaign).toMatchObject({
      description: null,
      segments: [],
      userIds: [],
      messageTemplate: { attachments: [], custom: {} },
      channelTemplate: null,
      createChannels: false,
      skipPush: false,
      skipWebhook: false,
      senderMode: null,
    });
    expect((await t.ok(CampaignDocument, { id: campaign.id })).campaign?.id).toBe(campaign.id);
  });

  test('takes a list of users as its audience', async () => {
    const campaign = await create(base({ userIds: ['u1', 'u2'] }));
    expect(campaign.userIds).toEqual(['u1', 'u2']);
  });

  test('a client id that is taken is a CONFLICT, and nothing is written', async () => {
    await create(base({ id: 'taken' }));
    const before = await counts();
    const { createCampaign } = await t.ok(CreateCampaignDocument, { input: base({ id: 'taken', name: 'Other', segmentIds: ['seg-a'] }) });
    expect(createCampaign).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', path: ['input.id'] });
    expect(await counts()).toEqual(before);
    expect((await t.ok(CampaignDocument, { id: 'taken' })).campaign?.name).toBe('Spring sale');
  });

  test('campaign(id) is null for an unknown id', async () => {
    expect((await t.ok(CampaignDocument, { id: 'nobody' })).campaign).toBeNull();
  });
});

describe('createCampaign validation: one VALIDATION error with its path, nothing written', () => {
  const users = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const cases: [string, Partial<CreateCampaignInput>, string, string?][] = [
    ['empty name', { name: '' }, 'input.name'],
    ['name over 128', { name: 'x'.repeat(129) }, 'input.name'],
    ['description over 256', { description: 'x'.repeat(257) }, 'input.description'],
    ['bad id', { id: 'has space' }, 'input.id'],
    ['id over 128', { id: 'x'.repeat(129) }, 'input.id'],
    ['unknown sender', { senderId: 'ghost' }, 'input.senderId', 'ghost'],
    ['26 segments', { segmentIds: users(26, 's') }, 'input.segmentIds'],
    ['a segment twice', { segmentIds: ['seg-a', 'seg-a'] }, 'input.segmentIds[1]'],
    ['unknown segments', { segmentIds: ['seg-a', 'nope-1', 'nope-2'] }, 'input.segmentIds', 'nope-1, nope-2'],
    ['segments of two types', { segmentIds: ['seg-a', 'seg-c'] }, 'input.segmentIds', 'one type'],
    ['10,001 users', { userIds: users(10_001, 'x') }, 'input.userIds'],
    ['a user twice', { userIds: ['u1', 'u2', 'u1'] }, 'input.userIds[2]'],
    ['unknown users, the first 20 listed', { userIds: ['u1', ...users(25, 'gone-')] }, 'input.userIds', 'gone-19, … (25 in all)'],
    ['segments and users together', { segmentIds: ['seg-a'], userIds: ['u1'] }, 'input.userIds', 'not both'],
    ['createChannels without channelTemplate', { createChannels: true }, 'input.channelTemplate'],
    ['bad channel type', { channelTemplate: { type: 'Bad Type' } }, 'input.channelTemplate.type'],
    ['unknown channel members', { channelTemplate: { type: 'messaging', members: ['member', 'ghost-m'] } }, 'input.channelTemplate.members', 'ghost-m'],
    ['channel members twice', { channelTemplate: { type: 'messaging', members: ['member', 'member'] } }, 'input.channelTemplate.members[1]'],
    ['channel custom not an object', { channelTemplate: { type: 'messaging', custom: [1] } }, 'input.channelTemplate.custom'],
    ['bad tag in channel id', { channelTemplate: { type: 'messaging', id: '{{ user.id }}-{{ constructor.name }}' } }, 'input.channelTemplate.id', 'constructor'],
    ['channel id text outside tags not id characters', { channelTemplate: { type: 'messaging', id: 'a b-{{user.id}}' } }, 'input.channelTemplate.id'],
    ['empty text', { messageTemplate: { text: '' } }, 'input.messageTemplate.text'],
    ['text over 5,000', { messageTemplate: { text: 'x'.repeat(5001) } }, 'input.messageTemplate.text'],
    ['code in text', { messageTemplate: { text: 'Hi {{ process.exit() }}' } }, 'input.messageTemplate.text', 'process.exit'],
    ['unknown namespace in text', { messageTemplate: { text: 'Hi {{ it.user }}' } }, 'input.messageTemplate.text'],
    ['attachments not a list', { messageTemplate: { text: 'hi', attachments: { type: 'image' } } }, 'input.messageTemplate.attachments'],
    ['an attachment not an object', { messageTemplate: { text: 'hi', attachments: [{ type: 'image' }, 'x'] } }, 'input.messageTemplate.attachments[1]'],
    ['message custom not an object', { messageTemplate: { text: 'hi', custom: 'x' } }, 'input.messageTemplate.custom'],
  ];

  test.each(cases)('%s', async (_name, over, path, inMessage) => {
    const before = await counts();
    const { createCampaign } = await t.ok(CreateCampaignDocument, { input: base({ id: 'never-written', ...over }) });
    expect(createCampaign).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', path: [path] });
    if (inMessage) expect((createCampaign as { message: string }).message).toContain(inMessage);
    expect(await counts()).toEqual(before);
  });

  test('a missing required field is rejected by the schema', async () => {
    const result = await t.raw('mutation { createCampaign(input: {name: "x", messageTemplate: {text: "hi"}}) { __typename } }');
    expect(result.errors?.[0]?.message).toContain('senderId');
  });
});

describe('updateCampaign', () => {
  test('changes only the given fields and keeps the rest', async () => {
    const { id, updatedAt } = await create(base({ description: 'keep me', segmentIds: ['seg-a'], senderMode: 'EXCLUDE' }));
    const updated = await update(id, { name: 'Renamed', skipPush: true });
    if (updated.__typename !== 'UpdateCampaignPayload') throw new Error(JSON.stringify(updated));
    expect(updated.campaign).toMatchObject({
      name: 'Renamed',
      skipPush: true,
      description: 'keep me',
      segmentIds: ['seg-a'],
      senderMode: 'EXCLUDE',
      messageTemplate: { text: 'Hi {{ user.name }}' },
      status: 'DRAFT',
    });
    expect(new Date(updated.campaign.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(updatedAt).getTime());
  });

  test('explicit null clears description, channelTemplate, senderMode and the audience', async () => {
    const { id } = await create(
      base({ description: 'd', channelTemplate: { type: 'messaging' }, senderMode: 'INCLUDE', userIds: ['u1'] }),
    );
    const updated = await update(id, { description: null, channelTemplate: null, senderMode: null, userIds: null });
    expect(updated).toMatchObject({ campaign: { description: null, channelTemplate: null, senderMode: null, userIds: [] } });
  });

  test('replaces the segments, in the new order, and can switch the audience to users', async () => {
    const { id } = await create(base({ segmentIds: ['seg-a', 'seg-b'] }));
    expect(await update(id, { segmentIds: ['seg-b'] })).toMatchObject({ campaign: { segmentIds: ['seg-b'] } });
    expect(await update(id, { segmentIds: null, userIds: ['u3'] })).toMatchObject({ campaign: { segmentIds: [], userIds: ['u3'] } });
    expect(await t.app.db.prisma.campaignSegment.count({ where: { campaignId: id } })).toBe(0);
  });

  test('replaces the message template and the sender', async () => {
    const { id } = await create(base());
    const updated = await update(id, { senderId: 'u2', messageTemplate: { text: 'New {{channel.cid}}', custom: { a: 1 } } });
    expect(updated).toMatchObject({ campaign: { senderId: 'u2', sender: { id: 'u2' }, messageTemplate: { text: 'New {{channel.cid}}', attachments: [], custom: { a: 1 } } } });
  });

  test('checks rules on the campaign as it will be, pointing at the input that breaks them', async () => {
    const { id } = await create(base({ segmentIds: ['seg-a'] }));
    const both = await update(id, { userIds: ['u1'] });
    expect(both).toMatchObject({ __typename: 'ValidationError', path: ['input.userIds'] });
    const noTemplate = await update(id, { createChannels: true });
    expect(noTemplate).toMatchObject({ __typename: 'ValidationError', path: ['input.channelTemplate'] });
    const withTemplate = await update(id, { createChannels: true, channelTemplate: { type: 'messaging' } });
    expect(withTemplate).toMatchObject({ campaign: { createChannels: true } });
    const dropTemplate = await update(id, { channelTemplate: null });
    expect(dropTemplate).toMatchObject({ __typename: 'ValidationError', path: ['input.channelTemplate'] });
  });

  test('required fields cannot be cleared, and a rejected update writes nothing', async () => {
    const { id } = await create(base({ segmentIds: ['seg-a'] }));
    for (const [input, path] of [
      [{ name: null }, 'input.name'],
      [{ senderId: null }, 'input.senderId'],
      [{ messageTemplate: null }, 'input.messageTemplate'],
      [{ name: 'Changed', segmentIds: ['seg-a', 'nope'] }, 'input.segmentIds'],
      [{ name: 'Changed', messageTemplate: { text: '{{ process.env.HOME }}' } }, 'input.messageTemplate.text'],
      [{ name: 'Changed', channelTemplate: { type: 'messaging', id: '{{= it }}' } }, 'input.channelTemplate.id'],
    ] as [UpdateCampaignInput, string][]) {
      expect(await update(id, input)).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', path: [path] });
    }
    const { campaign } = await t.ok(CampaignDocument, { id });
    expect(campaign).toMatchObject({ name: 'Spring sale', segmentIds: ['seg-a'], channelTemplate: null });
  });

  test('an unknown campaign is NOT_FOUND', async () => {
    expect(await update('nobody', { name: 'x' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND', path: ['id'] });
  });
});

describe('deleteCampaign', () => {
  test('deletes a campaign with its segment links and recipients', async () => {
    const { id } = await create(base({ segmentIds: ['seg-a'] }));
    await t.app.db.prisma.recipient.create({ data: { campaignId: id, userId: 'u1' } });
    const { deleteCampaign } = await t.ok(DeleteCampaignDocument, { id });
    expect(deleteCampaign).toEqual({ __typename: 'DeleteCampaignPayload', deletedId: id });
    expect((await t.ok(CampaignDocument, { id })).campaign).toBeNull();
    expect(await t.app.db.prisma.recipient.count({ where: { campaignId: id } })).toBe(0);
    expect(await t.app.db.prisma.campaignSegment.count({ where: { campaignId: id } })).toBe(0);
  });

  test('an unknown campaign is NOT_FOUND', async () => {
    const { deleteCampaign } = await t.ok(DeleteCampaignDocument, { id: 'nobody' });
    expect(deleteCampaign).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND', path: ['id'] });
  });
});

describe('status guards (statuses the API cannot reach yet are set directly)', () => {
  test.each([
    ['DRAFT', true, true],
    ['SCHEDULED', true, true],
    ['IN_PROGRESS', false, false],
    ['COMPLETED', false, true],
    ['STOPPED', false, true],
    ['FAILED', false, true],
  ] as [CampaignStatus, boolean, boolean][])('a %s campaign: updatable %s, deletable %s', async (status, updatable, deletable) => {
    const { id } = await create(base());
    await setStatus(id, status);
    const refused = { __typename: 'InvalidStateError', code: 'INVALID_STATE', path: ['id'] };

    const updated = await update(id, { name: 'Changed' });
    expect(updated).toMatchObject(updatable ? { campaign: { name: 'Changed', status } } : refused);
    if (!updatable) expect((updated as { message: string }).message).toContain(status);

    const { deleteCampaign } = await t.ok(DeleteCampaignDocument, { id });
    expect(deleteCampaign).toMatchObject(deletable ? { deletedId: id } : refused);
    const { campaign } = await t.ok(CampaignDocument, { id });
    expect(campaign).toEqual(deletable ? null : expect.objectContaining({ status, name: 'Spring sale' }));
  });
});

describe('stats', () => {
  test('come from the counters: pending, progress and readRatio', async () => {
    const { id } = await create(base());
    await t.app.db.prisma.campaign.update({
      where: { id },
      data: { status: 'IN_PROGRESS', recipientsTotal: 10, messagesSent: 4, messagesErrored: 1, recipientsSkipped: 1, channelsCreated: 2, usersSent: 4, usersRead: 1 },
    });
    const { campaign } = await t.ok(CampaignDocument, { id });
    expect(campaign?.stats).toMatchObject({
      recipientsTotal: 10,
      pending: 4,
      messagesSent: 4,
      messagesErrored: 1,
      channelsCreated: 2,
      usersSent: 4,
      usersRead: 1,
      readRatio: 0.25,
      progress: 0.6,
    });
  });

  test('a COMPLETED campaign with no recipients is at progress 1', async () => {
    const { id } = await create(base());
    const completedAt = new Date('2026-03-01T10:00:00.000Z');
    await t.app.db.prisma.campaign.update({ where: { id }, data: { status: 'COMPLETED', completedAt } });
    const { campaign } = await t.ok(CampaignDocument, { id });
    expect(campaign?.stats).toMatchObject({ recipientsTotal: 0, pending: 0, progress: 1, readRatio: 0, completedAt: completedAt.toISOString() });
  });
});

describe('access', () => {
  test('a user token is FORBIDDEN to read or write campaigns', async () => {
    const token = await t.userToken('u1');
    const read = await t.gql(CampaignsDocument, {}, { token });
    expect(read.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const write = await t.gql(CreateCampaignDocument, { input: base({ id: 'by-user' }) }, { token });
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await t.app.db.prisma.campaign.count({ where: { id: 'by-user' } })).toBe(0);
  });

  test('no token is UNAUTHENTICATED', async () => {
    const read = await t.gql(CampaignDocument, { id: 'full' }, { token: null });
    expect(read.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
