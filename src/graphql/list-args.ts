/** The arguments every typed Beacon list takes: filter, sort and Relay paging both ways. */
import type { InputObjectRef } from '@pothos/core';
import { builder } from './builder.js';

/** `filter`, `sort`, `first/after`, `last/before` for a list of `what` (page size ≤ `max`). */
export function typedListArgs<F extends object, S extends object>(filter: InputObjectRef<any, F>, sort: InputObjectRef<any, S>, what: string, max = 1000) {
  const limit = max.toLocaleString('en');
  return builder.args((t) => ({
    filter: t.field({ type: filter, description: `Conditions the ${what} must meet.` }),
    sort: t.field({ type: [sort], description: 'Sort keys, first is most significant (default createdAt ASC, at most 5); the id breaks ties.' }),
    first: t.int({ description: `Page size forward (default 100, at most ${limit}).` }),
    after: t.string({ description: 'Cursor to page forward from.' }),
    last: t.int({ description: `Page size backward (at most ${limit}).` }),
    before: t.string({ description: 'Cursor to page backward from.' }),
  }));
}
