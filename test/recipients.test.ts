import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { insertRecipients } from '../src/recipients/service.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import {
  CampaignRecipientsDocument,
  DeleteRecipientsDocument,
  RecipientDocument,
  RecipientsDocument,
  RecipientsWithRelationsDocument,
  type RecipientFilter,
  type RecipientsQuery,
  type RecipientSort,
} from './generated/graphql.js';

let t: TestApp;
let prisma: PrismaClient;

/** Minute `n` of 2026-01-01, UTC. */
const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, n));
const iso = (n: number) => at(n).toISOString();

/** Fixture recipients by label: a–e are users of campaign f1, x and y channels of f2. */
const label = new Map<string, string>(); // recipient id → label
const idOf: Record<string, string> = {}; // label → recipient id

beforeAll(async () => {
  t = await startTestApp({ recordQueries: true });
  prisma = t.app.db.prisma;
  await prisma.user.createMany({ data: ['a', 'b', 'c', 'd', 'e'].map((l) => ({ id: `f-${l}`, name: `User ${l}` })) });
  await prisma.channel.createMany({ data: ['fa', 'fx', 'fy'].map((id) => ({ cid: `messaging:${id}`, type: 'messaging', id })) });
  await prisma.message.create({ data: { id: 'msg-fa', channelCid: 'messaging:fa', userId: 'f-a', text: 'Hi a', campaignId: 'f1' } });
  await prisma.campaign.create({ data: { id: 'f1', name: 'Users campaign', status: 'COMPLETED', messageTemplate: { text: 'Hi' } } });
  await prisma.campaign.create({ data: { id: 'f2', name: 'Channels campaign', status: 'STOPPED', messageTemplate: { text: 'Hi' } } });
  await insertRecipients(prisma, 'f1', { userIds: ['f-a', 'f-b', 'f-c', 'f-d', 'f-e'] });
  await insertRecipients(prisma, 'f2', { channelCids: ['messaging:fx', 'messaging:fy'] });
  for (const r of await prisma.recipient.findMany()) {
    const l = r.userId ? r.userId.slice(2) : r.channelCid!.slice('messaging:f'.length);
    label.set(r.id, l);
    idOf[l] = r.id;
  }
  const set = (l: string, data: Parameters<PrismaClient['recipient']['update']>[0]['data']) => prisma.recipient.update({ where: { id: idOf[l]! }, data });
  await set('a', { status: 'SENT', sentAt: at(10), readAt: at(20), channelCid: 'messaging:fa', messageId: 'msg-fa', attempts: 1, createdAt: at(1) });
  await set('b', { status: 'SENT', sentAt: at(11), attempts: 1, createdAt: at(2) });
  await set('c', { status: 'ERRORED', error: 'Channel is frozen', attempts: 3, createdAt: at(3) });
  await set('d', { status: 'SKIPPED', error: 'User deactivated', createdAt: at(4) });
  await set('e', { createdAt: at(5) });
  await set('x', { status: 'SENT', sentAt: at(12), readAt: at(21), createdAt: at(6) });
  await set('y', { createdAt: at(7) });
});
afterAll(() => t?.close());

/** Labels of the fixture recipients matching `filter`, in list order. */
async function labels(filter: RecipientFilter | null, sort?: RecipientSort[]): Promise<string> {
  const scoped: RecipientFilter = { campaignId: { in: ['f1', 'f2'] }, ...(filter ? { and: [filter] } : {}) };
  const { recipients } = await t.ok(RecipientsDocument, { filter: scoped, sort });
  expect(recipients.totalCount).toBe(recipients.edges.length);
  return recipients.edges.map((e) => label.get(e.node.id)).join('');
}

describe('recipients filter', () => {
  test.each([
    [{ campaignId: { eq: 'f1' } }, 'abcde'],
    [{ campaignId: { ne: 'f1' } }, 'xy'],
    [{ campaignId: { in: ['f2', 'nope'] } }, 'xy'],
    [{ campaignId: { nin: ['f1'] } }, 'xy'],
    [{ campaignId: { exists: true } }, 'abcdexy'],
    [{ campaignId: { exists: false } }, ''],
    [{ status: { eq: 'SENT' } }, 'abx'],
    [{ status: { ne: 'PENDING' } }, 'abcdx'],
    [{ status: { in: ['ERRORED', 'SKIPPED'] } }, 'cd'],
    [{ status: { nin: ['SENT', 'PENDING'] } }, 'cd'],
    [{ userId: { eq: 'f-a' } }, 'a'],
    [{ userId: { ne: 'f-a' } }, 'bcdexy'],
    [{ userId: { in: ['f-a', 'f-c', 'ghost'] } }, 'ac'],
    [{ userId: { nin: ['f-a', 'f-b'] } }, 'cdexy'],
    [{ userId: { exists: true } }, 'abcde'],
    [{ userId: { exists: false } }, 'xy'],
    [{ channelCid: { eq: 'messaging:fx' } }, 'x'],
    [{ channelCid: { ne: 'messaging:fx' } }, 'abcdey'],
    [{ channelCid: { in: ['messaging:fa', 'messaging:fy'] } }, 'ay'],
    [{ channelCid: { nin: ['messaging:fx'] } }, 'abcdey'],
    [{ channelCid: { exists: true } }, 'axy'],
    [{ channelCid: { exists: false } }, 'bcde'],
    [{ sentAt: { eq: iso(10) } }, 'a'],
    [{ sentAt: { ne: iso(10) } }, 'bcdexy'],
    [{ sentAt: { in: [iso(10), iso(12)] } }, 'ax'],
    [{ sentAt: { nin: [iso(10)] } }, 'bcdexy'],
    [{ sentAt: { gt: iso(10) } }, 'bx'],
    [{ sentAt: { gte: iso(11) } }, 'bx'],
    [{ sentAt: { lt: iso(11) } }, 'a'],
    [{ sentAt: { lte: iso(11) } }, 'ab'],
    [{ sentAt: { exists: true } }, 'abx'],
    [{ sentAt: { exists: false } }, 'cdey'],
    [{ readAt: { eq: iso(20) } }, 'a'],
    [{ readAt: { ne: iso(20) } }, 'bcdexy'],
    [{ readAt: { in: [iso(21)] } }, 'x'],
    [{ readAt: { nin: [iso(20), iso(21)] } }, 'bcdey'],
    [{ readAt: { gt: iso(20) } }, 'x'],
    [{ readAt: { gte: iso(20) } }, 'ax'],
    [{ readAt: { lt: iso(21) } }, 'a'],
    [{ readAt: { lte: iso(21) } }, 'ax'],
    [{ readAt: { exists: true } }, 'ax'],
    [{ readAt: { exists: false } }, 'bcdey'],
    [{ createdAt: { eq: iso(3) } }, 'c'],
    [{ createdAt: { gte: iso(6) } }, 'xy'],
    [{ createdAt: { gt: iso(6), lte: iso(7) } }, 'y'],
    [{ createdAt: { lt: iso(2) } }, 'a'],
    [{ createdAt: { in: [iso(1), iso(7)], nin: [iso(7)] } }, 'a'],
    [{ createdAt: { ne: iso(1) } }, 'bcdexy'],
    [{ error: { eq: 'Channel is frozen' } }, 'c'],
    [{ error: { autocomplete: 'user' } }, 'd'],
    [{ error: { exists: true } }, 'cd'],
    [{ error: { ne: 'User deactivated' } }, 'abcexy'],
    [{ error: { gt: 'D' } }, 'd'],
    [{ status: { eq: 'SENT' }, readAt: { exists: false } }, 'b'],
    [{ or: [{ status: { eq: 'ERRORED' } }, { userId: { eq: 'f-e' } }] }, 'ce'],
    [{ nor: [{ status: { eq: 'PENDING' } }, { campaignId: { eq: 'f2' } }] }, 'abcd'],
    [{ and: [{ status: { eq: 'SENT' } }, { or: [{ readAt: { exists: false } }, { channelCid: { eq: 'messaging:fx' } }] }] }, 'bx'],
  ] as [RecipientFilter, string][])('%j → %s', async (filter, expected) => {
    expect(await labels(filter)).toBe(expected);
  });

  test('a bad filter or page size is a top-level VALIDATION error naming the argument', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ filter: { or: [] } }, 'filter.or'],
      [{ filter: { userId: { in: Array.from({ length: 1001 }, (_, i) => `u${i}`) } } }, 'filter.userId.in'],
      [{ first: 1001 }, 'first'],
      [{ last: 1001 }, 'last'],
      [{ after: 'not-a-cursor' }, 'after'],
      [{ first: 1, last: 1 }, 'last'],
    ];
    for (const [variables, path] of cases) {
      const result = await t.gql(RecipientsDocument, variables);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path });
    }
  });
});

describe('recipients sort', () => {
  test.each([
    [[], 'abcdexy'],
    [[{ field: 'CREATED_AT', direction: 'ASC' }], 'abcdexy'],
    [[{ field: 'CREATED_AT', direction: 'DESC' }], 'yxedcba'],
    // Not yet sent (null) sorts last ascending and first descending.
    [[{ field: 'SENT_AT' }, { field: 'CREATED_AT' }], 'abxcdey'],
    [[{ field: 'SENT_AT', direction: 'DESC' }, { field: 'CREATED_AT' }], 'cdeyxba'],
    [[{ field: 'READ_AT' }, { field: 'CREATED_AT' }], 'axbcdey'],
    [[{ field: 'READ_AT', direction: 'DESC' }, { field: 'CREATED_AT', direction: 'DESC' }], 'yedcbxa'],
    // Status sorts in lifecycle order: PENDING, SENT, ERRORED, SKIPPED.
    [[{ field: 'STATUS' }, { field: 'CREATED_AT' }], 'eyabxcd'],
    [[{ field: 'STATUS', direction: 'DESC' }, { field: 'CREATED_AT' }], 'dcabxey'],
  ] as [RecipientSort[], string][])('%j → %s', async (sort, expected) => {
    expect(await labels(null, sort)).toBe(expected);
  });
});

describe('recipients paging', () => {
  const filter: RecipientFilter = { campaignId: { in: ['f1', 'f2'] } };
  const sort: RecipientSort[] = [{ field: 'SENT_AT', direction: 'DESC' }, { field: 'CREATED_AT' }];

  test('pages forward and back across pages on a sort key with missing values', async () => {
    const forward: string[] = [];
    const pageInfos: { hasNextPage: boolean; hasPreviousPage: boolean }[] = [];
    let after: string | null | undefined = null;
    do {
      const { recipients }: RecipientsQuery = await t.ok(RecipientsDocument, { filter, sort, first: 3, after });
      forward.push(...recipients.edges.map((e) => label.get(e.node.id)!));
      pageInfos.push({ hasNextPage: recipients.pageInfo.hasNextPage, hasPreviousPage: recipients.pageInfo.hasPreviousPage });
      expect(recipients.totalCount).toBe(7);
      after = recipients.pageInfo.hasNextPage ? recipients.pageInfo.endCursor : undefined;
    } while (after);
    expect(forward.join('')).toBe('cdeyxba');
    expect(pageInfos).toEqual([
      { hasNextPage: true, hasPreviousPage: false },
      { hasNextPage: true, hasPreviousPage: true },
      { hasNextPage: false, hasPreviousPage: true },
    ]);

    const backward: string[] = [];
    let before: string | null | undefined = null;
    let pages = 0;
    do {
      const { recipients }: RecipientsQuery = await t.ok(RecipientsDocument, { filter, sort, last: 3, before });
      backward.unshift(...recipients.edges.map((e) => label.get(e.node.id)!));
      expect(recipients.pageInfo.hasNextPage).toBe(pages > 0);
      pages += 1;
      before = recipients.pageInfo.hasPreviousPage ? recipients.pageInfo.startCursor : undefined;
    } while (before);
    expect(backward.join('')).toBe('cdeyxba');
    expect(pages).toBe(3);
  });

  test('first: 0 returns an empty page with the total (all 7 still follow it)', async () => {
    const { recipients } = await t.ok(RecipientsDocument, { filter, first: 0 });
    expect(recipients).toMatchObject({ totalCount: 7, edges: [], pageInfo: { hasNextPage: true, startCursor: null } });
  });
});

describe('Campaign.recipients and recipient(id)', () => {
  test('Campaign.recipients lists only that campaign’s recipients, filtered, sorted and paged', async () => {
    const sent = await t.ok(CampaignRecipientsDocument, { id: 'f1', filter: { status: { eq: 'SENT' } }, sort: [{ field: 'SENT_AT', direction: 'DESC' }] });
    expect(sent.campaign?.recipients.edges.map((e) => label.get(e.node.id))).toEqual(['b', 'a']);
    expect(sent.campaign?.recipients.totalCount).toBe(2);
    // A filter on another campaign cannot widen the list.
    const other = await t.ok(CampaignRecipientsDocument, { id: 'f1', filter: { campaignId: { eq: 'f2' } } });
    expect(other.campaign?.recipients.totalCount).toBe(0);
    const last = await t.ok(CampaignRecipientsDocument, { id: 'f2', last: 1 });
    expect(last.campaign?.recipients.edges.map((e) => label.get(e.node.id))).toEqual(['y']);
    expect(last.campaign?.recipients.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const earlier = await t.ok(CampaignRecipientsDocument, { id: 'f2', last: 1, before: last.campaign?.recipients.pageInfo.startCursor });
    expect(earlier.campaign?.recipients.edges.map((e) => label.get(e.node.id))).toEqual(['x']);
  });

  test('Campaign.recipients totalCount comes from the counters (no filter; one status once materialized), other filters count rows', async () => {
    await prisma.campaign.create({
      data: { id: 'f3', name: 'Counted', status: 'COMPLETED', messageTemplate: { text: 'Hi' }, materializedAt: new Date() },
    });
    // insertRecipients counts them into recipientsTotal; the statuses below are set with their counters.
    await insertRecipients(prisma, 'f3', { userIds: ['f-a', 'f-b', 'f-c', 'f-d', 'f-e'] });
    await prisma.campaign.update({ where: { id: 'f3' }, data: { messagesSent: 2, messagesErrored: 1, recipientsSkipped: 1 } });
    const rows = await prisma.recipient.findMany({ where: { campaignId: 'f3' }, orderBy: { userId: 'asc' } });
    const statuses = ['SENT', 'SENT', 'ERRORED', 'SKIPPED', 'PENDING'] as const;
    for (const [i, row] of rows.entries()) await prisma.recipient.update({ where: { id: row.id }, data: { status: statuses[i] } });
    const expected = { none: 5, SENT: 2, ERRORED: 1, SKIPPED: 1, PENDING: 1 };
    for (const [key, count] of Object.entries(expected)) {
      const filter = key === 'none' ? null : { status: { eq: key as (typeof statuses)[number] } };
      const { result, queries } = await t.queriesDuring(() => t.ok(CampaignRecipientsDocument, { id: 'f3', filter, first: 1 }));
      expect(result.campaign?.recipients.totalCount, key).toBe(count);
      expect(await prisma.recipient.count({ where: { campaignId: 'f3', ...(filter ? { status: filter.status.eq } : {}) } })).toBe(count);
      expect(queries.filter((q) => /count\(/i.test(q) && /recipients/.test(q)), key).toEqual([]);
    }
    // Any other filter counts the rows.
    const { result, queries } = await t.queriesDuring(() => t.ok(CampaignRecipientsDocument, { id: 'f3', filter: { userId: { in: ['f-a', 'f-c'] } } }));
    expect(result.campaign?.recipients.totalCount).toBe(2);
    expect(queries.some((q) => /count\(/i.test(q))).toBe(true);
    // While the audience is still being written, only the total comes from the counter.
    await prisma.campaign.update({ where: { id: 'f3' }, data: { materializedAt: null, status: 'IN_PROGRESS' } });
    const total = await t.queriesDuring(() => t.ok(CampaignRecipientsDocument, { id: 'f3', first: 1 }));
    expect(total.result.campaign?.recipients.totalCount).toBe(5);
    expect(total.queries.filter((q) => /count\(/i.test(q) && /recipients/.test(q))).toEqual([]);
    const sent = await t.queriesDuring(() => t.ok(CampaignRecipientsDocument, { id: 'f3', filter: { status: { eq: 'SENT' } }, first: 1 }));
    expect(sent.result.campaign?.recipients.totalCount).toBe(2);
    expect(sent.queries.some((q) => /count\(/i.test(q))).toBe(true);
    await prisma.campaign.delete({ where: { id: 'f3' } });
  });

  test('recipient(id) returns every field and its relations; an unknown id is null', async () => {
    const { recipient } = await t.ok(RecipientDocument, { id: idOf.a! });
    expect(recipient).toMatchObject({
      id: idOf.a,
      campaignId: 'f1',
      userId: 'f-a',
      channelCid: 'messaging:fa',
      status: 'SENT',
      messageId: 'msg-fa',
      error: null,
      attempts: 1,
      sentAt: iso(10),
      readAt: iso(20),
      createdAt: iso(1),
      campaign: { id: 'f1', name: 'Users campaign' },
      user: { id: 'f-a', name: 'User a' },
      channel: { cid: 'messaging:fa' },
      message: { id: 'msg-fa', text: 'Hi a' },
    });
    const channelRecipient = await t.ok(RecipientDocument, { id: idOf.y! });
    expect(channelRecipient.recipient).toMatchObject({ userId: null, user: null, channel: { cid: 'messaging:fy' }, status: 'PENDING', message: null });
    expect((await t.ok(RecipientDocument, { id: 'no-such-recipient' })).recipient).toBeNull();
  });
});

describe('recipients with relations', () => {
  beforeAll(async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
    await prisma.user.createMany({ data: ids.map((id) => ({ id, name: id })) });
    await prisma.channel.createMany({ data: ids.map((id) => ({ cid: `messaging:${id}`, type: 'messaging', id })) });
    await prisma.message.createMany({ data: ids.map((id) => ({ id: `msg-${id}`, channelCid: `messaging:${id}`, userId: id, text: `Hi ${id}`, campaignId: 'big' })) });
    await prisma.campaign.create({ data: { id: 'big', name: 'Big', status: 'COMPLETED', messageTemplate: { text: 'Hi' } } });
    await insertRecipients(prisma, 'big', { userIds: ids });
    await prisma.$executeRaw`UPDATE recipients SET status = 'SENT', channel_cid = 'messaging:' || user_id, message_id = 'msg-' || user_id WHERE campaign_id = 'big'`;
  });

  async function countQueries(first: number): Promise<number> {
    const { result, queries } = await t.queriesDuring(() => t.ok(RecipientsWithRelationsDocument, { filter: { campaignId: { eq: 'big' } }, first }));
    const { recipients } = result;
    expect(recipients.edges).toHaveLength(first);
    for (const { node } of recipients.edges) {
      expect(node).toMatchObject({ campaign: { id: 'big' }, user: { id: node.user!.id }, channel: { cid: `messaging:${node.user!.id}` }, message: { id: `msg-${node.user!.id}` } });
      const userId = node.user!.id;
      expect(userId).toMatch(/^big-\d{2}$/);
      expect(node).toMatchObject({
        status: 'SENT',
        campaign: { id: 'big', name: 'Big' },
        user: { id: userId, name: userId },
        channel: { cid: `messaging:${userId}` },
        message: { id: `msg-${userId}`, text: `Hi ${userId}` },
      });
    }
    return queries.length;
  }

  test('a page of 50 with campaign, user, channel and message costs as many queries as a page of 5', async () => {
    const small = await countQueries(5);
    const large = await countQueries(50);
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(5);
    expect(large).toBeGreaterThanOrEqual(2); // the page and its relations were recorded at all
  });

  test('totalCount and paging over a 60-recipient campaign', async () => {
    const all = await t.ok(RecipientsDocument, { filter: { campaignId: { eq: 'big' } }, first: 1000 });
    expect(all.recipients.totalCount).toBe(60);
    const order = all.recipients.edges.map((e) => e.node.id);
    const page2 = await t.ok(RecipientsDocument, { filter: { campaignId: { eq: 'big' } }, first: 25, after: all.recipients.edges[24]!.cursor });
    expect(page2.recipients.edges.map((e) => e.node.id)).toEqual(order.slice(25, 50));
    const tail = await t.ok(RecipientsDocument, { filter: { campaignId: { eq: 'big' } }, last: 25 });
    expect(tail.recipients.edges.map((e) => e.node.id)).toEqual(order.slice(35));
  });
});

describe('access', () => {
  test('a user token is FORBIDDEN and no token is UNAUTHENTICATED', async () => {
    const token = await t.userToken('f-a');
    const list = await t.gql(RecipientsDocument, {}, { token });
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const one = await t.gql(RecipientDocument, { id: idOf.a! }, { token });
    expect(one.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const del = await t.gql(DeleteRecipientsDocument, { ids: [idOf.a!] }, { token });
    expect(del.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await t.gql(RecipientsDocument, {}, { token: null });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await prisma.recipient.count({ where: { id: idOf.a! } })).toBe(1);
  });
});

describe('recipient ids', () => {
  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const millisOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

  test('are version-7 UUIDs: their first 48 bits are the creation time, so they sort in creation order', async () => {
    for (const id of label.keys()) expect(id).toMatch(UUID_V7);
    const next = async () => (await prisma.$queryRaw<{ id: string }[]>`SELECT beacon_uuid_v7() AS id`)[0]!.id;
    const before = Date.now();
    const first = await next();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await next();
    expect(first).toMatch(UUID_V7);
    expect(first < second).toBe(true);
    // The database clock is this machine's clock.
    expect(Math.abs(millisOf(first) - before)).toBeLessThan(1000);
    expect(millisOf(second)).toBeGreaterThan(millisOf(first));
  });

  test('drawn 20,000 at a time (most in the same millisecond), all are distinct version-7 UUIDs using every variant digit', async () => {
    const [row] = await prisma.$queryRaw<{ n: number; distinct_ids: number; bad: number; variants: string; versions: string }[]>`
      SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids,
        count(*) FILTER (WHERE id !~ ${UUID_V7.source})::int AS bad,
        string_agg(DISTINCT substr(id, 20, 1), '' ORDER BY substr(id, 20, 1)) AS variants,
        string_agg(DISTINCT substr(id, 15, 1), '') AS versions
      FROM (SELECT beacon_uuid_v7() AS id FROM generate_series(1, 20000)) g`;
    expect(row).toEqual({ n: 20000, distinct_ids: 20000, bad: 0, variants: '89ab', versions: '7' });
  });
});
