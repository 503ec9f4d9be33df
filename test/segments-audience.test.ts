import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import {
  AddSegmentTargetsDocument,
  CreateChannelDocument,
  CreateSegmentDocument,
  DeleteUsersDocument,
  SegmentDocument,
  SegmentTargetExistsDocument,
  SegmentTargetIdsDocument,
  SegmentTargetsDocument,
  UpsertUsersDocument,
  UsersDocument,
  type CreateSegmentInput,
  type SegmentTargetFilter,
  type SegmentTargetsQueryVariables,
} from './generated/graphql.js';

let t: TestApp;

const CITIES = ['Delft', 'Oslo', 'Lisbon'];
/** u01…u30: every fifth an admin, every third in team red, odd ones on the pro plan, every seventh without custom data. */
const USERS = Array.from({ length: 30 }, (_, n) => {
  const i = n + 1;
  return {
    id: `u${String(i).padStart(2, '0')}`,
    name: `User ${i}`,
    role: i % 5 === 0 ? 'admin' : 'user',
    teams: i % 3 === 0 ? ['red'] : ['blue'],
    custom: i % 7 === 0 ? {} : { age: 10 + i * 2, plan: i % 2 ? 'pro' : 'free', address: { city: CITIES[i % 3] } },
  };
});
const ALL_IDS = USERS.map((u) => u.id);

beforeAll(async () => {
  t = await startTestApp({ recordQueries: true });
  await t.ok(UpsertUsersDocument, { users: USERS });
  for (const [id, members] of [['c1', ['u01', 'u02']], ['c2', ['u03']], ['c3', ['u01']]] as const) {
    await t.ok(CreateChannelDocument, { input: { type: 'messaging', id, members: [...members] } });
  }
});
afterAll(() => t?.close());

async function create(input: CreateSegmentInput) {
  const { createSegment } = await t.ok(CreateSegmentDocument, { input });
  if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(JSON.stringify(createSegment));
  return createSegment.segment;
}

async function targets(variables: SegmentTargetsQueryVariables) {
  const { segment } = await t.ok(SegmentTargetsDocument, variables);
  return segment!.targets;
}

async function size(id: string): Promise<number> {
  return (await t.ok(SegmentDocument, { id })).segment!.size;
}

async function userIds(filter: unknown): Promise<string[]> {
  const { users } = await t.ok(UsersDocument, { filter, sort: [{ field: 'id' }], first: 1000 });
  return users.edges.map((e) => e.node.id);
}

describe('the audience of a filter segment', () => {
  test.each([
    ['a built-in field', { role: 'admin' }],
    ['a custom field', { plan: 'pro' }],
    ['a nested custom field', { 'address.city': 'Delft' }],
    ['a number comparison', { age: { $gte: 40 } }],
    ['$ne, which also matches a missing field', { plan: { $ne: 'pro' } }],
    ['$or over an array field and a custom one', { $or: [{ teams: { $contains: 'red' } }, { 'address.city': 'Oslo' }] }],
    ['$nor and $and', { $and: [{ role: 'user' }], $nor: [{ plan: 'free' }, { age: { $exists: false } }] }],
  ])('over %s is the users query’s result for the same filter', async (_what, filter) => {
    const expected = await userIds(filter);
    expect(expected.length).toBeGreaterThan(0);
    const segment = await create({ type: 'USER', name: 'Filtered', filter });
    expect(segment.size).toBe(expected.length);
    const page = await targets({ id: segment.id, first: 100 });
    expect(page.edges.map((e) => e.node.id)).toEqual(expected);
    expect(page.totalCount).toBe(expected.length);
  });

  test('is live: users who start to match, or are deleted, change it', async () => {
    const segment = await create({ type: 'USER', name: 'Live', filter: { plan: 'gold' } });
    expect(segment.size).toBe(0);
    await t.ok(UpsertUsersDocument, { users: [{ id: 'gold-1', custom: { plan: 'gold' } }, { id: 'gold-2', custom: { plan: 'gold' } }] });
    expect(await size(segment.id)).toBe(2);
    await t.ok(DeleteUsersDocument, { ids: ['gold-1'] });
    expect(await size(segment.id)).toBe(1);
  });
});

describe('explicit targets and rules together', () => {
  test('the audience is explicit ∪ rule, each member once', async () => {
    const admins = await userIds({ role: 'admin' });
    const segment = await create({ type: 'USER', name: 'Admins and friends', filter: { role: 'admin' }, targetIds: [admins[0]!, 'u01', 'u02'] });
    expect(segment.size).toBe(admins.length + 2);
    const page = await targets({ id: segment.id, first: 100 });
    expect(page.edges.map((e) => e.node.id)).toEqual([...admins, 'u01', 'u02'].sort());
  });

  test('allUsers is every user, explicit targets included only once', async () => {
    const everyone = await userIds({});
    const segment = await create({ type: 'USER', name: 'Everyone', allUsers: true, targetIds: ['u01'] });
    expect(segment.size).toBe(everyone.length);
  });

  test('a deleted user drops out of the explicit targets', async () => {
    await t.ok(UpsertUsersDocument, { users: [{ id: 'gone-1' }, { id: 'kept-1' }] });
    const segment = await create({ type: 'USER', name: 'Explicit', targetIds: ['gone-1', 'kept-1'] });
    await t.ok(DeleteUsersDocument, { ids: ['gone-1'] });
    expect(await size(segment.id)).toBe(1);
    expect((await targets({ id: segment.id })).edges.map((e) => e.node.id)).toEqual(['kept-1']);
  });

  test('a channel segment unites its cids with a channel filter and returns channels', async () => {
    const segment = await create({ type: 'CHANNEL', name: 'Rooms of u01', filter: { members: { $in: ['u01'] } }, targetIds: ['messaging:c2', 'messaging:c3'] });
    expect(segment.size).toBe(3);
    const page = await targets({ id: segment.id });
    expect(page.edges.map((e) => e.node)).toEqual([
      { id: 'messaging:c1', user: null, channel: { cid: 'messaging:c1', memberCount: 2, members: [{ userId: 'u01' }, { userId: 'u02' }] } },
      { id: 'messaging:c2', user: null, channel: { cid: 'messaging:c2', memberCount: 1, members: [{ userId: 'u03' }] } },
      { id: 'messaging:c3', user: null, channel: { cid: 'messaging:c3', memberCount: 1, members: [{ userId: 'u01' }] } },
    ]);
  });

  test('allSenderChannels adds nothing outside a campaign: the explicit cids remain', async () => {
    const segment = await create({ type: 'CHANNEL', name: 'Sender rooms', allSenderChannels: true, targetIds: ['messaging:c2'] });
    expect(segment.size).toBe(1);
  });

  test('segmentTargetExists answers for explicit targets and rule members', async () => {
    const segment = await create({ type: 'USER', name: 'Exists', filter: { role: 'admin' }, targetIds: ['u01'] });
    const exists = async (targetId: string) => (await t.ok(SegmentTargetExistsDocument, { segmentId: segment.id, targetId })).segmentTargetExists;
    expect(await exists('u01')).toBe(true);
    expect(await exists('u05')).toBe(true);
    expect(await exists('u02')).toBe(false);
    expect(await exists('nobody')).toBe(false);
    const missing = await t.gql(SegmentTargetExistsDocument, { segmentId: 'nope', targetId: 'u01' });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', path: 'segmentId' });
  });
});

describe('Segment.targets paging', () => {
  let everyone: string;
  beforeAll(async () => {
    // An explicit target next to the filter makes both halves of the audience query page.
    await t.ok(UpsertUsersDocument, { users: [{ id: 'page-extra' }] });
    everyone = (await create({ type: 'USER', name: 'Pages', filter: { id: { $autocomplete: 'u' } }, targetIds: ['page-extra'] })).id;
  });
  const expected = () => [...ALL_IDS, 'page-extra'].sort();

  async function walk(variables: Omit<SegmentTargetsQueryVariables, 'id'>, backward: boolean): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null | undefined;
    for (let guard = 0; guard < 20; guard += 1) {
      const page = await targets({ id: everyone, ...variables, ...(backward ? { last: 7, before: cursor } : { first: 7, after: cursor }) });
      const ids = page.edges.map((e) => e.node.id);
      if (backward) seen.unshift(...ids);
      else seen.push(...ids);
      expect(page.totalCount).toBe(expected().length);
      const more = backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage;
      if (!more) return seen;
      cursor = backward ? page.pageInfo.startCursor : page.pageInfo.endCursor;
    }
    throw new Error('paging did not end');
  }

  test('first/after walks every target once, in id order', async () => {
    expect(await walk({}, false)).toEqual(expected());
  });

  test('last/before walks back from the end in the same order', async () => {
    expect(await walk({}, true)).toEqual(expected());
  });

  test('sort id DESC reverses the order, forward and back', async () => {
    expect(await walk({ sort: [{ field: 'id', direction: 'DESC' }] }, false)).toEqual(expected().reverse());
    expect(await walk({ sort: [{ field: 'id', direction: 'DESC' }] }, true)).toEqual(expected().reverse());
  });

  test('page info marks both ends', async () => {
    const first = await targets({ id: everyone, first: 5 });
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await targets({ id: everyone, first: 5, after: first.pageInfo.endCursor });
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    expect(second.edges[0]!.node.id).toBe(expected()[5]);
  });

  test.each<[string, SegmentTargetFilter, string[]]>([
    ['id in', { id: { in: ['u03', 'page-extra', 'nobody'] } }, ['page-extra', 'u03']],
    ['id eq', { id: { eq: 'u10' } }, ['u10']],
    ['or', { or: [{ id: { eq: 'u01' } }, { id: { eq: 'u30' } }] }, ['u01', 'u30']],
    ['and with nin', { and: [{ id: { in: ['u01', 'u02', 'u03'] } }, { id: { nin: ['u02'] } }] }, ['u01', 'u03']],
    ['nor', { id: { in: ['u01', 'u02', 'u03'] }, nor: [{ id: { eq: 'u01' } }, { id: { eq: 'u03' } }] }, ['u02']],
    ['id autocomplete (case-insensitive prefix)', { id: { autocomplete: 'U1' } }, Array.from({ length: 10 }, (_, i) => `u1${i}`)],
    ['id autocomplete with the rule’s and the explicit half', { or: [{ id: { autocomplete: 'page-' } }, { id: { autocomplete: 'u3' } }] }, ['page-extra', 'u30']],
    ['id autocomplete whose _ and % are no wildcards', { or: [{ id: { autocomplete: 'u_' } }, { id: { autocomplete: '%' } }] }, []],
  ])('the %s filter narrows the targets and their totalCount', async (_what, filter, ids) => {
    const page = await targets({ id: everyone, filter, first: 100 });
    expect(page.edges.map((e) => e.node.id)).toEqual(ids);
    expect(page.totalCount).toBe(ids.length);
  });

  test('a page over 10,000 or an empty or list is a top-level VALIDATION error', async () => {
    // Ids only: with channels and their members, 10,001 targets are over the query cost limit first.
    const big = await t.gql(SegmentTargetIdsDocument, { id: everyone, first: 10_001 });
    expect(big.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path: 'first' });
    const empty = await t.gql(SegmentTargetsDocument, { id: everyone, filter: { or: [] } });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path: 'filter.or' });
    const blank = await t.gql(SegmentTargetsDocument, { id: everyone, filter: { id: { autocomplete: '' } } });
    expect(blank.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path: 'filter.id.autocomplete' });
  });

  test('an id autocomplete pages like any filter', async () => {
    const first = await targets({ id: everyone, filter: { id: { autocomplete: 'u2' } }, first: 4 });
    expect(first.edges.map((e) => e.node.id)).toEqual(['u20', 'u21', 'u22', 'u23']);
    expect(first.totalCount).toBe(10);
    const second = await targets({ id: everyone, filter: { id: { autocomplete: 'u2' } }, first: 100, after: first.pageInfo.endCursor });
    expect(second.edges.map((e) => e.node.id)).toEqual(['u24', 'u25', 'u26', 'u27', 'u28', 'u29']);
  });

  test('users load in one query per page, however long the page', async () => {
    const count = async (first: number) => {
      const { result: page, queries } = await t.queriesDuring(() => targets({ id: everyone, first }));
      expect(page.edges.every((e) => e.node.user?.id === e.node.id)).toBe(true);
      const userLoads = queries.filter((q) => q.includes('"public"."users"')).length;
      return { n: queries.length, userLoads };
    };
    const small = await count(3);
    const large = await count(25);
    expect(large.userLoads).toBe(1);
    expect(large.n).toBe(small.n);
  });
});

describe('addSegmentTargets on a filter segment', () => {
  test('a target that the rule already holds leaves the size as it is', async () => {
    const segment = await create({ type: 'USER', name: 'Admins', filter: { role: 'admin' } });
    const { addSegmentTargets } = await t.ok(AddSegmentTargetsDocument, { segmentId: segment.id, targetIds: ['u05', 'u01'] });
    expect(addSegmentTargets).toMatchObject({ added: 2, segment: { size: segment.size + 1 } });
  });
});
