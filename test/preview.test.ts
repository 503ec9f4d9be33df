import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { CampaignPreviewDocument, TemplatePreviewDocument, TestCampaignDocument, type TemplatePreviewInput } from './generated/graphql.js';
import { distinctChannelId } from '../src/chat/channels.service.js';

let t: TestApp;
const prisma = () => t.app.db.prisma;

beforeAll(async () => {
  t = await startTestApp();
  await prisma().user.createMany({
    data: [
      { id: 'boss', name: 'Boss', role: 'admin' },
      { id: 'ann', name: 'Ann', custom: { address: { city: 'Delft' } } },
      { id: 'bob', name: 'Bob' },
      { id: 'helper', name: 'Helper' },
    ],
  });
  await prisma().channel.create({ data: { cid: 'team:general', type: 'team', id: 'general', createdById: 'boss', memberCount: 0, custom: { topic: 'all' } } });
});
afterAll(() => t?.close());

let seq = 0;
async function campaign(fields: Record<string, unknown>): Promise<string> {
  const id = `preview-${++seq}`;
  await prisma().campaign.create({
    data: { id, name: id, senderId: 'boss', messageTemplate: { text: 'Hey {{ user.name }} from {{sender.name}} in {{ user.address.city }}' }, ...fields },
  });
  return id;
}

/** Row counts of every table a send or a channel creation writes. */
async function counts() {
  const p = prisma();
  const [channels, members, messages, recipients] = await Promise.all([p.channel.count(), p.channelMember.count(), p.message.count(), p.recipient.count()]);
  return { channels, members, messages, recipients };
}

async function previewOf(id: string, target: { userId?: string; channelCid?: string }) {
  return (await t.ok(CampaignPreviewDocument, { id, ...target })).campaignPreview;
}

async function refusedCampaign(id: string, target: { userId?: string; channelCid?: string }) {
  const response = await t.gql(CampaignPreviewDocument, { id, ...target });
  expect(response.data?.campaignPreview ?? null).toBeNull();
  return response.errors?.[0]?.extensions;
}

async function refusedTemplate(input: TemplatePreviewInput) {
  const response = await t.gql(TemplatePreviewDocument, { input });
  expect(response.data?.templatePreview ?? null).toBeNull();
  return response.errors?.[0]?.extensions;
}

describe('campaignPreview', () => {
  test('renders the 1:1 message a new channel would carry, personalized, and creates nothing', async () => {
    const id = await campaign({ createChannels: true, channelTemplate: { type: 'messaging' } });
    const before = await counts();
    const preview = await previewOf(id, { userId: 'ann' });
    expect(preview).toEqual({ text: 'Hey Ann from Boss in Delft', channelCid: `messaging:${distinctChannelId(['boss', 'ann'])}`, personalized: true });
    expect(await counts()).toEqual(before);
  });

  test('matches what a test send really posts', async () => {
    const id = await campaign({ createChannels: true, channelTemplate: { type: 'team', id: 'news-{{user.id}}', members: ['helper'] } });
    const preview = await previewOf(id, { userId: 'bob' });
    const { testCampaign } = await t.ok(TestCampaignDocument, { id, userIds: ['bob'] });
    if (testCampaign.__typename !== 'TestCampaignPayload') throw new Error(JSON.stringify(testCampaign));
    const message = await prisma().message.findUniqueOrThrow({ where: { id: testCampaign.results[0]!.messageId! } });
    expect(preview).toEqual({ text: message.text, channelCid: message.channelCid, personalized: false });
    expect(preview.text).toBe('Hey  from Boss in '); // three members: user.* renders empty
  });

  test('a channel campaign renders for a channel cid, user.* empty, channel.* filled, and the INCLUDE join of the sender is not kept', async () => {
    const segment = await prisma().segment.create({ data: { id: 'channels', type: 'CHANNEL', name: 'c', filter: {} } });
    const id = await campaign({ senderMode: 'INCLUDE', messageTemplate: { text: '[{{user.name}}] {{channel.topic}} by {{sender.id}}' } });
    await prisma().campaignSegment.create({ data: { campaignId: id, segmentId: segment.id, position: 0 } });
    const before = await counts();
    expect(await previewOf(id, { channelCid: 'team:general' })).toEqual({ text: '[] all by boss', channelCid: 'team:general', personalized: false });
    expect(await counts()).toEqual(before);
    expect(await refusedCampaign(id, { userId: 'ann' })).toMatchObject({ code: 'VALIDATION', path: 'userId' });
  });

  test('refusals: unknown campaign, neither or both targets, unknown user, the sender, a channel delivery would not find', async () => {
    const id = await campaign({});
    expect(await refusedCampaign('nope', { userId: 'ann' })).toMatchObject({ code: 'NOT_FOUND', path: 'id' });
    expect(await refusedCampaign(id, {})).toMatchObject({ code: 'VALIDATION', path: 'userId, channelCid' });
    expect(await refusedCampaign(id, { userId: 'ann', channelCid: 'team:general' })).toMatchObject({ code: 'VALIDATION', path: 'userId, channelCid' });
    expect(await refusedCampaign(id, { userId: 'ghost' })).toMatchObject({ code: 'VALIDATION', path: 'userId' });
    expect(await refusedCampaign(id, { userId: 'boss' })).toMatchObject({ code: 'VALIDATION', path: 'userId' });
    // createChannels false and no 1:1 channel yet: delivery would error this recipient.
    expect(await refusedCampaign(id, { userId: 'ann' })).toMatchObject({ code: 'VALIDATION', path: 'userId' });
  });
});

describe('templatePreview', () => {
  const draft = (fields: Partial<TemplatePreviewInput>): TemplatePreviewInput => ({
    text: 'Hi {{user.name}} ({{user.address.city}})',
    senderId: 'boss',
    userId: 'ann',
    createChannels: true,
    channelTemplate: { type: 'messaging' },
    ...fields,
  });

  test('renders an unsaved template as delivery would, and writes nothing', async () => {
    const before = await counts();
    const { templatePreview } = await t.ok(TemplatePreviewDocument, { input: draft({}) });
    expect(templatePreview).toEqual({ text: 'Hi Ann (Delft)', channelCid: `messaging:${distinctChannelId(['boss', 'ann'])}`, personalized: true });
    const shared = await t.ok(TemplatePreviewDocument, { input: draft({ channelTemplate: { type: 'team', id: 'lobby' } }) });
    expect(shared.templatePreview).toEqual({ text: 'Hi  ()', channelCid: 'team:lobby', personalized: false });
    expect(await counts()).toEqual(before);
  });

  test('template errors come back with their path', async () => {
    expect(await refusedTemplate(draft({ text: 'Hi {{user.name' }))).toMatchObject({ code: 'VALIDATION', path: 'input.text' });
    expect(await refusedTemplate(draft({ text: '' }))).toMatchObject({ code: 'VALIDATION', path: 'input.text' });
    expect(await refusedTemplate(draft({ channelTemplate: { type: 'team', id: '{{ user.id' } }))).toMatchObject({
      code: 'VALIDATION',
      path: 'input.channelTemplate.id',
    });
    expect(await refusedTemplate(draft({ channelTemplate: null }))).toMatchObject({ code: 'VALIDATION', path: 'input.channelTemplate' });
    expect(await refusedTemplate(draft({ senderId: 'ghost' }))).toMatchObject({ code: 'VALIDATION', path: 'input.senderId' });
    expect(await refusedTemplate(draft({ userId: null }))).toMatchObject({ code: 'VALIDATION', path: 'input.userId, input.channelCid' });
    expect(await refusedTemplate(draft({ userId: null, channelCid: 'team:missing' }))).toMatchObject({ code: 'VALIDATION', path: 'input.channelCid' });
  });
});
