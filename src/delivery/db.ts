/**
 * Where delivery's raw SQL runs. The conversation, message and plan helpers take a `Db`:
 * a Prisma client or interactive transaction (test sends, materialization), or a raw `pg`
 * client wrapped by `pgDb` — delivery batches run on `db.pool` with BEGIN/COMMIT, which
 * costs about half the CPU per statement of a Prisma transaction. Both take the same
 * `Prisma.sql` tagged templates (parameterized, never string-built).
 */
import type pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

/** The part of PrismaClient (or a transaction) that delivery uses. */
export interface Db {
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): PromiseLike<number>;
}

const toSql = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql =>
  query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);

/** A `Db` over one `pg` client (its `$n` parameters come from `Prisma.Sql.text`). */
export function pgDb(client: pg.ClientBase): Db {
  return {
    async $queryRaw<T>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T> {
      const sql = toSql(query, values);
      return (await client.query(sql.text, sql.values)).rows as T;
    },
    async $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number> {
      const sql = toSql(query, values);
      return (await client.query(sql.text, sql.values)).rowCount ?? 0;
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
