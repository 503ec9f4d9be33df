import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { column, entityWhere, type LogicalFilter, type ScalarFilter } from '../src/filters/typed.js';
import { toOrderBy } from '../src/filters/typed-sort.js';
import { ValidationError } from '../src/errors.js';
import { createTestDatabase } from './helpers/database.js';

// The kit is generic; the users table stands in for Beacon's own lists here.
interface UserListFilter extends LogicalFilter<UserListFilter> {
  id?: ScalarFilter<string> | null;
  name?: ScalarFilter<string> | null;
  createdAt?: ScalarFilter<Date> | null;
}
const fields = { id: column<string>('id'), name: column<string>('name', { nullable: true }), createdAt: column<Date>('createdAt') };

let prisma: PrismaClient;
let drop: () => Promise<void>;
beforeAll(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
  await prisma.user.createMany({
    data: [
      { id: 'u1', name: 'Anna Smith', createdAt: new Date('2026-01-01T00:00:00Z') },
      { id: 'u2', name: 'anders', createdAt: new Date('2026-02-01T00:00:00Z') },
      { id: 'u3', name: null, createdAt: new Date('2026-03-01T00:00:00Z') },
      { id: 'u4', name: 'Bob', createdAt: new Date('2026-04-01T00:00:00Z') },
    ],
  });
});
afterAll(async () => {
  await prisma?.$disconnect();
  await drop?.();
});

async function ids(filter: UserListFilter): Promise<string[]> {
  const rows = await prisma.user.findMany({ where: entityWhere(filter, fields), orderBy: { id: 'asc' }, select: { id: true } });
  return rows.map((r) => r.id);
}

describe('typed filters compile to Prisma where', () => {
  test.each([
    [{ id: { eq: 'u1' } }, ['u1']],
    [{ name: { ne: 'Bob' } }, ['u1', 'u2', 'u3']], // ne also matches the missing name
    [{ id: { in: ['u1', 'u4', 'nope'] } }, ['u1', 'u4']],
    [{ name: { nin: ['Bob', 'anders'] } }, ['u1', 'u3']],
    [{ name: { exists: true } }, ['u1', 'u2', 'u4']],
    [{ name: { exists: false } }, ['u3']],
    [{ name: { autocomplete: 'an' } }, ['u1', 'u2']],
    [{ name: { autocomplete: 'ANNA s' } }, ['u1']],
    // LIKE's wildcards and escape character are matched literally.
    [{ name: { autocomplete: '_' } }, []],
    [{ name: { autocomplete: '%' } }, []],
    [{ name: { autocomplete: 'a%h' } }, []],
    [{ name: { autocomplete: '\\' } }, []],
    [{ name: { autocomplete: '.*' } }, []],
    [{ createdAt: { gte: new Date('2026-02-01T00:00:00Z'), lt: new Date('2026-04-01T00:00:00Z') } }, ['u2', 'u3']],
    [{ name: { gt: 'B', lte: 'Bob' } }, ['u4']],
    [{ or: [{ id: { eq: 'u1' } }, { id: { eq: 'u4' } }] }, ['u1', 'u4']],
    [{ and: [{ name: { exists: true } }, { name: { autocomplete: 'b' } }] }, ['u4']],
    [{ nor: [{ id: { eq: 'u1' } }, { name: { exists: false } }] }, ['u2', 'u4']],
    [{ id: { exists: false } }, []],
  ] as [UserListFilter, string[]][])('%j → %j', async (filter, expected) => {
    expect(await ids(filter)).toEqual(expected);
  });

  test('bad filters are VALIDATION errors naming the spot', () => {
    const tooMany = Array.from({ length: 1001 }, (_, i) => `x${i}`);
    expect(() => entityWhere<UserListFilter>({ id: { in: tooMany } }, fields)).toThrow(ValidationError);
    expect(() => entityWhere<UserListFilter>({ or: [] }, fields)).toThrowError(/filter\.or needs at least one/);
    let deep: UserListFilter = { id: { eq: 'x' } };
    for (let i = 0; i < 6; i += 1) deep = { and: [deep] };
    expect(() => entityWhere(deep, fields)).toThrowError(/deeper than 5/);
    expect(() => entityWhere<UserListFilter>({ name: { autocomplete: 'x'.repeat(257) } }, fields)).toThrowError(/at most 256 characters/);
    try {
      entityWhere<UserListFilter>({ or: [{ id: { eq: 'a' } }, { name: { in: tooMany } }] }, fields);
    } catch (error) {
      expect((error as ValidationError).path).toEqual(['filter.or[1].name.in']);
    }
  });

  test('a filter has one size budget across its and/or/nor branches', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `id-${i}`);
    const filter: UserListFilter = { or: Array.from({ length: 1000 }, () => ({ id: { in: values } })) };
    try {
      entityWhere(filter, fields);
      expect.fail('expected a ValidationError');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(/more than 10000 values/);
      expect((error as ValidationError).path[0]).toMatch(/^filter\.or\[9\]\.id\.in\[\d+\]$/);
    }
    expect(() => entityWhere<UserListFilter>({ or: Array.from({ length: 9 }, () => ({ id: { in: values } })) }, fields)).not.toThrow();
  });

  test('sort keys become an orderBy ending with the primary key', () => {
    const columns = { name: 'name', createdAt: 'createdAt' } as const;
    expect(toOrderBy([{ field: 'name', direction: 'DESC' }], columns, 'id', [])).toEqual([{ name: 'desc' }, { id: 'asc' }]);
    expect(toOrderBy(null, columns, 'id', [{ field: 'createdAt' }])).toEqual([{ createdAt: 'asc' }, { id: 'asc' }]);
  });
});
