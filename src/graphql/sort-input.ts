/**
 * Sort inputs: `SortInput { field direction }` of the users and channels queries (spec §1),
 * and `<Name>Sort { field: <Name>SortField! direction }` of Beacon's own lists.
 */
import type { EnumRef, InputObjectRef } from '@pothos/core';
import { enumValueName, type SortShape } from '../filters/typed-sort.js';
import { builder } from './builder.js';
import { SortDirection } from './root.js';

export const SortInput = builder.inputType('SortInput', {
  description: 'One sort key of a users or channels query: a built-in field or a custom one (dots for nesting).',
  fields: (t) => ({
    field: t.string({ required: true, description: 'Field name, e.g. `created_at`, `name`, `address.city`.' }),
    direction: t.field({ type: SortDirection, defaultValue: 'ASC', description: 'ASC (default) or DESC.' }),
  }),
});

/**
 * Declares `<Name>SortField` (values → descriptions) and `<Name>Sort`. Each field is the
 * ALL_CAPS value (`CREATED_AT`); the camelCase spelling of earlier releases (`createdAt`)
 * still parses, deprecated, to the same internal field.
 */
export function sortInput<const F extends string>(name: string, fields: Record<F, string>): InputObjectRef<any, SortShape<F>> {
  const values = Object.fromEntries(
    Object.entries(fields).flatMap(([value, description]) => [
      [enumValueName(value), { value, description: description as string }],
      [value, { value, description: description as string, deprecationReason: `Use ${enumValueName(value)}.` }],
    ]),
  );
  const fieldEnum = builder.enumType(`${name}SortField`, { description: `Fields a ${name} list can be sorted by.`, values }) as unknown as EnumRef<any, string>;
  return builder.inputType(`${name}Sort`, {
    description: `One sort key of a ${name} list.`,
    fields: (t) => ({
      field: t.field({ type: fieldEnum, required: true, description: 'Field to sort by.' }),
      direction: t.field({ type: SortDirection, defaultValue: 'ASC', description: 'ASC (default) or DESC.' }),
    }),
  }) as unknown as InputObjectRef<any, SortShape<F>>;
}
