/**
 * Where delivery's raw SQL runs. The conversation, message and plan helpers take a `Db`:
 * a Prisma client or interactive transaction (test sends, materialization), or a raw `pg`
 * client wrapped by `pgDb` — delivery batches run on `db.pool` with BEGIN/COMMIT, which
 * costs about half the CPU per statement of a Prisma transaction. Both take the same
 * `Prisma.sql` tagged templates (parameterized, never string-built).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

/** The part of PrismaClient (or a transaction) that delivery uses. */
export interface Db {
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<number>;
}

const toSql = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql =>
  query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);

const preparedSql = new WeakSet<Prisma.Sql>();
/** Statement names by text (a statement's shape: its values are parameters), kept small. */
const statementNames = new Map<string, string>();

/**
 * Marks a statement to run as a named prepared statement on a `pg` client (pgDb; a Prisma
 * `Db` runs it as usual): each connection has PostgreSQL parse and analyze it once, not
 * per batch (measured: ~3% of PostgreSQL's CPU in delivery). Only for statements whose best
 * plan does not depend on their values — set-based writes over `unnest` of their arrays —
 * since PostgreSQL may settle on a generic plan after five runs.
 */
export function prepared(sql: Prisma.Sql): Prisma.Sql {
  preparedSql.add(sql);
  return sql;
}

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= 100) statementNames.clear();
    name = `beacon_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    statementNames.set(text, name);
  }
  return name;
}

function pgQuery(sql: Prisma.Sql): pg.QueryConfig {
  return { text: sql.text, values: sql.values, name: preparedSql.has(sql) ? statementName(sql.text) : undefined };
}

/** A `Db` over one `pg` client (its `$n` parameters come from `Prisma.Sql.text`). */
export function pgDb(client: pg.ClientBase): Db {
  return {
    async $queryRaw<T>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T> {
      return (await client.query(pgQuery(toSql(query, values)))).rows as T;
    },
    async $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number> {
      return (await client.query(pgQuery(toSql(query, values)))).rowCount ?? 0;
    },
  };
}

/** One element of an array literal, double-quoted (only `"` and `\` are escaped inside quotes). */
const quoted = (value: string | number | null): string =>
  value == null ? 'NULL' : `"${String(value).replace(/["\\]/g, '\\$&')}"`;

/**
 * A `text[]` (or `int[]`) parameter as PostgreSQL's array literal, for `${textArray(xs)}::text[]`.
 * pg would build it element by element (a regex and several strings each, a rope of
 * concatenations the size of the batch); JSON.stringify is native, and when no element
 * needed a JSON escape (no `"`, `\` or control character) its `["a","b",null,1]` is,
 * between braces, the array literal `{"a","b",null,1}`: quoted elements are read verbatim,
 * an unquoted null is NULL. Otherwise each element is quoted here.
 */
export function textArray(values: readonly (string | number | null)[]): string {
  const json = JSON.stringify(values);
  return json.includes('\\') ? `{${values.map(quoted).join(',')}}` : `{${json.slice(1, -1)}}`;
}
