// Pure checks of the JSON filter compiler, sort and cursor validation: no database needed.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { parseIsoDate } from '../src/filters/fields.js';
import { compileJsonFilter, type FilterEntity } from '../src/filters/json-filter.js';
import { escapeLike } from '../src/filters/json-filter-sql.js';
import { findJsonPage, type RawQueryable } from '../src/filters/json-page.js';
import { compileSort, encodeCursor, sortFingerprint } from '../src/filters/json-sort.js';

function validationError(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

function nested(levels: number): unknown {
  return levels === 0 ? { role: 'admin' } : { $or: [nested(levels - 1)] };
}

/** A database that must not be reached: validation happens before any query. */
const noDatabase: RawQueryable = {
  $queryRaw: () => Promise.reject(new Error('the database should not be queried')),
};

describe('compileJsonFilter validation', () => {
  const cases: [string, FilterEntity, unknown, string, RegExp][] = [
    ['an array filter', 'user', [], 'filter', /must be a JSON object/],
    ['a string filter', 'user', 'role=admin', 'filter', /must be a JSON object/],
    ['an unknown top-level operator', 'user', { $foo: 1 }, 'filter.$foo', /Unknown operator "\$foo"/],
    ['a comparison operator at the top level', 'user', { $eq: 1 }, 'filter.$eq', /must be applied to a field/],
    ['an unknown field operator', 'user', { age: { $foo: 1 } }, 'filter.age.$foo', /Unknown operator "\$foo"/],
    ['an object comparison operand', 'user', { age: { $gte: {} } }, 'filter.age.$gte', /number or a string, got an object/],
    ['a boolean comparison operand', 'user', { age: { $gte: true } }, 'filter.age.$gte', /number or a string, got a boolean/],
    ['a number for name', 'user', { name: 5 }, 'filter.name', /expects a string, got a number/],
    ['a non-array $in', 'user', { name: { $in: 'a' } }, 'filter.name.$in', /"\$in" expects an array/],
    ['a non-array $nin names $nin', 'user', { name: { $nin: 'a' } }, 'filter.name.$nin', /"\$nin" expects an array/],
    ['a number in teams.$in', 'user', { teams: { $in: ['red', 1] } }, 'filter.teams.$in[1]', /expects strings, got a number/],
    ['1,001 values in $in', 'user', { teams: { $in: Array.from({ length: 1001 }, (_, i) => `t${i}`) } }, 'filter.teams.$in', /at most 1000/],
    ['1,001 values in custom $nin', 'user', { x: { $nin: Array(1001).fill(1) } }, 'filter.x.$nin', /at most 1000/],
    ['a non-boolean $exists', 'user', { name: { $exists: 'yes' } }, 'filter.name.$exists', /expects a boolean/],
    ['an empty $and', 'user', { $and: [] }, 'filter.$and', /non-empty array/],
    ['an object $or', 'user', { $or: {} }, 'filter.$or', /non-empty array/],
    ['a bad operand inside $or', 'user', { $or: [{ role: 'a' }, { age: { $gt: [] } }] }, 'filter.$or[1].age.$gt', /got an array/],
    ['a non-object $or item', 'user', { $or: [{ role: 'a' }, 1] }, 'filter.$or[1]', /must be a JSON object/],
    ['a deep path error', 'user', { $nor: [{ $and: [{ x: { $exists: 1 } }] }] }, 'filter.$nor[0].$and[0].x.$exists', /boolean/],
    ['nesting deeper than 5', 'user', nested(6), 'filter.$or[0].$or[0].$or[0].$or[0].$or[0].$or', /deeper than 5/],
    ['an empty custom segment', 'user', { 'a..b': 1 }, 'filter.a..b', /empty path segment/],
    ['a $-prefixed custom segment', 'user', { 'a.$b': 1 }, 'filter.a.$b', /starting with "\$"/],
    ['11 custom segments', 'user', { [Array(11).fill('a').join('.')]: 1 }, `filter.${Array(11).fill('a').join('.')}`, /at most 10/],
    ['a 65-character segment', 'user', { ['k'.repeat(65)]: 1 }, `filter.${'k'.repeat(65)}`, /longer than 64/],
    ['a non-date for created_at', 'user', { created_at: { $gt: 'yesterday' } }, 'filter.created_at.$gt', /ISO 8601/],
    ['a number for created_at', 'user', { updated_at: { $lt: 1700000000 } }, 'filter.updated_at.$lt', /ISO 8601/],
    ['an impossible date', 'user', { created_at: '2024-02-30' }, 'filter.created_at', /ISO 8601/],
    ['a bad date in $in', 'user', { created_at: { $in: ['2024-01-01', 'x'] } }, 'filter.created_at.$in[1]', /ISO 8601/],
    ['$contains on a string field', 'user', { name: { $contains: 'a' } }, 'filter.name.$contains', /cannot be used on "name"/],
    ['$autocomplete on a date', 'user', { created_at: { $autocomplete: '2' } }, 'filter.created_at.$autocomplete', /cannot be used/],
    ['$autocomplete with a number', 'user', { teams: { $autocomplete: 5 } }, 'filter.teams.$autocomplete', /expects a string/],
    ['a fraction for member_count', 'channel', { member_count: 1.5 }, 'filter.member_count', /integer/],
    ['a string for member_count', 'channel', { member_count: { $gte: '3' } }, 'filter.member_count.$gte', /integer/],
    ['$gt on members', 'channel', { members: { $gt: 'a' } }, 'filter.members.$gt', /cannot be used on "members"/],
    ['a number in members.$in', 'channel', { members: { $in: ['a', 1] } }, 'filter.members.$in[1]', /user ids/],
    ['$autocomplete on members', 'channel', { members: { $autocomplete: 'a' } }, 'filter.members.$autocomplete', /cannot be used/],
    ['a plain object value', 'user', { address: { city: 'Delft' } }, 'filter.address', /dotted name \("address.city"\)/],
    ['an empty operator object', 'user', { address: {} }, 'filter.address', /empty operator object/],
    ['a non-operator key beside operators', 'user', { age: { $gt: 1, lt: 2 } }, 'filter.age.lt', /Expected an operator/],
    ['an array $contains operand', 'user', { tags: { $contains: ['a'] } }, 'filter.tags.$contains', /string, number or boolean/],
    ['an object in custom $in', 'user', { tags: { $in: ['a', { a: 1 }] } }, 'filter.tags.$in[1]', /strings, numbers, booleans or null/],
    ['a NUL character', 'user', { name: 'a\u0000b' }, 'filter.name', /NUL/],
    ['a non-finite number', 'user', { age: { $gt: Number.NaN } }, 'filter.age.$gt', /finite/],
    ['a $contains on teams with a number', 'user', { teams: { $contains: 1 } }, 'filter.teams.$contains', /expects a string/],
    ['a user field on channels is custom, but $in must be an array', 'channel', { role: { $in: 1 } }, 'filter.role.$in', /array/],
  ];
  it.each(cases)('rejects %s', (_name, entity, filter, path, message) => {
    const error = validationError(() => compileJsonFilter(entity, filter));
    expect(error.code).toBe('VALIDATION');
    expect(error.path).toEqual([path]);
    expect(error.message).toMatch(message);
  });

  it('uses the given base path', () => {
    expect(validationError(() => compileJsonFilter('user', { name: 1 }, 'input.filter')).path).toEqual(['input.filter.name']);
  });

  it('allows five levels of logical nesting', () => {
    expect(() => compileJsonFilter('user', nested(5))).not.toThrow();
  });

  it('compiles null, undefined and {} to TRUE', () => {
    for (const filter of [null, undefined, {}]) expect(compileJsonFilter('user', filter).sql).toBe('TRUE');
  });

  it('never puts user text into the SQL text', () => {
    const evil = `x'); DROP TABLE users; --`;
    const sql = compileJsonFilter('user', {
      name: evil,
      [`${evil}.k`]: { $autocomplete: evil, $gt: evil, $in: [evil], $contains: evil },
      teams: { $in: [evil] },
      created_at: { $gte: '2024-01-01' },
    });
    expect(sql.sql).not.toContain('DROP');
    expect(sql.values.some((v) => JSON.stringify(v).includes('DROP'))).toBe(true);
  });
});

describe('$autocomplete', () => {
  it('escapes LIKE wildcards and the escape character, nothing else', () => {
    expect(escapeLike('100%_a\\b.*(c)')).toBe('100\\%\\_a\\\\b.*(c)');
  });

  it('compiles to ILIKE with the text as a parameter, never to a regular expression', () => {
    for (const filter of [{ name: { $autocomplete: 'a.b*(' } }, { teams: { $autocomplete: '[x' } }, { city: { $autocomplete: '(?' } }]) {
      const sql = compileJsonFilter('user', filter);
      expect(sql.sql).toContain('ILIKE');
      expect(sql.sql).not.toMatch(/~|regexp|SIMILAR/i);
    }
  });

  it('refuses a text over 256 characters, naming its path, before building anything', () => {
    const long = 'a'.repeat(1_000_000);
    expect(validationError(() => compileJsonFilter('user', { name: { $autocomplete: long } })).path).toEqual(['filter.name.$autocomplete']);
    expect(validationError(() => compileJsonFilter('user', { $or: [{ 'a.b': { $autocomplete: 'b'.repeat(257) } }] })).message).toMatch(/at most 256/);
    expect(() => compileJsonFilter('user', { name: { $autocomplete: 'a'.repeat(256) } })).not.toThrow();
  });
});

describe('size budget of a filter', () => {
  const strings = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it("refuses the issue's 1,000 × $in of 1,000 strings where 10,000 values are crossed", () => {
    const filter = { $or: Array.from({ length: 1000 }, () => ({ country: { $in: strings(1000) } })) };
    const error = validationError(() => compileJsonFilter('user', filter));
    expect(error.message).toMatch(/more than 10000 values/);
    expect(error.path).toEqual(['filter.$or[9].country.$in[990]']);
  });

  it('stops reading the filter where the budget is crossed', () => {
    const branch = { country: { $in: strings(1000) } };
    // Branches past the 20th throw when read: the compiler must have stopped before them.
    const branches = new Proxy(Array.from({ length: 1000 }, () => branch), {
      get(target, key, receiver) {
        if (typeof key === 'string' && Number(key) >= 20) throw new Error(`read branch ${key} past the budget`);
        return Reflect.get(target, key, receiver);
      },
    });
    expect(validationError(() => compileJsonFilter('user', { $or: branches })).path).toEqual(['filter.$or[9].country.$in[990]']);
  });

  it('counts string lengths across the filter', () => {
    const long = Array.from({ length: 50 }, () => 'x'.repeat(2500));
    const error = validationError(() => compileJsonFilter('user', { name: { $in: long } }));
    expect(error.message).toMatch(/longer than 100000 characters/);
    expect(error.path).toEqual(['filter.name.$in[39]']);
  });

  it('counts conditions, empty ones included', () => {
    const error = validationError(() => compileJsonFilter('user', { $or: Array.from({ length: 1001 }, () => ({})) }));
    expect(error.message).toMatch(/more than 1000 conditions/);
    expect(error.path).toEqual(['filter.$or[1000]']);
  });

  it('walks any depth of an operand without recursion', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20_000; i += 1) deep = [deep];
    expect(validationError(() => compileJsonFilter('user', { tags: { $eq: deep } })).message).toMatch(/more than 10000 values/);
  });

  it('lets a large filter within the budget through', () => {
    const filter = { $or: Array.from({ length: 9 }, (_, i) => ({ country: { $in: strings(1000, `c${i}-`) } })) };
    expect(() => compileJsonFilter('user', filter)).not.toThrow();
  });
});

describe('parseIsoDate', () => {
  it.each([
    ['2024-05-01', '2024-05-01T00:00:00Z'],
    ['2024-05-01T10:00', '2024-05-01T10:00:00Z'],
    ['2024-05-01T10:00:05.123456+02:00', '2024-05-01T10:00:05.123456+02:00'],
    ['2024-05-01 10:00:05.1+00', '2024-05-01T10:00:05.1+00'],
    ['2024-05-01t10:00:05z', '2024-05-01T10:00:05Z'],
  ])('reads %s', (input, output) => expect(parseIsoDate(input)).toBe(output));

  it.each(['2024-13-01', '2024-02-30', '2024-05-01T25:00', '1 May 2024', '', '2024-05-01T10:00:05.1234567Z'])(
    'refuses %s',
    (input) => expect(parseIsoDate(input)).toBeNull(),
  );
});

describe('sort and page argument validation', () => {
  const cases: [string, FilterEntity, Parameters<typeof findJsonPage>[2], string, RegExp][] = [
    ['first below 0', 'user', { first: -1 }, 'first', /from 0 to 1000/],
    ['first above 1,000', 'user', { first: 1001 }, 'first', /from 0 to 1000/],
    ['a fractional first', 'user', { first: 2.5 }, 'first', /integer/],
    ['six sort fields', 'user', { sort: ['a', 'b', 'c', 'd', 'e', 'f'].map((field) => ({ field })) }, 'sort', /At most 5/],
    ['sorting on teams', 'user', { sort: [{ field: 'teams' }] }, 'sort[0].field', /cannot be sorted/],
    ['sorting on members', 'channel', { sort: [{ field: 'name' }, { field: 'members' }] }, 'sort[1].field', /cannot be sorted/],
    ['a duplicate sort field', 'user', { sort: [{ field: 'name' }, { field: 'name', direction: 'DESC' }] }, 'sort[1].field', /twice/],
    ['a bad direction', 'user', { sort: [{ field: 'name', direction: 'UP' as 'ASC' }] }, 'sort[0].direction', /ASC or DESC/],
    ['an operator as sort field', 'user', { sort: [{ field: '$or' }] }, 'sort[0].field', /starting with "\$"/],
    ['a malformed cursor', 'user', { after: 'not a cursor!' }, 'after', /Invalid cursor/],
    ['a base64 non-JSON cursor', 'user', { after: Buffer.from('{{').toString('base64url') }, 'after', /Invalid cursor/],
    ['a bad filter', 'user', { filter: { name: { $in: 3 } } }, 'filter.name.$in', /array/],
  ];
  it.each(cases)('rejects %s', async (_name, entity, args, path, message) => {
    const error = await findJsonPage(noDatabase, entity, args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toEqual([path]);
    expect((error as ValidationError).message).toMatch(message);
  });

  it('rejects a cursor made for another sort order', async () => {
    const byName = compileSort('user', [{ field: 'name' }]);
    const cursor = encodeCursor(sortFingerprint('user', byName), ['ann', 'u1']);
    const error = await findJsonPage(noDatabase, 'user', { sort: [{ field: 'name', direction: 'DESC' }], after: cursor }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toEqual(['after']);
    expect((error as ValidationError).message).toMatch(/different sort order/);
  });

  it('rejects a cursor whose values do not fit the sort keys', async () => {
    const keys = compileSort('user', [{ field: 'created_at' }]);
    const cursor = encodeCursor(sortFingerprint('user', keys), ['not a date', 'u1']);
    const error = await findJsonPage(noDatabase, 'user', { after: cursor }).catch((e: unknown) => e);
    expect((error as ValidationError).path).toEqual(['after']);
  });

  it('appends the primary key as the last sort key', () => {
    expect(compileSort('user', null).map((k) => k.field)).toEqual(['created_at', 'id']);
    expect(compileSort('channel', [{ field: 'id' }]).map((k) => k.field)).toEqual(['id', 'cid']);
    expect(compileSort('user', [{ field: 'id', direction: 'DESC' }]).map((k) => k.field)).toEqual(['id']);
  });
});
