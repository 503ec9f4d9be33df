/**
 * Keyset-paged lookups of `users` / `channels` matching a JSON filter. Only primary keys
 * come back; resolvers load the rows with Prisma and keep the order of `keys`.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';
import { pageSize } from '../validation.js';
import { entityTableSql, type FilterEntity } from './fields.js';
import { compileJsonFilter } from './json-filter.js';
import { notSql } from './json-filter-sql.js';
import {
  afterCursorSql,
  compileSort,
  decodeCursor,
  encodeCursor,
  orderBySql,
  rowCursorValues,
  selectSortValuesSql,
  sortFingerprint,
  type SortInput,
} from './json-sort.js';

export type { SortInput } from './json-sort.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Anything with `$queryRaw`: a PrismaClient or an interactive-transaction client. */
export interface RawQueryable {
  $queryRaw<T = unknown>(query: Prisma.Sql): Promise<T>;
}

export interface JsonPageArgs {
  filter?: unknown;
  sort?: SortInput[] | null;
  first?: number | null;
  after?: string | null;
}

export interface JsonPage {
  keys: string[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** Runs in the database: SELECT primary keys (users.id / channels.cid) matching the filter, keyset-paged. */
export async function findJsonPage(db: RawQueryable, entity: FilterEntity, args: JsonPageArgs): Promise<JsonPage> {
  // Everything is validated before the first query, so a bad argument costs no round trip.
  const first = pageSize(args.first, 'first', MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
  const where = compileJsonFilter(entity, args.filter, 'filter');
  const keys = compileSort(entity, args.sort, 'sort');
  const fingerprint = sortFingerprint(entity, keys);
  const afterValues = args.after == null ? null : decodeCursor(keys, fingerprint, args.after, 'after');
  const after = afterValues ? afterCursorSql(keys, afterValues) : Prisma.sql`TRUE`;
  const table = entityTableSql(entity);

  // One row more than asked tells whether a next page exists without a count.
  const pageQuery = Prisma.sql`SELECT ${selectSortValuesSql(keys)} FROM ${table} t
    WHERE ${where} AND ${after}
    ORDER BY ${orderBySql(keys)}
    LIMIT ${first + 1}::int`;
  // Relay's hasPreviousPage: does any matching row sit at or before the cursor? EXISTS stops
  // at the first such row.
  const previousQuery = afterValues
    ? Prisma.sql`SELECT EXISTS (SELECT 1 FROM ${table} t WHERE ${where} AND ${notSql(after)}) AS "exists"`
    : null;

  const rows = await db.$queryRaw<Record<string, unknown>[]>(pageQuery);
  const previous = previousQuery ? await db.$queryRaw<{ exists: boolean }[]>(previousQuery) : null;

  const pageRows = rows.slice(0, first);
  const last = keys.length - 1;
  const cursors = pageRows.map((row) => encodeCursor(fingerprint, rowCursorValues(keys, row)));
  return {
    keys: pageRows.map((row) => String(row[`s${last}`])),
    cursors,
    hasNextPage: rows.length > first,
    hasPreviousPage: previous?.[0]?.exists === true,
    startCursor: cursors[0] ?? null,
    endCursor: cursors[cursors.length - 1] ?? null,
  };
}

/** Counts the rows matching a JSON filter, in the database. */
export async function countJsonFilter(db: RawQueryable, entity: FilterEntity, filter: unknown): Promise<number> {
  const where = compileJsonFilter(entity, filter, 'filter');
  const rows = await db.$queryRaw<{ count: bigint | number }[]>(
    Prisma.sql`SELECT count(*) AS "count" FROM ${entityTableSql(entity)} t WHERE ${where}`,
  );
  return Number(rows[0]?.count ?? 0);
}
