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
