/**
 * The shape shared by `users` and `channels`: a JSON operator filter, `SortInput` keys and
 * keyset paging. The page of keys comes from SQL; rows load with the client's selection.
 */
import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { countJsonFilter, findJsonPage, type JsonPageArgs } from '../filters/json-page.js';
import type { FilterEntity } from '../filters/fields.js';
import { builder } from './builder.js';
import { inKeyOrder, toConnection } from './connections.js';
import type { Context } from './context.js';
import { SortInput } from './sort-input.js';

/** Arguments of a JSON-filtered list; `example` shows a filter in its description. */
export function jsonListArgs(example: string) {
  return builder.args((t) => ({
    filter: t.field({ type: 'JSON', description: `Operator filter, e.g. ${example}.` }),
    sort: t.field({ type: [SortInput], description: 'Sort keys, first is most significant (default created_at ASC).' }),
    first: t.int({ description: 'Page size (default 100, at most 1,000).' }),
    after: t.string({ description: 'Cursor of the last row of the previous page.' }),
  }));
}

interface JsonListSource<T> {
  entity: FilterEntity;
  typeName: 'User' | 'Channel';
  /** Loads rows by primary key with the Prisma selection of `edges.node`. */
  load: (query: object, keys: string[]) => Promise<T[]>;
  keyOf: (row: T) => string;
}

/** Resolves one page of a JSON-filtered list as a counted connection. */
export async function resolveJsonList<T>(source: JsonListSource<T>, args: JsonPageArgs, ctx: Context, info: GraphQLResolveInfo) {
  const page = await findJsonPage(ctx.prisma, source.entity, args);
  const query = queryFromInfo({ context: ctx, info, typeName: source.typeName, path: ['edges', 'node'] });
  const rows = await source.load(query, page.keys);
  return toConnection(inKeyOrder(page.keys, rows, source.keyOf), page.cursors, page, () =>
    countJsonFilter(ctx.prisma, source.entity, args.filter),
  );
}
