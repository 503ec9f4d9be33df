/**
 * Relay-shaped keyset paging for lists that are not plain Prisma lists (a segment's live
 * audience is raw SQL): the cursor is the row's unique key, the order is whatever the
 * caller's `fetch` reads (it must end with the unique key so it is total). `first/after`
 * page forward, `last/before` backward. Plain Prisma lists use plugin-prisma's
 * `prismaConnection` instead (src/graphql/connections.ts).
 */
import { ValidationError } from './errors.js';
import { pageSize } from './validation.js';

export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** A page of a connection; `totalCount` is a thunk so it costs a query only when selected. */
export interface CountedConnection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfoShape;
  totalCount: () => Promise<number>;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Encodes a unique key as an opaque cursor. */
export function encodeKeyCursor(key: string): string {
  return Buffer.from(JSON.stringify(['k', key])).toString('base64url');
}

/** Decodes a cursor made by encodeKeyCursor, or throws VALIDATION naming `path`. */
export function decodeKeyCursor(cursor: string, path: string): string {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value[0] === 'k' && typeof value[1] === 'string') return value[1];
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError(`${path} is not a valid cursor`, path);
}

export interface KeysetPageOptions<T> {
  args: PageArgs;
  /** Largest page a client may ask for. */
  max: number;
  keyOf: (row: T) => string;
  /** Reads up to |take| rows after (or, with a negative take, before) the cursor's key, skipping the cursor row itself when `skip`. */
  fetch: (paging: { take: number; skip?: number; cursor?: string }) => Promise<T[]>;
  count: () => Promise<number>;
}

/** Loads one page and shapes it as a connection with a lazy totalCount. */
export async function keysetPage<T>(options: KeysetPageOptions<T>): Promise<CountedConnection<T>> {
  const { args } = options;
  if (args.first != null && args.last != null) throw new ValidationError('Pass first or last, not both', 'last');
  if (args.after != null && args.before != null) throw new ValidationError('Pass after or before, not both', 'before');
  const backward = args.last != null || (args.before != null && args.first == null);
  const size = backward ? pageSize(args.last, 'last', options.max) : pageSize(args.first, 'first', options.max);
  const cursorArg = backward ? args.before : args.after;
  const cursor = cursorArg == null ? undefined : decodeKeyCursor(cursorArg, backward ? 'before' : 'after');
  // One extra row tells whether another page exists; Prisma's negative take reads backwards.
  const rows = size === 0 ? [] : await options.fetch({ take: backward ? -(size + 1) : size + 1, skip: cursor ? 1 : undefined, cursor });
  const more = rows.length > size;
  const page = more ? (backward ? rows.slice(1) : rows.slice(0, size)) : rows;
  const cursors = page.map((row) => encodeKeyCursor(options.keyOf(row)));
  return {
    edges: page.map((node, i) => ({ node, cursor: cursors[i]! })),
    pageInfo: {
      hasNextPage: backward ? cursor !== undefined : more,
      hasPreviousPage: backward ? more : cursor !== undefined,
      startCursor: cursors[0] ?? null,
      endCursor: cursors[cursors.length - 1] ?? null,
    },
    totalCount: options.count,
  };
}
