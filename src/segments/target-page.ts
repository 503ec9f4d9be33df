/**
 * `Segment.targets`: keyset pages over the live audience (segment_targets ∪ rule), ordered
 * by target id, with a typed `SegmentTargetFilter` compiled to parameterized SQL over the
 * audience query. Only ids come out of the database here; users/channels load per page.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError, joinPath } from '../errors.js';
import { assertNoNul } from '../filters/fields.js';
import { FALSE_SQL, TRUE_SQL, andSql, escapeLike, notSql, orSql } from '../filters/json-filter-sql.js';
import type { RawQueryable } from '../filters/json-page.js';
import { MAX_FILTER_DEPTH, checkAutocomplete, checkValues, type LogicalFilter, type ScalarFilter } from '../filters/typed.js';
import { MAX_SORT_KEYS, type SortShape } from '../filters/typed-sort.js';
import { keysetPage, type CountedConnection, type PageArgs } from '../paging.js';
import { audiencePageSql, countAudience, type AudienceRule } from './audience.js';

/** Largest page of segment targets (spec §2). */
export const MAX_TARGET_PAGE = 10_000;

export interface SegmentTargetFilterShape extends LogicalFilter<SegmentTargetFilterShape> {
  id?: ScalarFilter<string> | null;
}

export interface TargetPageArgs extends PageArgs {
  filter?: SegmentTargetFilterShape | null;
  sort?: readonly SortShape<'id'>[] | null;
}

const TARGET_ID = Prisma.sql`a."target_id"`;

function idValues(values: readonly string[], path: string): string[] {
  checkValues(values, path);
  values.forEach((v, i) => assertNoNul(v, `${path}[${i}]`));
  return [...values];
}

function idValue(value: string, path: string): Prisma.Sql {
  assertNoNul(value, path);
  return Prisma.sql`${value}::text`;
}

/** Conditions on the target id (never null, so ne/nin need no null branch). */
function idConditions(id: Prisma.Sql, filter: ScalarFilter<string>, path: string): Prisma.Sql[] {
  const at = (op: string) => joinPath(path, op);
  const parts: Prisma.Sql[] = [];
  if (filter.eq != null) parts.push(Prisma.sql`${id} = ${idValue(filter.eq, at('eq'))}`);
  if (filter.ne != null) parts.push(Prisma.sql`${id} <> ${idValue(filter.ne, at('ne'))}`);
  if (filter.in != null) parts.push(Prisma.sql`${id} = ANY(${idValues(filter.in, at('in'))}::text[])`);
  if (filter.nin != null) parts.push(Prisma.sql`${id} <> ALL(${idValues(filter.nin, at('nin'))}::text[])`);
  if (filter.exists != null) parts.push(filter.exists ? TRUE_SQL : FALSE_SQL);
  if (filter.autocomplete != null) {
    const text = checkAutocomplete(filter.autocomplete, at('autocomplete'));
    assertNoNul(text, at('autocomplete'));
    // A case-insensitive prefix: the text's `%`, `_` and `\` match only themselves.
    parts.push(Prisma.sql`${id} ILIKE ${`${escapeLike(text)}%`}`);
  }
  return parts;
}

/**
 * Compiles a SegmentTargetFilter to a boolean over the target id expression `id`
 * (default `a.target_id`); and/or/nor nest at most 5 deep.
 */
export function targetFilterSql(
  filter: SegmentTargetFilterShape | null | undefined,
  id: Prisma.Sql = TARGET_ID,
  path = 'filter',
  depth = 0,
): Prisma.Sql {
  if (filter == null) return TRUE_SQL;
  if (depth > MAX_FILTER_DEPTH) throw new ValidationError(`${path} nests and/or/nor deeper than ${MAX_FILTER_DEPTH} levels`, path);
  const parts = filter.id == null ? [] : idConditions(id, filter.id, joinPath(path, 'id'));
  for (const key of ['and', 'or', 'nor'] as const) {
    const list = filter[key];
    if (list == null) continue;
    const listPath = joinPath(path, key);
    if (list.length === 0) throw new ValidationError(`${listPath} needs at least one filter`, listPath);
    const compiled = list.map((item, i) => targetFilterSql(item, id, joinPath(listPath, i), depth + 1));
    parts.push(key === 'and' ? andSql(compiled) : key === 'or' ? orSql(compiled) : notSql(orSql(compiled)));
  }
  return andSql(parts);
}

/**
 * One page of target ids as a connection. `size` gives totalCount when no filter is set
 * (the segment's size); with a filter, totalCount counts the matching targets.
 */
export function targetPage(
  db: RawQueryable,
  segment: AudienceRule,
  args: TargetPageArgs,
  size: () => Promise<number>,
): Promise<CountedConnection<string>> {
  const where = targetFilterSql(args.filter); // validates once; branches compile it again over their own id
  if ((args.sort?.length ?? 0) > MAX_SORT_KEYS) throw new ValidationError(`sort may have at most ${MAX_SORT_KEYS} keys`, 'sort');
  const desc = args.sort?.[0]?.direction === 'DESC';
  return keysetPage<string>({
    args,
    max: MAX_TARGET_PAGE,
    keyOf: (id) => id,
    fetch: async ({ take, cursor }) => {
      if (cursor?.includes('\u0000')) throw new ValidationError('The cursor is not valid', args.before != null ? 'before' : 'after');
      // A backward page reads the order reversed from the cursor, then flips the rows back.
      const backward = take < 0;
      const descending = desc !== backward;
      const condition = (id: Prisma.Sql) =>
        andSql([targetFilterSql(args.filter, id), cursor === undefined ? TRUE_SQL : Prisma.sql`${id} ${Prisma.raw(descending ? '<' : '>')} ${cursor}::text`]);
      const rows = await db.$queryRaw<{ target_id: string }[]>(audiencePageSql(segment, { condition, descending, limit: Math.abs(take) }));
      const ids = rows.map((r) => r.target_id);
      return backward ? ids.reverse() : ids;
    },
    count: where === TRUE_SQL ? size : () => countAudience(db, segment, {}, where),
  });
}
