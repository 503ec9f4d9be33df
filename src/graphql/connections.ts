/**
 * Relay connections with `totalCount`. The count is a thunk so it costs a query only
 * when a client selects it.
 */
import type { ObjectRef } from '@pothos/core';
import { builder } from './builder.js';

export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface CountedConnection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfoShape;
  totalCount: () => Promise<number>;
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
