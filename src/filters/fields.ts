/**
 * The field table of Stream-style JSON filters and sorts: which names are built-in columns
 * of `users` / `channels` (and of what kind), and how any other name becomes a path into
 * the `custom` JSONB column. Also the small value checks that both the filter compiler and
 * the cursor decoder need. Every SQL fragment here refers to the entity table as alias `t`.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';

export type FilterEntity = 'user' | 'channel';

/** Kinds of built-in fields; each kind has its own operator rules in the compiler. */
export type BuiltinKind = 'text' | 'textArray' | 'timestamp' | 'int' | 'members';

/** A column of the entity table (or, for `members`, the channel_members relation). */
export interface BuiltinField {
  readonly kind: BuiltinKind;
  /** The name used in filters and sorts (`created_at`). */
  readonly name: string;
  /** `t."column"`; a fixed identifier from our own schema, never user input. */
  readonly column: Prisma.Sql;
  /** True for columns that may hold SQL NULL (users.name, users.language, channels.created_by_id). */
  readonly nullable: boolean;
  /** False for fields that have no single value per row (teams, members). */
  readonly sortable: boolean;
}

/** A value inside the `custom` JSONB column, addressed by object keys (`address.city`). */
export interface CustomField {
  readonly kind: 'custom';
  readonly name: string;
  readonly segments: readonly string[];
}

export type FieldRef = BuiltinField | CustomField;

/** The operators of the JSON filter syntax (spec §2); typed filter inputs mirror them. */
export const COMPARISON_OPERATORS = [
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$autocomplete', '$contains',
] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
export const LOGICAL_OPERATORS = ['$and', '$or', '$nor'] as const;
export type LogicalOperator = (typeof LOGICAL_OPERATORS)[number];

export const MAX_LIST_VALUES = 1000;
export const MAX_LOGICAL_DEPTH = 5;
export const MAX_CUSTOM_SEGMENTS = 10;
export const MAX_CUSTOM_SEGMENT_LENGTH = 64;

function column(name: string, kind: BuiltinKind, nullable = false): BuiltinField {
  // Identifiers come from this table only; quoting keeps them exact even if renamed later.
  return {
    kind,
    name,
    column: Prisma.raw(`t."${name}"`),
    nullable,
    sortable: kind !== 'textArray' && kind !== 'members',
  };
}

interface EntityTable {
  /** Table name in SQL; fixed. */
  readonly table: Prisma.Sql;
  /** The primary key column, always the last sort key. */
  readonly primaryKey: BuiltinField;
  readonly fields: ReadonlyMap<string, BuiltinField>;
}

function entityTable(table: string, pk: string, fields: BuiltinField[]): EntityTable {
  const map = new Map(fields.map((f) => [f.name, f]));
  return { table: Prisma.raw(`"${table}"`), primaryKey: map.get(pk)!, fields: map };
}

const ENTITIES: Record<FilterEntity, EntityTable> = {
  user: entityTable('users', 'id', [
    column('id', 'text'),
    column('name', 'text', true),
    column('role', 'text'),
    column('language', 'text', true),
    column('teams', 'textArray'),
    column('created_at', 'timestamp'),
    column('updated_at', 'timestamp'),
  ]),
  channel: entityTable('channels', 'cid', [
    column('cid', 'text'),
    column('type', 'text'),
    column('id', 'text'),
    column('created_by_id', 'text', true),
    column('member_count', 'int'),
    // `members` is not a column: the compiler turns it into EXISTS over channel_members.
    { kind: 'members', name: 'members', column: Prisma.raw('t."cid"'), nullable: false, sortable: false },
    column('created_at', 'timestamp'),
    column('updated_at', 'timestamp'),
  ]),
};

/** The SQL table (`"users"` / `"channels"`) of an entity. */
export function entityTableSql(entity: FilterEntity): Prisma.Sql {
  return ENTITIES[entity].table;
}

/** The primary key field (users.id / channels.cid). */
export function primaryKeyField(entity: FilterEntity): BuiltinField {
  return ENTITIES[entity].primaryKey;
}

/**
 * Resolves a filter or sort field name: a built-in column, else a custom JSONB path.
 * Throws ValidationError at `path` for a malformed custom path.
 */
export function resolveField(entity: FilterEntity, name: string, path: string): FieldRef {
  const builtin = ENTITIES[entity].fields.get(name);
  if (builtin) return builtin;
  return { kind: 'custom', name, segments: parseCustomPath(name, path) };
}

/** Splits `address.city` into JSONB path segments, enforcing the spec's limits. */
export function parseCustomPath(name: string, path: string): string[] {
  const segments = name.split('.');
  if (segments.length > MAX_CUSTOM_SEGMENTS) {
    throw new ValidationError(
      `Custom field "${name}" has ${segments.length} segments; at most ${MAX_CUSTOM_SEGMENTS} are allowed`,
      path,
    );
  }
  for (const segment of segments) {
    if (segment === '') {
      throw new ValidationError(`Custom field "${name}" has an empty path segment`, path);
    }
    if (segment.length > MAX_CUSTOM_SEGMENT_LENGTH) {
      throw new ValidationError(
        `Custom field "${name}" has a segment longer than ${MAX_CUSTOM_SEGMENT_LENGTH} characters`,
        path,
      );
    }
    if (segment.startsWith('$')) {
      throw new ValidationError(
        `"${segment}" is not a valid field name: names starting with "$" are operators`,
        path,
      );
    }
    if (segment.includes('\u0000')) {
      throw new ValidationError(`Custom field "${name}" contains a NUL character`, path);
    }
  }
  return segments;
}

/**
 * True when jsonb `#>` may read this segment as an array index (PostgreSQL parses it with
 * strtol: optional leading space and sign, then digits). Such paths cannot be rewritten as
 * object containment, so the compiler falls back to `#>` comparisons for them.
 */
export function isIndexLikeSegment(segment: string): boolean {
  return /^\s*[+-]?\d+$/.test(segment);
}

/** `t.custom #> '{a,b}'`: the JSONB value at a custom path, SQL NULL when missing. */
export function customValueSql(field: CustomField): Prisma.Sql {
  // The path is a text[] parameter, so user-chosen key names never reach the SQL text.
  return Prisma.sql`(t."custom" #> ${[...field.segments]}::text[])`;
}

/** Builds `{"a": {"b": value}}` for containment (`@>`) tests on the custom column. */
export function nestUnderPath(segments: readonly string[], value: JsonValue): JsonValue {
  return segments.reduceRight<JsonValue>((inner, key) => ({ [key]: inner }), value);
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON-like object (not an array, not null, no class instance such as Date). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Names a value's JSON type for error messages. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isPlainObject(value)) return 'an object';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : 'a non-finite number';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

/**
 * Checks that `value` is JSON PostgreSQL can store: finite numbers, plain objects, and no
 * NUL characters (text and jsonb both reject U+0000, which would otherwise surface as a
 * database error instead of a validation error).
 */
export function assertJsonValue(value: unknown, path: string): asserts value is JsonValue {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError('Numbers must be finite', path);
    return;
  }
  if (typeof value === 'string') {
    assertNoNul(value, path);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertJsonValue(item, `${path}[${i}]`));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      assertNoNul(key, path);
      assertJsonValue(item, `${path}.${key}`);
    }
    return;
  }
  throw new ValidationError(`Expected a JSON value, got ${describeJson(value)}`, path);
}

export function assertNoNul(value: string, path: string): void {
  if (value.includes('\u0000')) throw new ValidationError('Strings must not contain NUL characters', path);
}

// ISO 8601 date or date-time: 2024-05-01, 2024-05-01T10:00, …:00.123Z, …+02:00 (also the
// space separator and "+00" offset that PostgreSQL prints).
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Validates an ISO 8601 date string and returns it in a form PostgreSQL reads the same way
 * in every session, or null when it is not a real date. A value without an offset is read
 * as UTC, so results never depend on the server's or the session's time zone. Fractions are
 * kept (up to microseconds, the precision of timestamptz) so `$gte`/`$lt` stay exact.
 */
export function parseIsoDate(value: string): string | null {
  const m = ISO_DATE.exec(value);
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((x) =>
    x === undefined ? undefined : Number(x),
  ) as number[];
  // Round-trip through Date.UTC to reject 2024-02-30 or 25:00 (PostgreSQL would raise).
  const d = new Date(Date.UTC(year!, month! - 1, day!, hour, minute, second));
  if (
    d.getUTCFullYear() !== year || d.getUTCMonth() !== month! - 1 || d.getUTCDate() !== day ||
    d.getUTCHours() !== hour || d.getUTCMinutes() !== minute || d.getUTCSeconds() !== second
  ) {
    return null;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = m[8] === undefined ? 'Z' : m[8].toUpperCase();
  return `${m[1]}-${m[2]}-${m[3]}T${pad(hour)}:${pad(minute)}:${pad(second)}${m[7] ?? ''}${offset}`;
}
