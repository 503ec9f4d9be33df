/**
 * The segment filter builder's model (src/dashboard/segments/filter-model.ts): every filter
 * of the operator syntax it takes comes back from the builder tree unchanged, key order
 * included, and what it cannot show is refused rather than altered.
 */
import { describe, expect, it } from 'vitest';
import {
  fromJson,
  toJson,
  updateNode,
  emptyRow,
  parseValue,
  defaultValue,
  type FilterGroup,
  type FilterRow,
} from '../src/dashboard/segments/filter-model.js';

function roundTrip(filter: unknown): unknown {
  const parsed = fromJson(filter);
  if (!parsed.ok) throw new Error(parsed.reason);
  return toJson(parsed.root);
}

const ROUND_TRIPS: [string, unknown][] = [
  ['an empty filter', {}],
  ['a bare value ($eq)', { country: 'NL' }],
  ['an explicit $eq', { country: { $eq: 'NL' } }],
  ['$ne', { role: { $ne: 'admin' } }],
  ['$gt', { age: { $gt: 17 } }],
  ['$gte', { age: { $gte: 18 } }],
  ['$lt', { age: { $lt: 65 } }],
  ['$lte', { age: { $lte: 64.5 } }],
  ['$in with strings', { language: { $in: ['nl', 'de'] } }],
  ['$nin with numbers', { level: { $nin: [1, 2, 3] } }],
  ['$exists true', { email: { $exists: true } }],
  ['$exists false', { email: { $exists: false } }],
  ['$autocomplete', { name: { $autocomplete: 'jo' } }],
  ['$contains', { teams: { $contains: 'red' } }],
  ['a boolean value', { vip: true }],
  ['a null value', { nickname: null }],
  ['a bare list', { teams: ['red', 'blue'] }],
  ['date strings', { created_at: { $gte: '2026-01-01T00:00:00Z' } }],
  ['two operators on one field', { age: { $gte: 18, $lt: 65 } }],
  ['custom fields with dots', { 'address.city': 'Delft', 'address.geo.lat': { $gt: 51.9 } }],
  ['several fields ANDed', { country: 'NL', age: { $gte: 18 }, vip: false }],
  ['the spec example', { country: 'NL', age: { $gte: 18 }, $or: [{ role: 'admin' }, { teams: { $contains: 'red' } }] }],
  ['$and', { $and: [{ a: 1 }, { b: { $ne: 2 } }] }],
  ['$nor', { $nor: [{ role: 'guest' }, { banned: true }] }],
  [
    'nested groups with several keys per element',
    {
      $or: [
        { country: 'NL', age: { $gte: 18, $lte: 30 } },
        { $and: [{ role: 'admin' }, { $nor: [{ 'profile.locked': true }] }] },
        { teams: { $in: ['red'] }, $or: [{ x: 1 }, { y: { $exists: false } }] },
      ],
      name: { $autocomplete: 'an' },
    },
  ],
  ['an $and inside an element', { $or: [{ $and: [{ a: 1 }, { a: 2 }] }] }],
  ['an empty $or (the API rejects it; the builder keeps it)', { $or: [] }],
  ['fields after groups keep their order', { $or: [{ a: 1 }], b: 2, $and: [{ c: 3 }], d: { $ne: 4 } }],
];

describe('filter builder round-trip', () => {
  it.each(ROUND_TRIPS)('%s comes back unchanged, key order included', (_name, filter) => {
    const back = roundTrip(filter);
    expect(back).toEqual(filter);
    expect(JSON.stringify(back)).toBe(JSON.stringify(filter));
  });

  it('reads rows with field, operator, value and groups', () => {
    const parsed = fromJson({ 'address.city': 'Delft', age: { $gte: 18, $lt: 65 }, $or: [{ role: 'admin' }, { a: 1, b: 2 }] });
    if (!parsed.ok) throw new Error(parsed.reason);
    const [city, from, to, or] = parsed.root.children;
    expect(city).toMatchObject({ kind: 'row', field: 'address.city', operator: '$eq', value: 'Delft', bare: true });
    expect(from).toMatchObject({ kind: 'row', field: 'age', operator: '$gte', value: 18, bare: false });
    expect(to).toMatchObject({ kind: 'row', field: 'age', operator: '$lt', value: 65 });
    expect(or).toMatchObject({ kind: 'group', op: '$or', implicit: false });
    const group = or as FilterGroup;
    expect(group.children[0]).toMatchObject({ kind: 'row', field: 'role', value: 'admin' });
    expect(group.children[1]).toMatchObject({ kind: 'group', op: '$and', implicit: true });
  });

  it.each([
    ['an array', [{ a: 1 }]],
    ['a scalar', 'NL'],
    ['an object value (equality with a sub-document)', { address: { city: 'Delft' } }],
    ['an unknown operator', { age: { $between: [1, 2] } }],
    ['operators mixed with plain keys', { age: { $gt: 1, max: 2 } }],
    ['an empty condition', { age: {} }],
    ['a list of objects as a value', { tags: { $in: [{ a: 1 }] } }],
    ['a group that is not a list', { $or: { a: 1 } }],
    ['a group element that is not an object', { $or: [1] }],
    ['a nested unsupported value', { $or: [{ a: { b: 1 } }] }],
  ])('refuses %s, leaving the JSON view', (_name, filter) => {
    const parsed = fromJson(filter);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(/JSON/);
  });

  it('writes rows the user adds, merging operators of one field and falling back to $and on a clash', () => {
    const parsed = fromJson({ age: { $gte: 18 } });
    if (!parsed.ok) throw new Error(parsed.reason);
    const add = (root: FilterGroup, row: Partial<FilterRow>): FilterGroup => ({ ...root, children: [...root.children, { ...emptyRow(), ...row }] });
    const twoOnAge = add(parsed.root, { field: 'age', operator: '$lt', value: 65 });
    expect(toJson(twoOnAge)).toEqual({ age: { $gte: 18, $lt: 65 } });
    const clash = add(twoOnAge, { field: 'age', operator: '$gte', value: 21 });
    expect(toJson(clash)).toEqual({ $and: [{ age: { $gte: 18 } }, { age: { $lt: 65 } }, { age: { $gte: 21 } }] });
    const removed = updateNode(clash, clash.children[2]!.id, () => null);
    expect(toJson(removed)).toEqual({ age: { $gte: 18, $lt: 65 } });
  });

  it('types values from the inputs and adapts them to the operator', () => {
    expect(parseValue('18', 'number')).toBe(18);
    expect(parseValue('x', 'number')).toBeUndefined();
    expect(parseValue('007', 'string')).toBe('007');
    expect(parseValue('true', 'boolean')).toBe(true);
    expect(parseValue('1, 2,3', 'list')).toEqual([1, 2, 3]);
    expect(parseValue('nl, de', 'list')).toEqual(['nl', 'de']);
    expect(defaultValue('$in', 'nl')).toEqual(['nl']);
    expect(defaultValue('$exists', 'nl')).toBe(true);
    expect(defaultValue('$eq', ['nl', 'de'])).toBe('nl');
  });
});
