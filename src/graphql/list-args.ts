/** The arguments of Beacon's typed lists: filter and sort (prismaConnection adds Relay paging both ways). */
import type { InputObjectRef } from '@pothos/core';
import { builder } from './builder.js';

/** The largest page of a typed list (spec §2: at most 1,000; segment targets 10,000). */
export const MAX_LIST_PAGE = 1000;

/** `filter` and `sort` of a list of `what`. */
export function filterSortArgs<F extends object, S extends object>(filter: InputObjectRef<any, F>, sort: InputObjectRef<any, S>, what: string) {
  return builder.args((t) => ({
    filter: t.field({ type: filter, description: `Conditions the ${what} must meet.` }),
    sort: t.field({ type: [sort], description: 'Sort keys, first is most significant (default CREATED_AT ASC, at most 5); the id breaks ties.' }),
  }));
}
