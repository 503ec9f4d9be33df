// JSON operator filters against real PostgreSQL: every operator on built-in, array, custom
// and nested custom fields, channel members, logical operators, and index use.
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma, PrismaClient } from '../src/generated/prisma/client.js';
import { ValidationError } from '../src/errors.js';
import { compileJsonFilter, type FilterEntity } from '../src/filters/json-filter.js';
import { countJsonFilter, findJsonPage } from '../src/filters/json-page.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let database: TestDatabase;
let db: PrismaClient;

const day = (d: number) => new Date(Date.UTC(2024, 0, d));

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
  await db.user.createMany({
    data: [
      {
        id: 'u1', name: 'Alice Smith', role: 'admin', language: 'en', teams: ['red', 'blue'], createdAt: day(1),
        custom: { age: 30, country: 'NL', address: { city: 'Delft' }, tags: ['vip', 'beta'], score: 10.5, active: false },
      },
      {
        id: 'u2', name: 'Bob Jones', role: 'user', language: 'nl', teams: ['blue'], createdAt: day(2),
        custom: { age: 17, country: 'DE', address: { city: 'Berlin' }, tags: ['beta'], active: true },
      },
      // Missing name/language, a numeric-looking string age, a JSON null and a scalar "tags".
      { id: 'u3', role: 'user', teams: [], createdAt: day(3), custom: { age: '30', country: null, tags: 'vip' } },
      {
        id: 'u4', name: "carol o'hara", role: 'moderator', language: 'en', teams: ['green'], createdAt: day(4),
        custom: { age: 45, address: { city: 'Delft', zip: '2611' }, tags: [] },
      },
      { id: 'u5', name: 'Dave 100% Real', role: 'user', language: 'de', teams: ['red'], createdAt: day(5), custom: { "we'ird key": 1 } },
      {
        id: 'u6', name: 'Émile Zola', role: 'user', language: 'fr', teams: ['red team'], createdAt: day(6),
        custom: { age: 52, scores: [5, 15], nested: { deep: { x: [1, 2, { y: 1 }] } } },
      },
    ],
  });
  await db.channel.createMany({
    data: [
      { cid: 'messaging:c1', type: 'messaging', id: 'c1', createdById: 'u1', memberCount: 2, custom: { topic: 'sales', priority: 2 } },
      { cid: 'messaging:c2', type: 'messaging', id: 'c2', memberCount: 3, custom: { topic: 'support' } },
      { cid: 'team:c3', type: 'team', id: 'c3', createdById: 'u2', memberCount: 0 },
      { cid: 'team:c4', type: 'team', id: 'c4', createdById: 'u4', memberCount: 1, custom: { priority: 5 } },
    ],
  });
  await db.channelMember.createMany({
    data: [
      ['messaging:c1', 'u1'], ['messaging:c1', 'u2'],
      ['messaging:c2', 'u1'], ['messaging:c2', 'u3'], ['messaging:c2', 'u4'],
      ['team:c4', 'u5'],
    ].map(([channelCid, userId]) => ({ channelCid: channelCid!, userId: userId! })),
  });
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

/** Keys matching the filter, by primary key; also checks countJsonFilter agrees. */
async function match(entity: FilterEntity, filter: unknown): Promise<string[]> {
  const page = await findJsonPage(db, entity, { filter, sort: [{ field: entity === 'user' ? 'id' : 'cid' }], first: 1000 });
  expect(await countJsonFilter(db, entity, filter)).toBe(page.keys.length);
  expect(page.hasNextPage).toBe(false);
  return page.keys;
}

type Case = [string, unknown, string[]];

describe('user filters on built-in fields', () => {
  it.each<Case>([
    ['bare equality', { role: 'admin' }, ['u1']],
    ['$eq', { role: { $eq: 'moderator' } }, ['u4']],
    ['$ne on a NOT NULL column', { role: { $ne: 'user' } }, ['u1', 'u4']],
    ['$ne also matches a NULL column', { name: { $ne: 'Bob Jones' } }, ['u1', 'u3', 'u4', 'u5', 'u6']],
    ['null means missing or null', { name: null }, ['u3']],
    ['$eq null', { language: { $eq: null } }, ['u3']],
    ['$ne null', { language: { $ne: null } }, ['u1', 'u2', 'u4', 'u5', 'u6']],
    ['$exists false', { name: { $exists: false } }, ['u3']],
    ['$exists true', { name: { $exists: true } }, ['u1', 'u2', 'u4', 'u5', 'u6']],
    ['$in', { language: { $in: ['en', 'nl'] } }, ['u1', 'u2', 'u4']],
    ['$in with null', { language: { $in: ['en', null] } }, ['u1', 'u3', 'u4']],
    ['$in empty matches nothing', { language: { $in: [] } }, []],
    ['$nin also matches NULL', { language: { $nin: ['en'] } }, ['u2', 'u3', 'u5', 'u6']],
    ['$nin with null', { language: { $nin: ['en', null] } }, ['u2', 'u5', 'u6']],
    ['$gt on text skips NULL', { name: { $gt: 'C' } }, ['u4', 'u5', 'u6']],
    ['$gte and $lte', { id: { $gte: 'u2', $lte: 'u4' } }, ['u2', 'u3', 'u4']],
    ['$autocomplete on the whole value', { name: { $autocomplete: 'ali' } }, ['u1']],
    ['$autocomplete on a later word', { name: { $autocomplete: 'SMI' } }, ['u1']],
    ['$autocomplete with a quote', { name: { $autocomplete: "o'h" } }, ['u4']],
    ['$autocomplete with LIKE metacharacters', { name: { $autocomplete: '100%' } }, ['u5']],
    ['$autocomplete does not match mid-word', { name: { $autocomplete: '%' } }, []],
    ['$autocomplete treats regex syntax literally', { name: { $autocomplete: '.*' } }, []],
    ['$autocomplete is case-insensitive beyond ASCII', { name: { $autocomplete: 'émi' } }, ['u6']],
    ['$autocomplete across words', { name: { $autocomplete: 'alice SM' } }, ['u1']],
    ['$autocomplete does not match inside a word', { name: { $autocomplete: 'ice' } }, []],
    ['$autocomplete treats _ literally', { name: { $autocomplete: '_' } }, []],
    ['$autocomplete treats % inside the text literally', { name: { $autocomplete: 'a%e' } }, []],
    ['$autocomplete treats a backslash literally', { name: { $autocomplete: '\\' } }, []],
    ['$autocomplete treats brackets literally', { name: { $autocomplete: '[a' } }, []],
    ['$in on the primary key', { id: { $in: ['u1', 'u9'] } }, ['u1']],
  ])('%s', async (_name, filter, expected) => {
    expect(await match('user', filter)).toEqual(expected);
  });
});

describe('user filters on teams (text[])', () => {
  it.each<Case>([
    ['a bare value matches any element', { teams: 'red' }, ['u1', 'u5']],
    ['$in overlaps', { teams: { $in: ['green', 'blue'] } }, ['u1', 'u2', 'u4']],
    ['$nin has none of them', { teams: { $nin: ['red'] } }, ['u2', 'u3', 'u4', 'u6']],
    ['$ne has no such element', { teams: { $ne: 'blue' } }, ['u3', 'u4', 'u5', 'u6']],
    ['$contains', { teams: { $contains: 'blue' } }, ['u1', 'u2']],
    ['an array value is exact', { teams: ['blue'] }, ['u2']],
    ['an empty array value', { teams: [] }, ['u3']],
    ['$autocomplete on any element', { teams: { $autocomplete: 'tea' } }, ['u6']],
    ['$gt on any element', { teams: { $gt: 'g' } }, ['u1', 'u4', 'u5', 'u6']],
  ])('%s', async (_name, filter, expected) => {
    expect(await match('user', filter)).toEqual(expected);
  });
});

describe('user filters on dates', () => {
  it.each<Case>([
    ['a range', { created_at: { $gte: '2024-01-03', $lt: '2024-01-05T00:00:00Z' } }, ['u3', 'u4']],
    ['equality', { created_at: '2024-01-02T00:00:00.000Z' }, ['u2']],
    ['an offset', { created_at: { $lt: '2024-01-02T01:00:00+02:00' } }, ['u1']],
    ['$in', { created_at: { $in: ['2024-01-01', '2024-01-06T00:00'] } }, ['u1', 'u6']],
    ['$nin', { created_at: { $nin: ['2024-01-01', '2024-01-06T00:00'] } }, ['u2', 'u3', 'u4', 'u5']],
    ['$exists', { updated_at: { $exists: true } }, ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']],
  ])('%s', async (_name, filter, expected) => {
    expect(await match('user', filter)).toEqual(expected);
  });
});

describe('user filters on custom fields', () => {
  it.each<Case>([
    ['string equality', { country: 'NL' }, ['u1']],
    ['$ne matches missing and null', { country: { $ne: 'NL' } }, ['u2', 'u3', 'u4', 'u5', 'u6']],
    ['null matches missing and JSON null', { country: null }, ['u3', 'u4', 'u5', 'u6']],
    ['$exists true is present and not null', { country: { $exists: true } }, ['u1', 'u2']],
    ['$exists false', { country: { $exists: false } }, ['u3', 'u4', 'u5', 'u6']],
    ['number equality is type-strict', { age: 30 }, ['u1']],
    ['string equality is type-strict', { age: '30' }, ['u3']],
    ['$gte compares numbers only', { age: { $gte: 18 } }, ['u1', 'u4', 'u6']],
    ['$lt with a string compares strings only', { age: { $lt: '4' } }, ['u3']],
    ['a fractional number', { score: { $gt: 10 } }, ['u1']],
    ['$in', { age: { $in: [17, 45] } }, ['u2', 'u4']],
    ['$in with null', { age: { $in: ['30', null] } }, ['u3', 'u5']],
    ['$nin matches missing', { age: { $nin: [30] } }, ['u2', 'u3', 'u4', 'u5', 'u6']],
    ['booleans', { active: true }, ['u2']],
    ['$ne true', { active: { $ne: true } }, ['u1', 'u3', 'u4', 'u5', 'u6']],
    ['a key with a quote and a space', { "we'ird key": 1 }, ['u5']],
    ['nested equality', { 'address.city': 'Delft' }, ['u1', 'u4']],
    ['nested $ne', { 'address.city': { $ne: 'Delft' } }, ['u2', 'u3', 'u5', 'u6']],
    ['nested $exists', { 'address.zip': { $exists: true } }, ['u4']],
    ['nested $autocomplete', { 'address.city': { $autocomplete: 'DEL' } }, ['u1', 'u4']],
    ['an exact object', { address: { $eq: { city: 'Delft' } } }, ['u1']],
    ['equality matches an array element or the value', { tags: 'vip' }, ['u1', 'u3']],
    ['$contains needs an array', { tags: { $contains: 'vip' } }, ['u1']],
    ['$in on array elements', { tags: { $in: ['beta'] } }, ['u1', 'u2']],
    ['$nin on array elements', { tags: { $nin: ['vip'] } }, ['u2', 'u4', 'u5', 'u6']],
    ['an exact array', { tags: { $eq: ['beta'] } }, ['u2']],
    ['an exact empty array', { tags: [] }, ['u4']],
    ['$autocomplete on array elements', { tags: { $autocomplete: 'VI' } }, ['u1', 'u3']],
    ['an empty array is present', { tags: { $exists: true } }, ['u1', 'u2', 'u3', 'u4']],
    ['$gt on any element', { scores: { $gt: 10 } }, ['u6']],
    ['$lt on any element', { scores: { $lt: 5 } }, []],
    ['deep array element', { 'nested.deep.x': 2 }, ['u6']],
    ['a numeric segment indexes an array', { 'nested.deep.x.0': 1 }, ['u6']],
    ['a path through an array index', { 'nested.deep.x.2.y': { $gte: 1 } }, ['u6']],
    ['$in through an array index', { 'nested.deep.x.1': { $in: [2, 3] } }, ['u6']],
    ['nested $contains', { 'nested.deep.x': { $contains: 1 } }, ['u6']],
  ])('%s', async (_name, filter, expected) => {
    expect(await match('user', filter)).toEqual(expected);
  });
});

describe('logical operators', () => {
  it.each<Case>([
    ['$or', { $or: [{ role: 'admin' }, { teams: { $contains: 'green' } }] }, ['u1', 'u4']],
    ['$and', { $and: [{ teams: 'red' }, { language: 'de' }] }, ['u5']],
    ['$nor', { $nor: [{ role: 'user' }, { country: 'NL' }] }, ['u4']],
    ['$nor keeps rows where the inner test is unknown', { $nor: [{ name: 'Bob Jones' }] }, ['u1', 'u3', 'u4', 'u5', 'u6']],
    ['several keys are ANDed', { role: 'user', teams: 'red' }, ['u5']],
    ['nested logic', { $or: [{ $and: [{ age: { $gte: 18 } }, { 'address.city': 'Delft' }] }, { $nor: [{ tags: { $exists: true } }] }] }, ['u1', 'u4', 'u5', 'u6']],
    ['the spec example', { country: 'NL', age: { $gte: 18 }, $or: [{ role: 'admin' }, { teams: { $contains: 'red' } }] }, ['u1']],
    ['an empty object inside $or matches all', { $or: [{}, { role: 'none' }] }, ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']],
    ['no filter', null, ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']],
  ])('%s', async (_name, filter, expected) => {
    expect(await match('user', filter)).toEqual(expected);
  });
});

describe('channel filters', () => {
  it.each<Case>([
    ['members $in', { members: { $in: ['u2', 'u5'] } }, ['messaging:c1', 'team:c4']],
    ['members bare value', { members: 'u1' }, ['messaging:c1', 'messaging:c2']],
    ['members $contains', { members: { $contains: 'u3' } }, ['messaging:c2']],
    ['members $nin', { members: { $nin: ['u1'] } }, ['team:c3', 'team:c4']],
    ['members $ne', { members: { $ne: 'u1' } }, ['team:c3', 'team:c4']],
    ['members exact set', { members: ['u2', 'u1'] }, ['messaging:c1']],
    ['members exact set is not a subset', { members: { $eq: ['u1'] } }, []],
    ['members empty set', { members: [] }, ['team:c3']],
    ['members $exists false', { members: { $exists: false } }, ['team:c3']],
    ['type', { type: 'team' }, ['team:c3', 'team:c4']],
    ['id $autocomplete', { id: { $autocomplete: 'C' } }, ['messaging:c1', 'messaging:c2', 'team:c3', 'team:c4']],
    ['created_by_id null', { created_by_id: null }, ['messaging:c2']],
    ['created_by_id $ne matches NULL', { created_by_id: { $ne: 'u1' } }, ['messaging:c2', 'team:c3', 'team:c4']],
    ['member_count $gte', { member_count: { $gte: 2 } }, ['messaging:c1', 'messaging:c2']],
    ['member_count $in', { member_count: { $in: [0, 1] } }, ['team:c3', 'team:c4']],
    ['member_count beyond int4 binds', { member_count: { $lt: 10_000_000_000 } }, ['messaging:c1', 'messaging:c2', 'team:c3', 'team:c4']],
    ['custom on channels', { priority: { $gt: 1 }, topic: { $ne: 'sales' } }, ['team:c4']],
    ['custom $autocomplete on channels', { topic: { $autocomplete: 'sup' } }, ['messaging:c2']],
  ])('%s', async (_name, filter, expected) => {
    expect(await match('channel', filter)).toEqual(expected);
  });
});

describe('index use', () => {
  it('answers custom equality on users from the GIN jsonb_path_ops index', async () => {
    const where = compileJsonFilter('user', { country: 'NL' });
    const plan = await db.$transaction(async (tx) => {
      // Six rows would always be scanned sequentially; forbid that to see whether the
      // predicate is indexable at all.
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      return tx.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`EXPLAIN SELECT t.id FROM users t WHERE ${where}`);
    });
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Bitmap Index Scan on users_custom_idx/);
  });

  it('answers teams $in from the GIN index on teams', async () => {
    const where = compileJsonFilter('user', { teams: { $in: ['red', 'blue'] } });
    const plan = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      return tx.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`EXPLAIN SELECT t.id FROM users t WHERE ${where}`);
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Bitmap Index Scan on users_teams_idx/);
  });
});

describe('errors through the database entry points', () => {
  it('reports the path of a bad filter before querying', async () => {
    const error = await countJsonFilter(db, 'user', { $or: [{ role: 'a' }, { age: { $gte: { x: 1 } } }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toEqual(['filter.$or[1].age.$gte']);
  });
});
