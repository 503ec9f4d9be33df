/**
 * Relay connections with `totalCount`. The count is a thunk so it costs a query only
 * when a client selects it. Plain Prisma lists page with plugin-prisma's
 * `t.prismaConnection({ cursor: 'id', maxSize: pageLimit(…) }, XConnection)`; lists that are
 * raw SQL page by key (src/paging.ts) and return the same shape.
 */
import { decodeBase64, decodeCursorChunk, type ObjectRef } from '@pothos/core';
import { ValidationError } from '../errors.js';
import type { CountedConnection, PageArgs, PageInfoShape } from '../paging.js';
import { pageSize } from '../validation.js';
import { builder } from './builder.js';

/** Whether `cursor` is one plugin-prisma made (`GPC:` + a tagged chunk, base64). */
function isPrismaCursor(cursor: string): boolean {
  try {
    const decoded = decodeBase64(cursor);
    if (!decoded.startsWith('GPC:')) return false;
    const key: unknown = decodeCursorChunk(decoded.slice(4));
    return typeof key === 'string' && !key.includes('\u0000');
  } catch {
    return false;
  }
}

/**
 * `maxSize` of a prismaConnection that also checks the paging arguments: plugin-prisma
 * clamps a page over the maximum and reports a bad cursor as a plain error, while Beacon
 * refuses both as VALIDATION naming the argument (spec §9). Runs before the query is built.
 */
export function pageLimit(max: number) {
  return (args: PageArgs): number => {
    if (args.first != null && args.last != null) throw new ValidationError('Pass first or last, not both', 'last');
    if (args.after != null && args.before != null) throw new ValidationError('Pass after or before, not both', 'before');
    pageSize(args.first, 'first', max);
    pageSize(args.last, 'last', max);
    for (const path of ['after', 'before'] as const) {
      const cursor = args[path];
      if (cursor != null && !isPrismaCursor(cursor)) throw new ValidationError(`${path} is not a valid cursor`, path);
    }
    return max;
  };
}

/** Declares `<Name>Connection` and `<Name>Edge` for `nodeRef`, with a lazy totalCount. */
export function countedConnection<T>(name: string, nodeRef: ObjectRef<any, T>, what: string) {
  return builder.connectionObject(
    {
      type: nodeRef,
      name: `${name}Connection`,
      description: `A page of ${what}.`,
      fields: (t) => ({
        totalCount: t.int({
          description: `How many ${what} match, across all pages.`,
          // Tells plugin-prisma that a selection of only totalCount needs no page query.
          extensions: { pothosPrismaTotalCount: true },
          resolve: (parent) => (parent as unknown as CountedConnection<T>).totalCount(),
        }),
      }),
    },
    { name: `${name}Edge`, description: `One of ${what} with its cursor.` },
  );
}

/** Builds a connection from nodes already in page order and their cursors. */
export function toConnection<T>(nodes: T[], cursors: string[], pageInfo: PageInfoShape, totalCount: () => Promise<number>): CountedConnection<T> {
  return { edges: nodes.map((node, i) => ({ node, cursor: cursors[i]! })), pageInfo, totalCount };
}

/** Orders rows loaded by key (`findMany where key in …`) as the keys were ordered. */
export function inKeyOrder<T>(keys: readonly string[], rows: readonly T[], keyOf: (row: T) => string): T[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.flatMap((key) => {
    const row = byKey.get(key);
    return row === undefined ? [] : [row];
  });
}
