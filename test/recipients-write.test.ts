import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CampaignStatus, RecipientStatus } from '../src/generated/prisma/enums.js';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { insertRecipients } from '../src/recipients/service.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { DeleteRecipientsDocument } from './generated/graphql.js';

let t: TestApp;
let prisma: PrismaClient;

beforeAll(async () => {
  t = await startTestApp();
  prisma = t.app.db.prisma;
  await prisma.user.createMany({ data: Array.from({ length: 8 }, (_, i) => ({ id: `w-${i}` })) });
  await prisma.channel.createMany({ data: ['w-ch-1', 'w-ch-2'].map((id) => ({ cid: `messaging:${id}`, type: 'messaging', id })) });
});
afterAll(() => t?.close());

async function createCampaign(id: string, status: CampaignStatus): Promise<void> {
  await prisma.campaign.create({ data: { id, name: id, status, messageTemplate: { text: 'Hi' } } });
}

const COUNTERS = { recipientsTotal: true, messagesSent: true, usersSent: true, messagesErrored: true, recipientsSkipped: true, usersRead: true } as const;

/** The counters as the delivery engine keeps them, recomputed from the campaign's rows. */
async function countersFromRows(campaignId: string) {
  const rows = await prisma.recipient.findMany({ where: { campaignId } });
  const sent = rows.filter((r) => r.status === 'SENT');
  return {
    recipientsTotal: rows.length,
    messagesSent: sent.length,
    usersSent: sent.length,
    messagesErrored: rows.filter((r) => r.status === 'ERRORED').length,
    recipientsSkipped: rows.filter((r) => r.status === 'SKIPPED').length,
    usersRead: rows.filter((r) => r.readAt !== null).length,
  };
}

/** Sets recipients' outcomes (by user id or cid), then the campaign's counters to match, as delivery would. */
async function deliver(campaignId: string, outcomes: Record<string, { status: RecipientStatus; read?: boolean }>): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const r of await prisma.recipient.findMany({ where: { campaignId } })) {
    const key = (r.userId ?? r.channelCid)!;
    ids[key] = r.id;
    const outcome = outcomes[key];
    if (!outcome) continue;
    await prisma.recipient.update({
      where: { id: r.id },
      data: { status: outcome.status, sentAt: outcome.status === 'SENT' ? new Date() : null, readAt: outcome.read ? new Date() : null },
    });
  }
  const { recipientsTotal, ...delivered } = await countersFromRows(campaignId);
  await prisma.campaign.update({ where: { id: campaignId }, data: delivered });
  expect((await prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).recipientsTotal).toBe(recipientsTotal);
  return ids;
}

const counters = (campaignId: string) => prisma.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: COUNTERS });

describe('insertRecipients', () => {
  test('inserts each user and channel once, counts only new rows, and skips unknown ids', async () => {
    await createCampaign('ins', 'DRAFT');
    expect(await insertRecipients(prisma, 'ins', { userIds: ['w-0', 'w-1', 'w-1', 'ghost'] })).toBe(2);
    expect(await insertRecipients(prisma, 'ins', { userIds: ['w-0', 'w-1', 'w-2'] })).toBe(1);
    expect(await insertRecipients(prisma, 'ins', { userIds: ['w-0', 'w-1', 'w-2'] })).toBe(0);
    expect(await insertRecipients(prisma, 'ins', { channelCids: ['messaging:w-ch-1', 'messaging:nope'] })).toBe(1);
    expect(await insertRecipients(prisma, 'ins', {})).toBe(0);
    expect((await counters('ins')).recipientsTotal).toBe(4);
    expect(await prisma.recipient.count({ where: { campaignId: 'ins' } })).toBe(4);
    const pending = await prisma.recipient.findMany({ where: { campaignId: 'ins' } });
    expect(pending.every((r) => r.status === 'PENDING' && r.attempts === 0)).toBe(true);
  });

  test('the same user may be a recipient of two campaigns', async () => {
    await createCampaign('ins-2', 'DRAFT');
    expect(await insertRecipients(prisma, 'ins-2', { userIds: ['w-0'] })).toBe(1);
    expect(await prisma.recipient.count({ where: { userId: 'w-0', campaignId: { in: ['ins', 'ins-2'] } } })).toBe(2);
  });
});

describe('deleteRecipients', () => {
  test('refuses with INVALID_STATE while a listed recipient’s campaign is IN_PROGRESS, deleting nothing', async () => {
    await createCampaign('busy', 'IN_PROGRESS');
    await createCampaign('finished', 'COMPLETED');
    await insertRecipients(prisma, 'busy', { userIds: ['w-3'] });
    await insertRecipients(prisma, 'finished', { userIds: ['w-3'] });
    const ids = (await prisma.recipient.findMany({ where: { userId: 'w-3' }, orderBy: { campaignId: 'asc' } })).map((r) => r.id);
    const { deleteRecipients } = await t.ok(DeleteRecipientsDocument, { ids });
    expect(deleteRecipients).toMatchObject({ __typename: 'InvalidStateError', code: 'INVALID_STATE', path: ['ids'] });
    expect((deleteRecipients as { message: string }).message).toContain('busy');
    expect(await prisma.recipient.count({ where: { userId: 'w-3' } })).toBe(2);
    expect((await counters('finished')).recipientsTotal).toBe(1);
  });

  test('deletes recipients of a COMPLETED campaign and takes them out of every counter', async () => {
    await createCampaign('done', 'COMPLETED');
    await insertRecipients(prisma, 'done', { userIds: ['w-0', 'w-1', 'w-2', 'w-3', 'w-4', 'w-5'] });
    const ids = await deliver('done', {
      'w-0': { status: 'SENT', read: true },
      'w-1': { status: 'SENT' },
      'w-2': { status: 'ERRORED' },
      'w-3': { status: 'SKIPPED' },
      'w-4': { status: 'SENT', read: true },
    });
    expect(await counters('done')).toEqual({ recipientsTotal: 6, messagesSent: 3, usersSent: 3, messagesErrored: 1, recipientsSkipped: 1, usersRead: 2 });

    const { deleteRecipients } = await t.ok(DeleteRecipientsDocument, { ids: [ids['w-2']!, 'no-such-id', ids['w-0']!, ids['w-5']!] });
    expect(deleteRecipients).toEqual({ __typename: 'DeleteRecipientsPayload', deletedIds: [ids['w-2'], ids['w-0'], ids['w-5']], deletedCount: 3 });
    expect(await counters('done')).toEqual({ recipientsTotal: 3, messagesSent: 2, usersSent: 2, messagesErrored: 0, recipientsSkipped: 1, usersRead: 1 });
    expect(await counters('done')).toEqual(await countersFromRows('done'));
  });

  test('deletes PENDING recipients of a DRAFT campaign and of a STOPPED one, lowering recipientsTotal', async () => {
    await createCampaign('draft', 'DRAFT');
    await createCampaign('stopped', 'STOPPED');
    await insertRecipients(prisma, 'draft', { userIds: ['w-6', 'w-7'] });
    await insertRecipients(prisma, 'stopped', { userIds: ['w-6', 'w-7'] });
    const stoppedIds = await deliver('stopped', { 'w-6': { status: 'SENT' } });
    const draft = await prisma.recipient.findFirstOrThrow({ where: { campaignId: 'draft', userId: 'w-6' } });
    const { deleteRecipients } = await t.ok(DeleteRecipientsDocument, { ids: [draft.id, stoppedIds['w-6']!, stoppedIds['w-7']!] });
    expect(deleteRecipients).toMatchObject({ deletedCount: 3 });
    expect(await counters('draft')).toEqual({ recipientsTotal: 1, messagesSent: 0, usersSent: 0, messagesErrored: 0, recipientsSkipped: 0, usersRead: 0 });
    expect(await counters('stopped')).toEqual(await countersFromRows('stopped'));
    expect((await counters('stopped')).recipientsTotal).toBe(0);
  });

  test('a SENT channel recipient counts in messagesSent and usersSent (which counts SENT recipients)', async () => {
    await createCampaign('chan', 'COMPLETED');
    await insertRecipients(prisma, 'chan', { channelCids: ['messaging:w-ch-1', 'messaging:w-ch-2'] });
    const ids = await deliver('chan', { 'messaging:w-ch-1': { status: 'SENT', read: true }, 'messaging:w-ch-2': { status: 'SENT' } });
    await t.ok(DeleteRecipientsDocument, { ids: [ids['messaging:w-ch-1']!] });
    expect(await counters('chan')).toEqual({ recipientsTotal: 1, messagesSent: 1, usersSent: 1, messagesErrored: 0, recipientsSkipped: 0, usersRead: 0 });
  });

  test('an empty list, more than 1,000 ids or only unknown ids', async () => {
    const empty = await t.ok(DeleteRecipientsDocument, { ids: [] });
    expect(empty.deleteRecipients).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', path: ['ids'] });
    const tooMany = await t.ok(DeleteRecipientsDocument, { ids: Array.from({ length: 1001 }, (_, i) => `x-${i}`) });
    expect(tooMany.deleteRecipients).toMatchObject({ __typename: 'ValidationError', path: ['ids'] });
    const unknown = await t.ok(DeleteRecipientsDocument, { ids: ['nope-1', 'nope-2'] });
    expect(unknown.deleteRecipients).toEqual({ __typename: 'DeleteRecipientsPayload', deletedIds: [], deletedCount: 0 });
  });
});
