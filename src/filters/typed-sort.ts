/**
 * `sort: [XSort!]` for Beacon's own lists: `{ field: XSortField!, direction: ASC|DESC }`
 * (declared by `sortInput` in src/graphql/sort-input.ts), compiled to a Prisma orderBy.
 * The entity's primary key is always appended so the order is total (stable pages).
 */
import { ValidationError } from '../errors.js';

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
