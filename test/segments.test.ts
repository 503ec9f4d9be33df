import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import {
  AddSegmentTargetsDocument,
  CreateChannelDocument,
  CreateSegmentDocument,
  DeleteSegmentDocument,
  RemoveSegmentTargetsDocument,
  SegmentDocument,
  SegmentTargetIdsDocument,
  UpdateSegmentDocument,
  UpsertUsersDocument,
  UsersDocument,
  type CreateSegmentInput,
} from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.ok(UpsertUsersDocument, {
    users: [
      { id: 'ann', name: 'Ann', role: 'admin', custom: { age: 40 } },
      { id: 'bob', name: 'Bob', custom: { age: 17 } },
      { id: 'cat', name: 'Cat', custom: { age: 25 } },
      { id: 'dan', name: 'Dan' },
    ],
  });
  await t.ok(CreateChannelDocument, { input: { type: 'messaging', id: 'general', members: ['ann', 'bob'] } });
});
afterAll(() => t?.close());

async function create(input: CreateSegmentInput) {
  const { createSegment } = await t.ok(CreateSegmentDocument, { input });
  if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(JSON.stringify(createSegment));
  return createSegment.segment;
}

async function targetIds(id: string): Promise<string[]> {
  const { segment } = await t.ok(SegmentTargetIdsDocument, { id, first: 10_000 });
  return segment!.targets.edges.map((e) => e.node.id);
}

/** Inserts `n` users `<prefix>-00000…` in one statement (bulk fixtures, not under test here). */
async function seedUsers(prefix: string, n: number): Promise<string[]> {
  await t.app.db.prisma.$executeRaw`
    INSERT INTO users (id) SELECT ${prefix} || '-' || lpad(g::text, 5, '0') FROM generate_series(1, ${n}::int) AS g`;
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
}

describe('createSegment', () => {
  test('creates a user segment with explicit targets and a generated UUID id', async () => {
    const segment = await create({ type: 'USER', name: 'Friends', description: 'close ones', targetIds: ['ann', 'bob'] });
    expect(segment.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(segment).toMatchObject({
      type: 'USER',
      name: 'Friends',
      description: 'close ones',
      filter: null,
      allUsers: false,
      allSenderChannels: false,
      size: 2,
      inUse: false,
    });
    expect(await targetIds(segment.id)).toEqual(['ann', 'bob']);
    expect(await t.app.db.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } })).toMatchObject({ cachedSize: 2 });
  });

  test('keeps a client-chosen id, a filter rule and a channel segment’s cids', async () => {
    const users = await create({ id: 'adults', type: 'USER', name: 'Adults', filter: { age: { $gte: 18 } } });
    expect(users).toMatchObject({ id: 'adults', filter: { age: { $gte: 18 } }, size: 2 });
    const channels = await create({ id: 'rooms', type: 'CHANNEL', name: 'Rooms', targetIds: ['messaging:general'] });
    expect(channels).toMatchObject({ id: 'rooms', type: 'CHANNEL', size: 1 });
  });

  test('a taken id is a CONFLICT at input.id and changes nothing', async () => {
    await create({ id: 'taken', type: 'USER', name: 'First' });
    const { createSegment } = await t.ok(CreateSegmentDocument, { input: { id: 'taken', type: 'USER', name: 'Second', targetIds: ['ann'] } });
    expect(createSegment).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', path: ['input.id'] });
    const { segment } = await t.ok(SegmentDocument, { id: 'taken' });
    expect(segment).toMatchObject({ name: 'First', size: 0 });
  });

  test.each([
    ['an empty name', { name: '' }, ['input.name']],
    ['a name over 128 characters', { name: 'n'.repeat(129) }, ['input.name']],
    ['a description over 256 characters', { description: 'd'.repeat(257) }, ['input.description']],
    ['an id with spaces', { id: 'has space' }, ['input.id']],
    ['filter and allUsers together', { filter: { role: 'admin' }, allUsers: true }, ['input.filter', 'input.allUsers']],
    ['allSenderChannels on a USER segment', { allSenderChannels: true }, ['input.allSenderChannels']],
    ['an unknown operator in the filter', { filter: { $where: 'x' } }, ['input.filter.$where']],
    ['an empty operator object deep in the filter', { filter: { $or: [{ role: 'admin' }, { age: {} }] } }, ['input.filter.$or[1].age']],
    ['a wrong operand type', { filter: { created_at: { $gt: 5 } } }, ['input.filter.created_at.$gt']],
    ['a filter that is not an object', { filter: ['role'] }, ['input.filter']],
  ])('rejects %s as VALIDATION naming the input, writing nothing', async (_what, patch, path) => {
    const before = await t.app.db.prisma.segment.count();
    const { createSegment } = await t.ok(CreateSegmentDocument, { input: { type: 'USER', name: 'Bad', ...patch } });
    expect(createSegment).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', path });
    expect(await t.app.db.prisma.segment.count()).toBe(before);
  });

  test('allUsers on a CHANNEL segment is VALIDATION at input.allUsers', async () => {
    const { createSegment } = await t.ok(CreateSegmentDocument, { input: { type: 'CHANNEL', name: 'Bad', allUsers: true } });
    expect(createSegment).toMatchObject({ code: 'VALIDATION', path: ['input.allUsers'] });
  });

  test('a channel filter is checked against channel fields', async () => {
    const { createSegment } = await t.ok(CreateSegmentDocument, {
      input: { type: 'CHANNEL', name: 'Bad', filter: { member_count: { $autocomplete: 'x' } } },
    });
    expect(createSegment).toMatchObject({ code: 'VALIDATION', path: ['input.filter.member_count.$autocomplete'] });
  });

  test('filter errors match the users query’s, prefixed with input', async () => {
    const filter = { $or: [{ role: 'admin' }, { age: { $in: 'x' } }] };
    const query = await t.gql(UsersDocument, { filter });
    const { createSegment } = await t.ok(CreateSegmentDocument, { input: { type: 'USER', name: 'Bad', filter } });
    expect(query.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path: 'filter.$or[1].age.$in' });
    expect(createSegment).toMatchObject({ code: 'VALIDATION', path: ['input.filter.$or[1].age.$in'], message: query.errors?.[0]?.message });
  });

  test('unknown target ids are VALIDATION listing them, and no segment is created', async () => {
    const { createSegment } = await t.ok(CreateSegmentDocument, {
      input: { id: 'with-ghosts', type: 'USER', name: 'Ghosts', targetIds: ['ann', 'ghost-1', 'ghost-2'] },
    });
    expect(createSegment).toMatchObject({ code: 'VALIDATION', path: ['input.targetIds'] });
    if (createSegment.__typename !== 'ValidationError') throw new Error('expected an error');
    expect(createSegment.message).toContain('"ghost-1", "ghost-2"');
    expect(createSegment.message).not.toContain('"ann"');
    expect(await t.app.db.prisma.segment.findUnique({ where: { id: 'with-ghosts' } })).toBeNull();
  });

  test('user ids are unknown targets of a CHANNEL segment', async () => {
    const { createSegment } = await t.ok(CreateSegmentDocument, { input: { type: 'CHANNEL', name: 'Mixed', targetIds: ['messaging:general', 'ann'] } });
    expect(createSegment).toMatchObject({ code: 'VALIDATION', path: ['input.targetIds'] });
  });

  test('more than 10,000 target ids is VALIDATION at input.targetIds', async () => {
    const ids = Array.from({ length: 10_001 }, (_, i) => `x-${i}`);
    const { createSegment } = await t.ok(CreateSegmentDocument, { input: { type: 'USER', name: 'Huge', targetIds: ids } });
    // The ids are unknown as well: the message tells the size limit from the unknown-id check.
    expect(createSegment).toMatchObject({ code: 'VALIDATION', path: ['input.targetIds'], message: expect.stringMatching(/at most 10000/) });
  });
});

describe('updateSegment', () => {
  test('renames, clears the description and swaps the rule', async () => {
    await create({ id: 'upd', type: 'USER', name: 'Before', description: 'old', filter: { role: 'admin' } });
    const renamed = await t.ok(UpdateSegmentDocument, { id: 'upd', input: { name: 'After', description: null } });
    expect(renamed.updateSegment).toMatchObject({ segment: { name: 'After', description: null, filter: { role: 'admin' }, size: 1 } });
    const swapped = await t.ok(UpdateSegmentDocument, { id: 'upd', input: { filter: null, allUsers: true } });
    expect(swapped.updateSegment).toMatchObject({ segment: { name: 'After', filter: null, allUsers: true, size: 4 } });
    expect(await t.app.db.prisma.segment.findUniqueOrThrow({ where: { id: 'upd' } })).toMatchObject({ cachedSize: 4 });
  });

  test('a second rule next to the stored one is VALIDATION naming both', async () => {
    await create({ id: 'upd-rule', type: 'USER', name: 'Rule', allUsers: true });
    const { updateSegment } = await t.ok(UpdateSegmentDocument, { id: 'upd-rule', input: { filter: { role: 'admin' } } });
    expect(updateSegment).toMatchObject({ code: 'VALIDATION', path: ['input.filter', 'input.allUsers'] });
  });

  test('the type cannot change, a bad filter names its path, an unknown id is NOT_FOUND', async () => {
    await create({ id: 'upd-type', type: 'USER', name: 'Typed' });
    const type = await t.ok(UpdateSegmentDocument, { id: 'upd-type', input: { type: 'CHANNEL' } });
    expect(type.updateSegment).toMatchObject({ code: 'VALIDATION', path: ['input.type'] });
    const same = await t.ok(UpdateSegmentDocument, { id: 'upd-type', input: { type: 'USER', name: 'Still user' } });
    expect(same.updateSegment).toMatchObject({ segment: { type: 'USER', name: 'Still user' } });
    const filter = await t.ok(UpdateSegmentDocument, { id: 'upd-type', input: { filter: { $and: [] } } });
    expect(filter.updateSegment).toMatchObject({ code: 'VALIDATION', path: ['input.filter.$and'] });
    const missing = await t.ok(UpdateSegmentDocument, { id: 'nope', input: { name: 'x' } });
    expect(missing.updateSegment).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });
  });
});

describe('deleteSegment', () => {
  async function campaignUsing(segmentId: string, status: 'IN_PROGRESS' | 'COMPLETED' | 'DRAFT' | 'STOPPED', materializedAt: Date | null = null) {
    await t.app.db.prisma.campaign.create({
      data: {
        id: `camp-${segmentId}-${status}`,
        name: 'Uses it',
        status,
        materializedAt,
        messageTemplate: { text: 'hi' },
        segments: { create: { segmentId, position: 0 } },
      },
    });
  }

  test('deletes the segment and its targets', async () => {
    await create({ id: 'del', type: 'USER', name: 'Doomed', targetIds: ['ann'] });
    const { deleteSegment } = await t.ok(DeleteSegmentDocument, { id: 'del' });
    expect(deleteSegment).toEqual({ __typename: 'DeleteSegmentPayload', deletedId: 'del' });
    expect((await t.ok(SegmentDocument, { id: 'del' })).segment).toBeNull();
    expect(await t.app.db.prisma.segmentTarget.count({ where: { segmentId: 'del' } })).toBe(0);
  });

  test('a campaign in progress holds its segment: CONFLICT, and inUse is true', async () => {
    await create({ id: 'held', type: 'USER', name: 'Held' });
    await campaignUsing('held', 'IN_PROGRESS');
    expect((await t.ok(SegmentDocument, { id: 'held' })).segment).toMatchObject({ inUse: true });
    const { deleteSegment } = await t.ok(DeleteSegmentDocument, { id: 'held' });
    expect(deleteSegment).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', path: ['id'] });
    expect((await t.ok(SegmentDocument, { id: 'held' })).segment).not.toBeNull();
  });

  test('a completed campaign does not hold its segment', async () => {
    await create({ id: 'freed', type: 'USER', name: 'Freed' });
    await campaignUsing('freed', 'COMPLETED');
    expect((await t.ok(SegmentDocument, { id: 'freed' })).segment).toMatchObject({ inUse: false });
    const { deleteSegment } = await t.ok(DeleteSegmentDocument, { id: 'freed' });
    expect(deleteSegment).toMatchObject({ __typename: 'DeleteSegmentPayload', deletedId: 'freed' });
    expect((await t.ok(SegmentDocument, { id: 'freed' })).segment).toBeNull();
  });

  test('a campaign stopped before it wrote its recipients holds its segment (resuming reads the audience from it)', async () => {
    await create({ id: 'paused', type: 'USER', name: 'Paused' });
    await campaignUsing('paused', 'STOPPED');
    expect((await t.ok(SegmentDocument, { id: 'paused' })).segment).toMatchObject({ inUse: true });
    const { deleteSegment } = await t.ok(DeleteSegmentDocument, { id: 'paused' });
    expect(deleteSegment).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', path: ['id'] });
    expect((await t.ok(SegmentDocument, { id: 'paused' })).segment).not.toBeNull();
  });

  test('a campaign stopped after writing its recipients does not hold its segment', async () => {
    await create({ id: 'written', type: 'USER', name: 'Written' });
    await campaignUsing('written', 'STOPPED', new Date());
    expect((await t.ok(SegmentDocument, { id: 'written' })).segment).toMatchObject({ inUse: false });
    const { deleteSegment } = await t.ok(DeleteSegmentDocument, { id: 'written' });
    expect(deleteSegment).toMatchObject({ __typename: 'DeleteSegmentPayload', deletedId: 'written' });
  });

  test('an unknown segment is NOT_FOUND', async () => {
    const { deleteSegment } = await t.ok(DeleteSegmentDocument, { id: 'never-was' });
    expect(deleteSegment).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });
  });
});

describe('addSegmentTargets / removeSegmentTargets', () => {
  test('adds targets, counts only new ones, and bumps updatedAt', async () => {
    await create({ id: 'grow', type: 'USER', name: 'Grow', targetIds: ['ann'] });
    const past = new Date('2020-01-01T00:00:00Z');
    await t.app.db.prisma.segment.update({ where: { id: 'grow' }, data: { updatedAt: past } });
    const first = await t.ok(AddSegmentTargetsDocument, { segmentId: 'grow', targetIds: ['bob', 'cat'] });
    expect(first.addSegmentTargets).toMatchObject({ added: 2, segment: { id: 'grow', size: 3 } });
    if (first.addSegmentTargets.__typename !== 'AddSegmentTargetsPayload') throw new Error('failed');
    const bumped = first.addSegmentTargets.segment.updatedAt;
    expect(Date.parse(bumped)).toBeGreaterThan(past.getTime());
    const again = await t.ok(AddSegmentTargetsDocument, { segmentId: 'grow', targetIds: ['ann', 'bob', 'bob'] });
    expect(again.addSegmentTargets).toMatchObject({ added: 0, segment: { size: 3, updatedAt: bumped } });
    expect(await targetIds('grow')).toEqual(['ann', 'bob', 'cat']);
  });

  test('unknown ids are listed (at most 20 shown) and nothing is added', async () => {
    await create({ id: 'strict', type: 'USER', name: 'Strict' });
    const ghosts = Array.from({ length: 25 }, (_, i) => `ghost-${String(i).padStart(2, '0')}`);
    const { addSegmentTargets } = await t.ok(AddSegmentTargetsDocument, { segmentId: 'strict', targetIds: ['ann', ...ghosts] });
    expect(addSegmentTargets).toMatchObject({ code: 'VALIDATION', path: ['targetIds'] });
    if (addSegmentTargets.__typename !== 'ValidationError') throw new Error('expected an error');
    expect(addSegmentTargets.message).toContain('"ghost-00"');
    expect(addSegmentTargets.message).toContain('"ghost-19"');
    expect(addSegmentTargets.message).not.toContain('"ghost-20"');
    expect(addSegmentTargets.message).toContain('25 in all');
    expect(await targetIds('strict')).toEqual([]);
  });

  test('adds 10,000 targets in one call and refuses 10,001', async () => {
    const ids = await seedUsers('bulk', 10_001);
    await create({ id: 'bulk', type: 'USER', name: 'Bulk' });
    const ok = await t.ok(AddSegmentTargetsDocument, { segmentId: 'bulk', targetIds: ids.slice(0, 10_000) });
    expect(ok.addSegmentTargets).toMatchObject({ added: 10_000, segment: { size: 10_000 } });
    const tooMany = await t.ok(AddSegmentTargetsDocument, { segmentId: 'bulk', targetIds: ids });
    expect(tooMany.addSegmentTargets).toMatchObject({ code: 'VALIDATION', path: ['targetIds'], message: expect.stringMatching(/at most 10000/) });
    expect(await t.app.db.prisma.segmentTarget.count({ where: { segmentId: 'bulk' } })).toBe(10_000);
  });

  test('removes targets and ignores ids that are not targets', async () => {
    await create({ id: 'shrink', type: 'USER', name: 'Shrink', targetIds: ['ann', 'bob', 'cat'] });
    const { removeSegmentTargets } = await t.ok(RemoveSegmentTargetsDocument, { segmentId: 'shrink', targetIds: ['bob', 'dan', 'nobody'] });
    expect(removeSegmentTargets).toMatchObject({ removed: 1, segment: { size: 2 } });
    expect(await targetIds('shrink')).toEqual(['ann', 'cat']);
  });

  test('an unknown segment is NOT_FOUND at segmentId; an empty list is VALIDATION', async () => {
    const add = await t.ok(AddSegmentTargetsDocument, { segmentId: 'nope', targetIds: ['ann'] });
    expect(add.addSegmentTargets).toMatchObject({ code: 'NOT_FOUND', path: ['segmentId'] });
    const remove = await t.ok(RemoveSegmentTargetsDocument, { segmentId: 'nope', targetIds: ['ann'] });
    expect(remove.removeSegmentTargets).toMatchObject({ code: 'NOT_FOUND', path: ['segmentId'] });
    await create({ id: 'empty-call', type: 'USER', name: 'Empty' });
    const empty = await t.ok(AddSegmentTargetsDocument, { segmentId: 'empty-call', targetIds: [] });
    expect(empty.addSegmentTargets).toMatchObject({ code: 'VALIDATION', path: ['targetIds'] });
  });
});

describe('access', () => {
  test('a user token may not touch segments: FORBIDDEN', async () => {
    const token = await t.userToken('ann');
    const result = await t.gql(CreateSegmentDocument, { input: { type: 'USER', name: 'Mine' } }, { token });
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const read = await t.gql(SegmentDocument, { id: 'adults' }, { token });
    expect(read.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
