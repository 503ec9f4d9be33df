// Keyset paging of JSON-filtered users and channels against real PostgreSQL: every page
// sequence must add up to the full ordered result, with NULLs, ties, mixed directions and
// custom-field sorts.
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma, PrismaClient } from '../src/generated/prisma/client.js';
import { ValidationError } from '../src/errors.js';
import type { FilterEntity } from '../src/filters/json-filter.js';
import { findJsonPage, type JsonPageArgs } from '../src/filters/json-page.js';
import type { SortInput } from '../src/filters/json-sort.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let database: TestDatabase;
let db: PrismaClient;

type Json = string | number | boolean | null | undefined;
interface Row {
  key: string;
  fields: Record<string, Json>;
}

const BASE = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

// 40 users: NULL names and languages, duplicate names, created_at ties, and a custom `score`
// that is missing, JSON null, a string or a number.
const users: Row[] = Array.from({ length: 40 }, (_, i) => {
  const score = i % 6 === 0 ? undefined : i % 6 === 1 ? null : i % 6 === 2 ? `s${i % 4}` : i % 5;
  return {
    key: `p${String(i).padStart(2, '0')}`,
    fields: {
      name: i % 5 === 0 ? null : `${['ann', 'bob', 'cy', 'dee'][i % 4]}${i % 3}`,
      language: i % 3 === 0 ? null : ['en', 'nl'][i % 2]!,
      role: i % 4 === 0 ? 'admin' : 'user',
      created_at: BASE + (i % 7) * DAY,
      updated_at: BASE + (40 - i) * 1000,
      score,
      'profile.rank': i % 2 === 0 ? i % 3 : undefined,
    },
  };
});

// 12 channels: NULL creators and duplicate member counts.
const channels: Row[] = Array.from({ length: 12 }, (_, i) => ({
  key: `messaging:ch${String(i).padStart(2, '0')}`,
  fields: {
    created_by_id: i % 3 === 0 ? null : `p${String(i % 4).padStart(2, '0')}`,
    member_count: i % 4,
    type: 'messaging',
    created_at: BASE + (i % 2) * DAY,
  },
}));

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
  await db.user.createMany({
    data: users.map(({ key, fields: f }) => ({
      id: key,
      name: f.name as string | null,
      language: f.language as string | null,
      role: f.role as string,
      createdAt: new Date(f.created_at as number),
      updatedAt: new Date(f.updated_at as number),
      custom: {
        ...(f.score !== undefined ? { score: f.score } : {}),
        ...(f['profile.rank'] !== undefined ? { profile: { rank: f['profile.rank'] } } : {}),
      },
    })),
  });
  await db.channel.createMany({
    data: channels.map(({ key, fields: f }) => ({
      cid: key,
      type: 'messaging',
      id: key.slice('messaging:'.length),
      createdById: f.created_by_id as string | null,
      memberCount: f.member_count as number,
      createdAt: new Date(f.created_at as number),
    })),
  });
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

/** jsonb's order of types: null < string < number < boolean (missing counts as null). */
function typeRank(value: Json): number {
  if (value === null || value === undefined) return 0;
  return { string: 1, number: 2, boolean: 3 }[typeof value as 'string' | 'number' | 'boolean'];
}

function compareValues(a: Json, b: Json): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (a === b || ra === 0) return 0;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

/** The expected order, computed in JavaScript: NULL/missing smallest, key last. */
function expectedOrder(rows: Row[], sort: SortInput[], keep: (row: Row) => boolean = () => true): string[] {
  return rows
    .filter(keep)
    .sort((x, y) => {
      for (const { field, direction } of sort) {
        const value = (row: Row) => (field === 'id' || field === 'cid' ? row.key : row.fields[field]);
        const c = compareValues(value(x), value(y));
        if (c !== 0) return direction === 'DESC' ? -c : c;
      }
      return x.key < y.key ? -1 : x.key > y.key ? 1 : 0;
    })
    .map((row) => row.key);
}

/** Walks all pages of `size`, checking page info on the way; returns the keys in order. */
async function pageThrough(entity: FilterEntity, args: JsonPageArgs, size: number): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await findJsonPage(db, entity, { ...args, first: size, after });
    expect(page.hasPreviousPage).toBe(after !== null);
    expect(page.cursors).toHaveLength(page.keys.length);
    expect(page.startCursor).toBe(page.cursors[0] ?? null);
    expect(page.endCursor).toBe(page.cursors.at(-1) ?? null);
    seen.push(...page.keys);
    if (!page.hasNextPage) return seen;
    expect(page.keys).toHaveLength(size);
    after = page.endCursor;
  }
  throw new Error('paging did not end');
}

const userSorts: [string, SortInput[]][] = [
  ['the default sort (created_at ASC with ties)', [{ field: 'created_at' }]],
  ['a nullable column ascending', [{ field: 'name', direction: 'ASC' }]],
  ['a nullable column descending', [{ field: 'name', direction: 'DESC' }]],
  ['two nullable columns in mixed directions', [{ field: 'language' }, { field: 'name', direction: 'DESC' }]],
  ['nullable DESC then a date ASC', [{ field: 'language', direction: 'DESC' }, { field: 'created_at' }]],
  ['a custom field of mixed types', [{ field: 'score' }]],
  ['a custom field DESC then a date DESC', [{ field: 'score', direction: 'DESC' }, { field: 'updated_at', direction: 'DESC' }]],
  ['a nested custom field then a nullable column', [{ field: 'profile.rank', direction: 'DESC' }, { field: 'name' }]],
  ['one date descending (row comparison)', [{ field: 'updated_at', direction: 'DESC' }]],
  ['the primary key descending', [{ field: 'id', direction: 'DESC' }]],
];

describe('keyset paging of users', () => {
  it.each(userSorts)('pages through %s', async (_name, sort) => {
    const expected = expectedOrder(users, sort.length ? sort : [{ field: 'created_at' }]);
    const full = await findJsonPage(db, 'user', { sort, first: 1000 });
    expect(full.keys).toEqual(expected);
    for (const size of [1, 3, 7]) {
      const seen = await pageThrough('user', { sort }, size);
      expect(seen).toEqual(expected);
      expect(new Set(seen).size).toBe(seen.length);
    }
  });

  it.each(userSorts)('pages through a filtered list by %s', async (_name, sort) => {
    const filter = { role: 'user', $or: [{ language: { $ne: 'en' } }, { score: { $exists: true } }] };
    const keep = (row: Row) =>
      row.fields.role === 'user' && (row.fields.language !== 'en' || (row.fields.score !== undefined && row.fields.score !== null));
    const expected = expectedOrder(users, sort, keep);
    expect(expected.length).toBeGreaterThan(10);
    expect(await pageThrough('user', { filter, sort }, 4)).toEqual(expected);
  });

  it('uses created_at ASC when no sort is given', async () => {
    const page = await findJsonPage(db, 'user', { first: 1000 });
    expect(page.keys).toEqual(expectedOrder(users, [{ field: 'created_at' }]));
  });

  it('first: 0 returns no rows but tells whether there are any', async () => {
    const page = await findJsonPage(db, 'user', { first: 0 });
    expect(page).toEqual({ keys: [], cursors: [], hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('defaults to 100 rows a page', async () => {
    const page = await findJsonPage(db, 'user', {});
    expect(page.keys).toHaveLength(40);
    expect(page.hasNextPage).toBe(false);
  });

  it('returns an empty last page after the last cursor', async () => {
    const all = await findJsonPage(db, 'user', { sort: [{ field: 'name' }] });
    const after = await findJsonPage(db, 'user', { sort: [{ field: 'name' }], after: all.endCursor });
    expect(after).toMatchObject({ keys: [], hasNextPage: false, hasPreviousPage: true, endCursor: null });
  });

  it('continues after a cursor whose row was deleted', async () => {
    await db.user.createMany({
      data: ['z1', 'z2', 'z3'].map((id) => ({ id, role: 'temp', custom: { tmp: true } })),
    });
    const first = await findJsonPage(db, 'user', { filter: { role: 'temp' }, sort: [{ field: 'id' }], first: 1 });
    await db.user.delete({ where: { id: 'z1' } });
    const next = await findJsonPage(db, 'user', { filter: { role: 'temp' }, sort: [{ field: 'id' }], after: first.endCursor });
    expect(next.keys).toEqual(['z2', 'z3']);
    expect(next.hasPreviousPage).toBe(false); // z1 is gone: nothing matching sits before the cursor
    await db.user.deleteMany({ where: { role: 'temp' } });
  });

  it('keeps big custom numbers exact in cursors', async () => {
    // 2^53 and 2^53 + 1 are one number in JavaScript but two in jsonb; a cursor that went
    // through a JS number would skip or repeat a row.
    await db.$executeRaw`UPDATE users SET custom = custom || jsonb_build_object('big', (9007199254740990 + right(id, 2)::int % 4)::numeric) WHERE id < 'p08'`;
    const expected = await db.$queryRaw<{ id: string }[]>(
      Prisma.sql`SELECT id FROM users ORDER BY COALESCE(custom->'big', 'null'::jsonb) DESC, id`,
    );
    const seen = await pageThrough('user', { sort: [{ field: 'big', direction: 'DESC' }] }, 1);
    expect(seen).toEqual(expected.map((r) => r.id));
    await db.$executeRaw`UPDATE users SET custom = custom - 'big'`;
  });
});

describe('keyset paging of channels', () => {
  const sorts: SortInput[][] = [
    [{ field: 'created_by_id', direction: 'DESC' }, { field: 'member_count' }],
    [{ field: 'created_by_id' }],
    [{ field: 'member_count', direction: 'DESC' }, { field: 'created_at', direction: 'DESC' }],
  ];
  it.each(sorts.map((s) => [JSON.stringify(s), s] as const))('pages through %s', async (_name, sort) => {
    const expected = expectedOrder(channels, [...sort]);
    for (const size of [1, 5]) expect(await pageThrough('channel', { sort: [...sort] }, size)).toEqual(expected);
  });

  it('pages through a filtered list', async () => {
    const sort: SortInput[] = [{ field: 'created_by_id' }, { field: 'member_count', direction: 'DESC' }];
    const expected = expectedOrder(channels, sort, (row) => row.fields.member_count !== 2);
    expect(await pageThrough('channel', { filter: { member_count: { $ne: 2 } }, sort }, 2)).toEqual(expected);
  });
});

describe('cursor checks', () => {
  async function afterError(entity: FilterEntity, args: JsonPageArgs): Promise<ValidationError> {
    const error = await findJsonPage(db, entity, args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toEqual(['after']);
    return error as ValidationError;
  }

  it('refuses a cursor from another sort', async () => {
    const page = await findJsonPage(db, 'user', { sort: [{ field: 'name' }], first: 2 });
    expect((await afterError('user', { sort: [{ field: 'language' }], after: page.endCursor })).message).toMatch(/different sort/);
    expect((await afterError('user', { sort: [{ field: 'name', direction: 'DESC' }], after: page.endCursor })).message).toMatch(/different sort/);
  });

  it('refuses a user cursor on channels', async () => {
    const page = await findJsonPage(db, 'user', { first: 1 });
    await afterError('channel', { after: page.endCursor });
  });

  it('refuses a tampered cursor', async () => {
    const page = await findJsonPage(db, 'user', { first: 1 });
    const [fingerprint, , id] = JSON.parse(Buffer.from(page.endCursor!, 'base64url').toString()) as unknown[];
    const tampered = Buffer.from(JSON.stringify([fingerprint, 'yesterday', id])).toString('base64url');
    await afterError('user', { after: tampered });
    await afterError('user', { after: `${page.endCursor}!` });
    await afterError('user', { after: '' });
  });

  it('accepts a cursor with the same sort and another filter', async () => {
    const page = await findJsonPage(db, 'user', { first: 5 });
    const next = await findJsonPage(db, 'user', { filter: { role: 'admin' }, after: page.endCursor });
    const expected = expectedOrder(users, [{ field: 'created_at' }]);
    const rest = expected.slice(5).filter((key) => users.find((u) => u.key === key)!.fields.role === 'admin');
    expect(next.keys).toEqual(rest);
  });
});
