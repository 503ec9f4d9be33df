/**
 * Sorting and keyset cursors for the JSON-filtered `users` / `channels` lists.
 *
 * A sort is up to 5 keys (built-in columns or custom JSONB paths) plus the primary key as
 * the final tiebreaker, so the order is total and a cursor names exactly one position. The
 * order puts NULL first when ascending and last when descending on every key — the same
 * place jsonb gives JSON `null` and MongoDB gives missing values — so built-in and custom
 * fields sort alike.
 *
 * A cursor is base64url JSON `[fingerprint, v1, …, vn, primaryKey]`: the row's sort values
 * in a form that binds back exactly (timestamps as ISO text, custom values as JSON text, so
 * no precision is lost in JavaScript numbers) and a fingerprint of entity + sort spec, so a
 * cursor from another sort is refused instead of silently paging wrong.
 */
import { createHash } from 'node:crypto';
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError, joinPath } from '../errors.js';
import {
  assertNoNul,
  customValueSql,
  isPlainObject,
  parseIsoDate,
  primaryKeyField,
  resolveField,
  type FilterEntity,
} from './fields.js';
import { andSql, orSql } from './json-filter-sql.js';

export interface SortInput {
  field: string;
  direction?: 'ASC' | 'DESC' | null;
}

export const MAX_SORT_FIELDS = 5;
const MAX_CURSOR_LENGTH = 16_384;

/** One compiled sort key. */
export interface SortKey {
  /** The field name as given (`created_at`, `address.city`). */
  readonly field: string;
  readonly kind: 'text' | 'timestamp' | 'int' | 'custom';
  readonly desc: boolean;
  /** Whether `expr` can be SQL NULL (then ORDER BY and keyset conditions spell NULLs out). */
  readonly nullable: boolean;
  /** The ORDER BY expression over alias `t`. */
  readonly expr: Prisma.Sql;
}

/** A sort value as carried in a cursor. */
export type CursorValue = string | number | null;

/** Validates a sort spec and returns its keys, primary key last. Default: created_at ASC. */
export function compileSort(entity: FilterEntity, sort: readonly SortInput[] | null | undefined, path = 'sort'): SortKey[] {
  const input: readonly unknown[] = sort == null || (Array.isArray(sort) && sort.length === 0)
    ? [{ field: 'created_at', direction: 'ASC' }]
    : Array.isArray(sort) ? sort : invalid(`"sort" must be a list of {field, direction}`, path);
  if (input.length > MAX_SORT_FIELDS) {
    throw new ValidationError(`At most ${MAX_SORT_FIELDS} sort fields are allowed, got ${input.length}`, path);
  }
  const pk = primaryKeyField(entity);
  const keys: SortKey[] = [];
  input.forEach((item, i) => {
    const itemPath = joinPath(path, i);
    if (!isPlainObject(item)) invalid('A sort item must be an object {field, direction}', itemPath);
    const fieldPath = joinPath(itemPath, 'field');
    const name = item.field;
    if (typeof name !== 'string' || name === '') invalid('The sort field must be a non-empty string', fieldPath);
    const direction = item.direction ?? 'ASC';
    if (direction !== 'ASC' && direction !== 'DESC') {
      invalid(`The sort direction must be ASC or DESC`, joinPath(itemPath, 'direction'));
    }
    if (keys.some((k) => k.field === name)) invalid(`"${name}" appears twice in the sort`, fieldPath);
    const field = resolveField(entity, name, fieldPath);
    const desc = direction === 'DESC';
    if (field.kind === 'custom') {
      // Missing paths become JSON null so the expression is never SQL NULL: jsonb's btree
      // order (null < strings < numbers < booleans < arrays < objects) is then total and the
      // keyset test can use plain comparisons.
      keys.push({ field: name, kind: 'custom', desc, nullable: false, expr: Prisma.sql`COALESCE(${customValueSql(field)}, 'null'::jsonb)` });
    } else if (!field.sortable || field.kind === 'members' || field.kind === 'textArray') {
      invalid(`"${name}" cannot be sorted on`, fieldPath);
    } else {
      keys.push({ field: name, kind: field.kind, desc, nullable: field.nullable, expr: field.column });
    }
  });
  if (!keys.some((k) => k.field === pk.name)) {
    keys.push({ field: pk.name, kind: 'text', desc: false, nullable: false, expr: pk.column });
  }
  return keys;
}

function invalid(message: string, path: string): never {
  throw new ValidationError(message, path);
}

/** `ORDER BY` items; NULLs first ascending, last descending (see the module comment). */
export function orderBySql(keys: readonly SortKey[]): Prisma.Sql {
  return Prisma.join(
    keys.map((k) => {
      const dir = k.desc ? 'DESC' : 'ASC';
      const nulls = !k.nullable ? '' : k.desc ? ' NULLS LAST' : ' NULLS FIRST';
      return Prisma.sql`${k.expr} ${Prisma.raw(dir + nulls)}`;
    }),
    ', ',
  );
}

/** Select-list items `s0 … sn` returning each key in its cursor form. */
export function selectSortValuesSql(keys: readonly SortKey[]): Prisma.Sql {
  return Prisma.join(
    keys.map((k, i) => {
      const alias = Prisma.raw(`"s${i}"`);
      switch (k.kind) {
        // to_jsonb prints ISO 8601 whatever the session's DateStyle, with full precision.
        case 'timestamp':
          return Prisma.sql`to_jsonb(${k.expr}) #>> '{}' AS ${alias}`;
        // JSON text, not a parsed value: JavaScript numbers would round big jsonb numbers.
        case 'custom':
          return Prisma.sql`(${k.expr})::text AS ${alias}`;
        default:
          return Prisma.sql`${k.expr} AS ${alias}`;
      }
    }),
    ', ',
  );
}

/** Reads the cursor values of one result row selected with selectSortValuesSql. */
export function rowCursorValues(keys: readonly SortKey[], row: Record<string, unknown>): CursorValue[] {
  return keys.map((_, i) => {
    const value = row[`s${i}`];
    if (value === null || value === undefined) return null;
    if (typeof value === 'string' || typeof value === 'number') return value;
    if (typeof value === 'bigint') return Number(value);
    throw new Error(`Unexpected sort value type ${typeof value}`);
  });
}

/** A short hash of entity + sort spec; cursors of another sort fail this check. */
export function sortFingerprint(entity: FilterEntity, keys: readonly SortKey[]): string {
  const spec = JSON.stringify([entity, keys.map((k) => [k.field, k.desc ? 'DESC' : 'ASC'])]);
  return createHash('sha256').update(spec).digest('base64url').slice(0, 12);
}

/** Encodes a row position as an opaque base64url cursor. */
export function encodeCursor(fingerprint: string, values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([fingerprint, ...values]), 'utf8').toString('base64url');
}

/** Decodes and checks a cursor against the sort; ValidationError at `path` when it does not fit. */
export function decodeCursor(keys: readonly SortKey[], fingerprint: string, cursor: unknown, path = 'after'): CursorValue[] {
  const bad = (why: string): never => {
    throw new ValidationError(`Invalid cursor: ${why}`, path);
  };
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    return bad('not a cursor returned by this list');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return bad('not a cursor returned by this list');
  }
  if (!Array.isArray(decoded) || typeof decoded[0] !== 'string') return bad('not a cursor returned by this list');
  if (decoded[0] !== fingerprint) return bad('it belongs to a different sort order');
  const values = decoded.slice(1) as unknown[];
  if (values.length !== keys.length) return bad('it belongs to a different sort order');
  return keys.map((key, i) => {
    const value = values[i];
    if (value === null) return key.nullable ? null : bad(`missing value for "${key.field}"`);
    switch (key.kind) {
      case 'int':
        return typeof value === 'number' && Number.isSafeInteger(value) ? value : bad(`bad value for "${key.field}"`);
      case 'timestamp':
        return typeof value === 'string' && parseIsoDate(value) !== null ? value : bad(`bad value for "${key.field}"`);
      case 'custom':
        if (typeof value !== 'string' || !isJsonText(value)) return bad(`bad value for "${key.field}"`);
        return value;
      case 'text':
        if (typeof value !== 'string') return bad(`bad value for "${key.field}"`);
        assertNoNul(value, path);
        return value;
    }
  });
}

function isJsonText(text: string): boolean {
  // PostgreSQL's jsonb rejects \u0000; everything JSON.parse accepts otherwise parses there.
  if (text.includes('\\u0000')) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Binds a cursor value with the type of its key. */
function bindValue(key: SortKey, value: string | number): Prisma.Sql {
  switch (key.kind) {
    case 'int':
      return Prisma.sql`${value}::bigint`;
    case 'timestamp':
      return Prisma.sql`${value}::timestamptz`;
    case 'custom':
      return Prisma.sql`${value}::jsonb`;
    case 'text':
      return Prisma.sql`${value}::text`;
  }
}

/**
 * Rows strictly after the cursor position in the sort order.
 *
 * Same direction on every key and no NULL-able key: one row-value comparison
 * `(a, b) > ($1, $2)`, which PostgreSQL turns into an index range scan on (created_at, id).
 *
 * Otherwise the expanded form `k1 > v1 OR (k1 = v1 AND k2 > v2) OR …`: row comparison cannot
 * mix ASC and DESC, and `>`/`=` yield NULL on NULLs, so for NULL-able keys each "after" and
 * "equal" test is chosen from the cursor value (known here, not in SQL):
 *   equal:        v NULL → `k IS NULL`;          else `k = v`
 *   after (ASC):  v NULL → `k IS NOT NULL`;      else `k > v`            (NULLs come first)
 *   after (DESC): v NULL → nothing comes after;  else `k < v OR k IS NULL` (NULLs come last)
 */
export function afterCursorSql(keys: readonly SortKey[], values: readonly CursorValue[]): Prisma.Sql {
  const uniform = keys.every((k) => k.desc === keys[0]!.desc && !k.nullable);
  if (uniform) {
    const op = Prisma.raw(keys[0]!.desc ? '<' : '>');
    const left = Prisma.join(keys.map((k) => k.expr), ', ');
    const right = Prisma.join(keys.map((k, i) => bindValue(k, values[i]!)), ', ');
    return Prisma.sql`((${left}) ${op} (${right}))`;
  }
  const disjuncts: Prisma.Sql[] = [];
  const equalSoFar: Prisma.Sql[] = [];
  keys.forEach((key, i) => {
    const value = values[i]!;
    const after = afterKeySql(key, value);
    if (after) disjuncts.push(andSql([...equalSoFar, after]));
    equalSoFar.push(value === null ? Prisma.sql`(${key.expr} IS NULL)` : Prisma.sql`(${key.expr} = ${bindValue(key, value)})`);
  });
  return orSql(disjuncts);
}

function afterKeySql(key: SortKey, value: CursorValue): Prisma.Sql | null {
  if (value === null) return key.desc ? null : Prisma.sql`(${key.expr} IS NOT NULL)`;
  const bound = bindValue(key, value);
  if (!key.desc) return Prisma.sql`(${key.expr} > ${bound})`;
  return key.nullable ? Prisma.sql`(${key.expr} < ${bound} OR ${key.expr} IS NULL)` : Prisma.sql`(${key.expr} < ${bound})`;
}
