/** `SortInput { field direction }` of the users and channels queries (spec §1). */
import { builder } from './builder.js';
import { SortDirection } from './root.js';

export const SortInput = builder.inputType('SortInput', {
  description: 'One sort key of a users or channels query: a built-in field or a custom one (dots for nesting).',
  fields: (t) => ({
    field: t.string({ required: true, description: 'Field name, e.g. `created_at`, `name`, `address.city`.' }),
    direction: t.field({ type: SortDirection, defaultValue: 'ASC', description: 'ASC (default) or DESC.' }),
  }),
});
