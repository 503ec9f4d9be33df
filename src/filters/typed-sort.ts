/**
 * `sort: [XSort!]` for Beacon's own lists: `{ field: XSortField!, direction: ASC|DESC }`.
 * The entity's primary key is always appended so the order is total (stable pages).
 */
import type { EnumRef, InputObjectRef } from '@pothos/core';
import { ValidationError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { SortDirection } from '../graphql/root.js';

export interface SortShape<F extends string> {
  field: F;
  direction?: 'ASC' | 'DESC' | null;
}

export const MAX_SORT_KEYS = 5;

/** `createdAt` → `CREATED_AT`: enum values are ALL_CAPS like every other enum of the schema. */
export function enumValueName(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

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

/**
 * Turns sort keys into a Prisma orderBy. `columns` maps each sort field to its Prisma
 * field; `key` is the primary key appended last; `fallback` is used when no sort is given.
 */
export function toOrderBy<F extends string>(
  sort: readonly SortShape<F>[] | null | undefined,
  columns: Record<F, string>,
  key: string,
  fallback: SortShape<F>[],
): Record<string, 'asc' | 'desc'>[] {
  const keys = sort && sort.length ? sort : fallback;
  if (keys.length > MAX_SORT_KEYS) throw new ValidationError(`sort may have at most ${MAX_SORT_KEYS} keys`, 'sort');
  const orderBy = keys.map((k) => ({ [columns[k.field]]: k.direction === 'DESC' ? ('desc' as const) : ('asc' as const) }));
  if (!keys.some((k) => columns[k.field] === key)) orderBy.push({ [key]: 'asc' });
  return orderBy;
}
