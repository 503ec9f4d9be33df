/**
 * Compiles Stream-style JSON operator filters (spec §2) into one parameterized boolean SQL
 * expression over the entity table aliased `t`. Validation and compilation are one pass:
 * every rejected input throws a ValidationError naming its dotted path (`filter.$or[1].age`).
 *
 * Invariants of the generated SQL:
 * - Every user value is a bind parameter (`Prisma.sql`); `Prisma.raw` only carries fixed
 *   identifiers and operators from this module.
 * - Positive predicates may evaluate to SQL NULL (a NULL column, a missing JSON path); in a
 *   WHERE clause, AND/OR treat NULL like FALSE, so they need no guard. Negations (`$ne`,
 *   `$nin`, `$nor`) are written `(p) IS NOT TRUE` instead of `NOT (p)`, so a row where `p`
 *   is NULL — the field is missing — matches them, as in MongoDB.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError, joinPath } from '../errors.js';
import {
  COMPARISON_OPERATORS,
  MAX_LOGICAL_DEPTH,
  assertJsonValue,
  describeJson,
  isPlainObject,
  parseIsoDate,
  resolveField,
  type BuiltinField,
  type ComparisonOperator,
  type FieldRef,
  type FilterEntity,
  type JsonValue,
} from './fields.js';
import { FilterBudget } from './budget.js';
import { compileCustomOperator } from './json-filter-custom.js';
import {
  TRUE_SQL,
  andSql,
  autocompleteSql,
  comparatorSql,
  expectAutocomplete,
  expectBoolean,
  expectList,
  expectString,
  notSql,
  orSql,
} from './json-filter-sql.js';

export type { FilterEntity } from './fields.js';

/** Above this many bind parameters a filter is refused (PostgreSQL allows 65,535 per query). */
const MAX_FILTER_PARAMETERS = 20_000;

/**
 * Boolean SQL over the entity table aliased `t` (users t / channels t). null/undefined/{} →
 * TRUE. Throws ValidationError with a path like 'filter.$or[1].age', also where the filter
 * crosses its size budget (see budget.ts).
 */
export function compileJsonFilter(entity: FilterEntity, filter: unknown, path = 'filter'): Prisma.Sql {
  if (filter === null || filter === undefined) return TRUE_SQL;
  const sql = compileObject(entity, filter, path, 0, new FilterBudget());
  if (sql.values.length > MAX_FILTER_PARAMETERS) {
    throw new ValidationError(
      `The filter is too large (${sql.values.length} values; at most ${MAX_FILTER_PARAMETERS})`,
      path,
    );
  }
  return sql;
}

function compileObject(entity: FilterEntity, value: unknown, path: string, depth: number, budget: FilterBudget): Prisma.Sql {
  if (!isPlainObject(value)) {
    throw new ValidationError(`A filter must be a JSON object, got ${describeJson(value)}`, path);
  }
  const parts: Prisma.Sql[] = [];
  // for…in rather than Object.entries: a huge object stops at the budget without being copied first.
  for (const key in value) {
    const item = value[key];
    const keyPath = joinPath(path, key);
    budget.key(key, keyPath);
    if (key === '$and' || key === '$or' || key === '$nor') {
      parts.push(compileLogical(entity, key, item, keyPath, depth + 1, budget));
    } else if (key.startsWith('$')) {
      throw new ValidationError(
        (COMPARISON_OPERATORS as readonly string[]).includes(key)
          ? `"${key}" must be applied to a field ({"field": {"${key}": …}})`
          : `Unknown operator "${key}"; a filter object holds field names and $and, $or, $nor`,
        keyPath,
      );
    } else {
      parts.push(compileField(resolveField(entity, key, keyPath), item, keyPath, budget));
    }
  }
  return andSql(parts);
}

function compileLogical(
  entity: FilterEntity,
  op: '$and' | '$or' | '$nor',
  value: unknown,
  path: string,
  depth: number,
  budget: FilterBudget,
): Prisma.Sql {
  if (depth > MAX_LOGICAL_DEPTH) {
    throw new ValidationError(`Logical operators are nested deeper than ${MAX_LOGICAL_DEPTH} levels`, path);
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError(`"${op}" expects a non-empty array of filter objects, got ${describeJson(value)}`, path);
  }
  const parts = value.map((item, i) => {
    const itemPath = joinPath(path, i);
    budget.condition(itemPath);
    return compileObject(entity, item, itemPath, depth, budget);
  });
  if (op === '$and') return andSql(parts);
  if (op === '$or') return orSql(parts);
  return notSql(orSql(parts));
}

/** `{field: value}` is `$eq`; `{field: {$op: operand, …}}` ANDs its operators. */
function compileField(field: FieldRef, value: unknown, path: string, budget: FilterBudget): Prisma.Sql {
  if (!isPlainObject(value)) return compileOperator(field, '$eq', value, path, budget);
  const keys = Object.keys(value);
  if (keys.length === 0) {
    throw new ValidationError(`Field "${field.name}" has an empty operator object`, path);
  }
  if (!keys.some((k) => k.startsWith('$'))) {
    // MongoDB would read this as exact equality with the object, which is rarely what is
    // meant; make the intent explicit instead.
    throw new ValidationError(
      `Field "${field.name}" has an object value; use a dotted name ("${field.name}.${keys[0]}") ` +
        `or {"$eq": {…}} for an exact object match`,
      path,
    );
  }
  return andSql(
    keys.map((key) => {
      const opPath = joinPath(path, key);
      if (!(COMPARISON_OPERATORS as readonly string[]).includes(key)) {
        throw new ValidationError(
          key.startsWith('$') ? `Unknown operator "${key}"` : `Expected an operator such as "$eq", got "${key}"`,
          opPath,
        );
      }
      return compileOperator(field, key as ComparisonOperator, value[key], opPath, budget);
    }),
  );
}

function compileOperator(field: FieldRef, op: ComparisonOperator, operand: unknown, path: string, budget: FilterBudget): Prisma.Sql {
  // Charged before anything reads the operand further, so an oversized one is not walked whole.
  budget.condition(path);
  budget.operand(operand, path);
  assertJsonValue(operand, path);
  switch (field.kind) {
    case 'custom':
      return compileCustomOperator(field, op, operand, path);
    case 'members':
      return compileMembers(op, operand, path);
    default:
      return compileColumn(field, op, operand, path);
  }
}

// ---------------------------------------------------------------------------------------
// Built-in columns: text, text[] (teams), timestamptz, int.

/** Validates one operand of a scalar column and returns it as a typed bind parameter. */
function scalarParam(field: BuiltinField, op: string, v: JsonValue, path: string): Prisma.Sql {
  if (field.kind === 'timestamp') {
    const iso = typeof v === 'string' ? parseIsoDate(v) : null;
    if (iso === null) {
      throw new ValidationError(`"${field.name}" ${op} expects an ISO 8601 date string, got ${describeJson(v)}`, path);
    }
    return Prisma.sql`${iso}::timestamptz`;
  }
  if (field.kind === 'int') {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw new ValidationError(`"${field.name}" ${op} expects an integer, got ${describeJson(v)}`, path);
    }
    // bigint so that any safe integer binds; int4 = int8 comparisons still use the index.
    return Prisma.sql`${v}::bigint`;
  }
  if (typeof v !== 'string') {
    throw new ValidationError(`"${field.name}" ${op} expects a string, got ${describeJson(v)}`, path);
  }
  return Prisma.sql`${v}::text`;
}

/** Typed array parameter for `= ANY(…)` on a scalar column (one bind for the whole list). */
function scalarArrayParam(field: BuiltinField, values: JsonValue[], op: string, path: string): Prisma.Sql {
  if (field.kind === 'timestamp') {
    const dates = values.map((v, i) => {
      const iso = typeof v === 'string' ? parseIsoDate(v) : null;
      if (iso === null) {
        throw new ValidationError(`"${field.name}" ${op} expects ISO 8601 date strings, got ${describeJson(v)}`, joinPath(path, i));
      }
      return iso;
    });
    return Prisma.sql`${dates}::timestamptz[]`;
  }
  if (field.kind === 'int') {
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
        throw new ValidationError(`"${field.name}" ${op} expects integers, got ${describeJson(v)}`, joinPath(path, i));
      }
    });
    return Prisma.sql`${values}::bigint[]`;
  }
  values.forEach((v, i) => {
    if (typeof v !== 'string') {
      throw new ValidationError(`"${field.name}" ${op} expects strings, got ${describeJson(v)}`, joinPath(path, i));
    }
  });
  return Prisma.sql`${values}::text[]`;
}

function compileColumn(
  field: BuiltinField,
  op: ComparisonOperator,
  operand: JsonValue,
  path: string,
  name: string = op,
): Prisma.Sql {
  const c = field.column;
  const isArray = field.kind === 'textArray';
  switch (op) {
    case '$eq':
      // JSON null means "missing or null"; for NOT NULL columns this is simply FALSE.
      if (operand === null) return Prisma.sql`(${c} IS NULL)`;
      if (isArray) {
        // A whole array compares exactly; a single value matches any element via GIN (@>).
        if (Array.isArray(operand)) return Prisma.sql`(${c} = ${scalarArrayParam(field, operand, name, path)})`;
        return Prisma.sql`(${c} @> ARRAY[${scalarParam(field, name, operand, path)}])`;
      }
      // Plain `=` keeps the btree index on the column usable.
      return Prisma.sql`(${c} = ${scalarParam(field, name, operand, path)})`;
    case '$ne':
      return notSql(compileColumn(field, '$eq', operand, path, op));
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const cmp = comparatorSql(op)!;
      const value = scalarParam(field, name, operand, path);
      // On teams, MongoDB semantics: some element compares true.
      if (isArray) return Prisma.sql`EXISTS (SELECT 1 FROM unnest(${c}) AS e(v) WHERE e.v ${cmp} ${value})`;
      return Prisma.sql`(${c} ${cmp} ${value})`;
    }
    case '$in': {
      const list = expectList(name, operand, path);
      const values = list.filter((v) => v !== null);
      const parts: Prisma.Sql[] = [];
      if (values.length > 0) {
        const arr = scalarArrayParam(field, values, name, path);
        // One array parameter instead of 1,000 binds; `&&` (overlap) is GIN-indexable on teams.
        parts.push(isArray ? Prisma.sql`(${c} && ${arr})` : Prisma.sql`(${c} = ANY(${arr}))`);
      }
      if (values.length < list.length) parts.push(Prisma.sql`(${c} IS NULL)`);
      return orSql(parts);
    }
    case '$nin':
      return notSql(compileColumn(field, '$in', operand, path, op));
    case '$exists':
      return expectBoolean(name, operand, path) ? Prisma.sql`(${c} IS NOT NULL)` : Prisma.sql`(${c} IS NULL)`;
    case '$autocomplete': {
      if (field.kind !== 'text' && field.kind !== 'textArray') break;
      const text = expectAutocomplete(name, operand, path);
      if (isArray) return Prisma.sql`EXISTS (SELECT 1 FROM unnest(${c}) AS e(v) WHERE ${autocompleteSql(Prisma.sql`e.v`, text)})`;
      return autocompleteSql(c, text);
    }
    case '$contains':
      if (!isArray) break;
      return Prisma.sql`(${c} @> ARRAY[${expectString(name, operand, path)}::text])`;
  }
  throw new ValidationError(`"${name}" cannot be used on "${field.name}" (${describeKind(field)})`, path);
}

function describeKind(field: BuiltinField): string {
  switch (field.kind) {
    case 'text':
      return 'a string field';
    case 'textArray':
      return 'a list of strings';
    case 'timestamp':
      return 'a date field';
    case 'int':
      return 'an integer field';
    case 'members':
      return 'the channel members';
  }
}

// ---------------------------------------------------------------------------------------
// channels.members: membership rows in channel_members.

/** EXISTS over the channel's memberships; served by the channel_members primary key. */
function membership(condition: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`EXISTS (SELECT 1 FROM "channel_members" m WHERE m."channel_cid" = t."cid" AND ${condition})`;
}

function memberIds(op: string, operand: JsonValue[], path: string): string[] {
  return operand.map((v, i) => {
    if (typeof v !== 'string') throw new ValidationError(`"members" ${op} expects user ids (strings), got ${describeJson(v)}`, joinPath(path, i));
    return v;
  });
}

function compileMembers(op: ComparisonOperator, operand: JsonValue, path: string, name: string = op): Prisma.Sql {
  switch (op) {
    case '$eq':
      if (operand === null) return notSql(membership(TRUE_SQL));
      if (Array.isArray(operand)) {
        // An array is the exact member set: nobody outside it, everybody in it.
        const ids = [...new Set(memberIds(name, expectList(name, operand, path), path))];
        return andSql([
          notSql(membership(Prisma.sql`m."user_id" <> ALL(${ids}::text[])`)),
          Prisma.sql`((SELECT count(*) FROM "channel_members" m WHERE m."channel_cid" = t."cid" AND m."user_id" = ANY(${ids}::text[])) = ${ids.length})`,
        ]);
      }
      return membership(Prisma.sql`m."user_id" = ${expectString(name, operand, path)}::text`);
    case '$contains':
      return membership(Prisma.sql`m."user_id" = ${expectString(name, operand, path)}::text`);
    case '$ne':
      return notSql(compileMembers('$eq', operand, path, op));
    case '$in':
      return membership(Prisma.sql`m."user_id" = ANY(${memberIds(name, expectList(name, operand, path), path)}::text[])`);
    case '$nin':
      return notSql(compileMembers('$in', operand, path, op));
    case '$exists':
      return expectBoolean(name, operand, path) ? membership(TRUE_SQL) : notSql(membership(TRUE_SQL));
    default:
      throw new ValidationError(`"${name}" cannot be used on "members"; use $in, $nin, $eq, $ne, $contains or $exists`, path);
  }
}
