import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import {
  CampaignsDocument,
  CampaignsWithRelationsDocument,
  SegmentCampaignsDocument,
  type CampaignFilter,
  type CampaignSort,
  type CampaignsQueryVariables,
} from './generated/graphql.js';
import { CampaignStatus } from '../src/generated/prisma/enums.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ recordQueries: true });
});
afterAll(() => t?.close());

const day = (n: number) => new Date(Date.UTC(2026, 0, n));
interface Fixture {
  id: string;
  name: string;
  status: CampaignStatus;
  createdAt: Date;
  updatedAt: Date;
  scheduledFor: Date | null;
  senderId: string | null;
  segments: string[];
}
// Ties on purpose: c3/c7 share scheduledFor, c1/c7 share status, so the id breaks ties.
const FIXTURES: Fixture[] = [
  { id: 'c1', name: 'alpha launch', status: 'DRAFT', createdAt: day(1), updatedAt: day(20), scheduledFor: null, senderId: 'l-sender', segments: ['l-seg1'] },
  { id: 'c2', name: 'beta news', status: 'SCHEDULED', createdAt: day(2), updatedAt: day(14), scheduledFor: day(40), senderId: 'l-sender', segments: ['l-seg1', 'l-seg2'] },
  { id: 'c3', name: 'alpha followup', status: 'IN_PROGRESS', createdAt: day(3), updatedAt: day(18), scheduledFor: day(30), senderId: null, segments: ['l-seg2'] },
  { id: 'c4', name: 'gamma', status: 'COMPLETED', createdAt: day(4), updatedAt: day(11), scheduledFor: null, senderId: null, segments: [] },
  { id: 'c5', name: 'delta', status: 'STOPPED', createdAt: day(5), updatedAt: day(19), scheduledFor: day(50), senderId: null, segments: ['l-seg1'] },
  { id: 'c6', name: 'epsilon', status: 'FAILED', createdAt: day(6), updatedAt: day(12), scheduledFor: null, senderId: null, segments: [] },
  { id: 'c7', name: 'zeta', status: 'DRAFT', createdAt: day(7), updatedAt: day(16), scheduledFor: day(30), senderId: null, segments: [] },
];
const ALL = FIXTURES.map((f) => f.id);

beforeAll(async () => {
  const prisma = t.app.db.prisma;
  await prisma.user.create({ data: { id: 'l-sender' } });
  await prisma.segment.createMany({ data: ['l-seg1', 'l-seg2'].map((id) => ({ id, type: 'USER' as const, name: id })) });
  await prisma.campaign.createMany({
    data: FIXTURES.map(({ segments: _s, ...f }) => ({ ...f, messageTemplate: { text: 'hi' } })),
  });
  await prisma.campaignSegment.createMany({
    data: FIXTURES.flatMap((f) => f.segments.map((segmentId, position) => ({ campaignId: f.id, segmentId, position }))),
  });
});

async function list(variables: Parameters<typeof listPage>[0] = {}): Promise<string[]> {
  return (await listPage({ first: 100, ...variables })).edges.map((e) => e.node.id);
}
async function listPage(variables: CampaignsQueryVariables) {
  return (await t.ok(CampaignsDocument, variables)).campaigns;
}

/** Pages through the whole list in pages of `size`, forward or backward, and returns the ids in list order. */
async function pageThrough(sort: CampaignSort[] | undefined, size: number, backward: boolean): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 20; guard += 1) {
    const page = await listPage(backward ? { sort, last: size, before: cursor } : { sort, first: size, after: cursor });
    const pageIds = page.edges.map((e) => e.node.id);
    if (backward) ids.unshift(...pageIds);
    else ids.push(...pageIds);
    const more = backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage;
    if (!more) return ids;
    cursor = (backward ? page.pageInfo.startCursor : page.pageInfo.endCursor) ?? undefined;
  }
  throw new Error('paging did not end');
}

describe('campaigns paging', () => {
  test('defaults to createdAt ascending and counts all', async () => {
    const page = await listPage({});
    expect(page.edges.map((e) => e.node.id)).toEqual(ALL);
    expect(page.totalCount).toBe(7);
    expect(page.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  test('first/after pages forward with the right page info', async () => {
    const one = await listPage({ first: 3 });
    expect(one.edges.map((e) => e.node.id)).toEqual(['c1', 'c2', 'c3']);
    expect(one.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const two = await listPage({ first: 3, after: one.pageInfo.endCursor });
    expect(two.edges.map((e) => e.node.id)).toEqual(['c4', 'c5', 'c6']);
    expect(two.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const three = await listPage({ first: 3, after: two.pageInfo.endCursor });
    expect(three.edges.map((e) => e.node.id)).toEqual(['c7']);
    expect(three.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  test('last/before pages backward with the right page info', async () => {
    const one = await listPage({ last: 3 });
    expect(one.edges.map((e) => e.node.id)).toEqual(['c5', 'c6', 'c7']);
    expect(one.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const two = await listPage({ last: 3, before: one.pageInfo.startCursor });
    expect(two.edges.map((e) => e.node.id)).toEqual(['c2', 'c3', 'c4']);
    const three = await listPage({ last: 3, before: two.pageInfo.startCursor });
    expect(three.edges.map((e) => e.node.id)).toEqual(['c1']);
    expect(three.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  test('a page over 1,000, first with last, or a bad cursor is a top-level VALIDATION error', async () => {
    for (const [variables, path] of [
      [{ first: 1001 }, 'first'],
      [{ first: 1, last: 1 }, 'last'],
      [{ after: 'garbage' }, 'after'],
      [{ before: Buffer.from('not-a-cursor:c1').toString('base64') }, 'before'],
    ] as const) {
      const result = await t.gql(CampaignsDocument, variables);
      expect(result.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({ code: 'VALIDATION', path });
      expect(result.data).toBeNull();
    }
    // Pothos refuses a negative size, both cursors, and a backward cursor with a forward size itself: still VALIDATION, never INTERNAL.
    const first = await t.gql(CampaignsDocument, { first: 1 });
    for (const variables of [{ last: -1 }, { after: 'a', before: 'b' }, { first: 1, before: first.data!.campaigns.pageInfo.endCursor }]) {
      expect((await t.gql(CampaignsDocument, variables)).errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION' });
    }
  });
});

describe('campaigns sorting', () => {
  const STATUS_ORDER = Object.values(CampaignStatus);
  type SortKey = 'NAME' | 'STATUS' | 'CREATED_AT' | 'UPDATED_AT' | 'SCHEDULED_FOR';
  const value: Record<SortKey, (f: Fixture) => string | number | null> = {
    NAME: (f) => f.name,
    STATUS: (f) => STATUS_ORDER.indexOf(f.status),
    CREATED_AT: (f) => f.createdAt.getTime(),
    UPDATED_AT: (f) => f.updatedAt.getTime(),
    SCHEDULED_FOR: (f) => f.scheduledFor?.getTime() ?? null,
  };
  /** PostgreSQL's order: nulls last ascending, first descending; then id ascending. */
  function expected(field: SortKey, desc: boolean): string[] {
    return [...FIXTURES]
      .sort((a, b) => {
        const [x, y] = [value[field](a), value[field](b)];
        if (x !== y) {
          if (x === null) return desc ? -1 : 1;
          if (y === null) return desc ? 1 : -1;
          return (x < y ? -1 : 1) * (desc ? -1 : 1);
        }
        return a.id < b.id ? -1 : 1;
      })
      .map((f) => f.id);
  }
  const cases = (Object.keys(value) as SortKey[]).flatMap((field) =>
    (['ASC', 'DESC'] as const).map((direction) => [field, direction] as const),
  );

  test.each(cases)('by %s %s, in one page and paged forward and backward', async (field, direction) => {
    const sort = [{ field, direction }];
    const want = expected(field, direction === 'DESC');
    expect(await list({ sort })).toEqual(want);
    expect(await pageThrough(sort, 2, false)).toEqual(want);
    expect(await pageThrough(sort, 2, true)).toEqual(want);
  });

  test('several keys: status, then name descending', async () => {
    const ids = await list({ sort: [{ field: 'STATUS' }, { field: 'NAME', direction: 'DESC' }] });
    expect(ids).toEqual(['c7', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
  });
});

describe('campaigns filters', () => {
  test.each([
    ['status in', { status: { in: ['DRAFT', 'SCHEDULED'] } }, ['c1', 'c2', 'c7']],
    ['status nin', { status: { nin: ['DRAFT', 'COMPLETED'] } }, ['c2', 'c3', 'c5', 'c6']],
    ['status eq', { status: { eq: 'FAILED' } }, ['c6']],
    ['status ne', { status: { ne: 'DRAFT' } }, ['c2', 'c3', 'c4', 'c5', 'c6']],
    ['id in', { id: { in: ['c1', 'c4', 'nope'] } }, ['c1', 'c4']],
    ['name autocomplete, any case', { name: { autocomplete: 'ALPHA' } }, ['c1', 'c3']],
    ['name eq', { name: { eq: 'gamma' } }, ['c4']],
    ['senderId eq', { senderId: { eq: 'l-sender' } }, ['c1', 'c2']],
    ['senderId exists false', { senderId: { exists: false } }, ['c3', 'c4', 'c5', 'c6', 'c7']],
    ['segments eq', { segments: { eq: 'l-seg1' } }, ['c1', 'c2', 'c5']],
    ['segments in', { segments: { in: ['l-seg2', 'nope'] } }, ['c2', 'c3']],
    ['segments ne: using not that one', { segments: { ne: 'l-seg1' } }, ['c3', 'c4', 'c6', 'c7']],
    ['segments nin', { segments: { nin: ['l-seg1', 'l-seg2'] } }, ['c4', 'c6', 'c7']],
    ['segments exists', { segments: { exists: true } }, ['c1', 'c2', 'c3', 'c5']],
    ['segments exists false', { segments: { exists: false } }, ['c4', 'c6', 'c7']],
    ['createdAt range', { createdAt: { gte: day(2).toISOString(), lt: day(5).toISOString() } }, ['c2', 'c3', 'c4']],
    ['updatedAt gt', { updatedAt: { gt: day(18).toISOString() } }, ['c1', 'c5']],
    ['scheduledFor exists', { scheduledFor: { exists: true } }, ['c2', 'c3', 'c5', 'c7']],
    ['scheduledFor missing', { scheduledFor: { exists: false } }, ['c1', 'c4', 'c6']],
    ['scheduledFor lte', { scheduledFor: { lte: day(30).toISOString() } }, ['c3', 'c7']],
    ['or', { or: [{ status: { eq: 'COMPLETED' } }, { name: { autocomplete: 'zet' } }] }, ['c4', 'c7']],
    ['and', { and: [{ segments: { eq: 'l-seg1' } }, { status: { ne: 'DRAFT' } }] }, ['c2', 'c5']],
    ['nor', { nor: [{ status: { in: ['DRAFT'] } }, { segments: { exists: true } }] }, ['c4', 'c6']],
    ['several fields are ANDed', { status: { in: ['DRAFT', 'STOPPED'] }, segments: { eq: 'l-seg1' } }, ['c1', 'c5']],
  ] as [string, CampaignFilter, string[]][])('%s', async (_name, filter, want) => {
    const page = await listPage({ filter, first: 100 });
    expect(page.edges.map((e) => e.node.id)).toEqual(want);
    expect(page.totalCount).toBe(want.length);
  });

  test('bad filters are top-level VALIDATION errors naming the path', async () => {
    const tooMany = Array.from({ length: 1001 }, (_, i) => `s${i}`);
    for (const [filter, path] of [
      [{ segments: { in: tooMany } }, 'filter.segments.in'],
      [{ segments: { nin: tooMany } }, 'filter.segments.nin'],
      [{ or: [] }, 'filter.or'],
      [{ and: [{ name: { autocomplete: '' } }] }, 'filter.and[0].name.autocomplete'],
    ] as [CampaignFilter, string][]) {
      const result = await t.gql(CampaignsDocument, { filter });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path });
    }
  });
});

describe('Segment.campaigns', () => {
  test('lists the campaigns using the segment, with filter, sort, paging and count', async () => {
    const all = await t.ok(SegmentCampaignsDocument, { id: 'l-seg1' });
    expect(all.segment?.campaigns.edges.map((e) => e.node.id)).toEqual(['c1', 'c2', 'c5']);
    expect(all.segment?.campaigns.totalCount).toBe(3);
    expect(all.segment?.campaigns.edges[1]?.node.segments.map((s) => s.id)).toEqual(['l-seg1', 'l-seg2']);

    const drafts = await t.ok(SegmentCampaignsDocument, { id: 'l-seg1', filter: { status: { eq: 'DRAFT' } } });
    expect(drafts.segment?.campaigns.edges.map((e) => e.node.id)).toEqual(['c1']);

    const byName = await t.ok(SegmentCampaignsDocument, { id: 'l-seg1', sort: [{ field: 'NAME', direction: 'DESC' }], first: 2 });
    expect(byName.segment?.campaigns.edges.map((e) => e.node.id)).toEqual(['c5', 'c2']);
    expect(byName.segment?.campaigns.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    const lastOne = await t.ok(SegmentCampaignsDocument, { id: 'l-seg2', last: 1 });
    expect(lastOne.segment?.campaigns.edges.map((e) => e.node.id)).toEqual(['c3']);
    expect(lastOne.segment?.campaigns.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });
});

describe('query cost', () => {
  test('segments and sender of a page of campaigns load in a fixed number of queries (5 or 50 campaigns)', async () => {
    const prisma = t.app.db.prisma;
    await prisma.user.createMany({ data: Array.from({ length: 50 }, (_, i) => ({ id: `n1-user-${i}`, name: `User ${i}` })) });
    await prisma.segment.createMany({ data: Array.from({ length: 4 }, (_, i) => ({ id: `n1-seg-${i}`, type: 'USER' as const, name: `Seg ${i}` })) });
    const ids = Array.from({ length: 50 }, (_, i) => `n1-${String(i).padStart(2, '0')}`);
    await prisma.campaign.createMany({
      data: ids.map((id, i) => ({ id, name: id, senderId: `n1-user-${i}`, messageTemplate: { text: 'hi' } })),
    });
    await prisma.campaignSegment.createMany({
      data: ids.flatMap((id, i) => [0, 1].map((position) => ({ campaignId: id, segmentId: `n1-seg-${(i + position) % 4}`, position }))),
    });

    const filter = { name: { autocomplete: 'n1-' } };
    async function countQueries(first: number): Promise<number> {
      const { result, queries } = await t.queriesDuring(() => t.ok(CampaignsWithRelationsDocument, { filter, first }));
      const { campaigns } = result;
      const count = queries.length;
      expect(campaigns.edges).toHaveLength(first);
      for (const { node } of campaigns.edges) {
        // Each campaign gets its own relations, not some other row's.
        const i = Number(node.id.slice('n1-'.length));
        expect(node.segments).toHaveLength(2);
        expect(node.segments.map((s) => s.id)).toEqual([`n1-seg-${i % 4}`, `n1-seg-${(i + 1) % 4}`]);
        expect(node.sender?.id).toMatch(/^n1-user-/);
        expect(node.sender).toEqual({ id: `n1-user-${i}`, name: `User ${i}` });
      }
      return count;
    }
    const few = await countQueries(5);
    const many = await countQueries(50);
    expect(many).toBe(few);
    // The page, its count, the campaign_segments+segments and the senders: no more, and
    // recorded at all (an empty recording would pass the bounds above).
    expect(many).toBeLessThanOrEqual(4);
    expect(many).toBeGreaterThanOrEqual(3);

    await prisma.campaign.deleteMany({ where: { id: { in: ids } } });
  });
});
