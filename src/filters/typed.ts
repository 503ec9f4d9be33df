/**
 * The typed-filter kit of Beacon's own lists (segments, campaigns, recipients, segment
 * targets); their GraphQL inputs are declared in src/graphql/typed-filters.ts. Inputs mirror the JSON operator syntax (`eq ne in nin gt gte lt lte exists
 * autocomplete`, `and/or/nor`) and compile to Prisma `where` objects with the same
 * semantics: `ne`/`nin` also match a missing (null) value, `exists: true` means not null,
 * `autocomplete` is a case-insensitive prefix.
 */
import { ValidationError, joinPath } from '../errors.js';
import { FilterBudget } from './budget.js';
import { MAX_AUTOCOMPLETE_LENGTH, escapeLike } from './json-filter-sql.js';

export const MAX_IN_VALUES = 1000;
export const MAX_FILTER_DEPTH = 5;

export interface ScalarFilter<T> {
  eq?: T | null;
  ne?: T | null;
  in?: readonly T[] | null;
  nin?: readonly T[] | null;
  gt?: T | null;
  gte?: T | null;
  lt?: T | null;
  lte?: T | null;
  exists?: boolean | null;
  autocomplete?: string | null;
}

type Where = Record<string, unknown>;

/** Throws VALIDATION at `path` when an `in`/`nin` list holds more than MAX_IN_VALUES values. */
export function checkValues(values: readonly unknown[], path: string): void {
  if (values.length > MAX_IN_VALUES) {
    throw new ValidationError(`${path} may list at most ${MAX_IN_VALUES} values, got ${values.length}`, path);
  }
}

/** Throws VALIDATION at `path` unless an `autocomplete` text is 1 to MAX_AUTOCOMPLETE_LENGTH characters; returns it. */
export function checkAutocomplete(text: string, path: string): string {
  if (text.length === 0) throw new ValidationError(`${path} must not be empty`, path);
  if (text.length > MAX_AUTOCOMPLETE_LENGTH) {
    throw new ValidationError(`${path} may be at most ${MAX_AUTOCOMPLETE_LENGTH} characters long, got ${text.length}`, path);
  }
  return text;
}

/**
 * Compiles one scalar filter on `field` to a Prisma where. `nullable` says whether the
 * column can be null (only then do ne/nin/exists need the null branch).
 */
export function scalarWhere<T>(field: string, filter: ScalarFilter<T>, path: string, nullable: boolean): Where[] {
  const parts: Where[] = [];
  const at = (op: string) => joinPath(path, op);
  if (filter.eq != null) parts.push({ [field]: filter.eq });
  if (filter.ne != null) {
    parts.push(nullable ? { OR: [{ [field]: { not: filter.ne } }, { [field]: null }] } : { [field]: { not: filter.ne } });
  }
  if (filter.in != null) {
    checkValues(filter.in, at('in'));
    parts.push({ [field]: { in: [...filter.in] } });
  }
  if (filter.nin != null) {
    checkValues(filter.nin, at('nin'));
    const notIn = { [field]: { notIn: [...filter.nin] } };
    parts.push(nullable ? { OR: [notIn, { [field]: null }] } : notIn);
  }
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
    if (filter[op] != null) parts.push({ [field]: { [op]: filter[op] } });
  }
  if (filter.exists != null) {
    // A non-nullable column always exists: `exists: true` adds no condition, `exists: false` matches nothing.
    if (filter.exists) {
      if (nullable) parts.push({ [field]: { not: null } });
    } else parts.push(nullable ? { [field]: null } : { [field]: { in: [] } });
  }
  if (filter.autocomplete != null) {
    const text = checkAutocomplete(filter.autocomplete, at('autocomplete'));
    // Prisma sends `startsWith` as `ILIKE ($1 || '%')` without escaping: `%`, `_` and `\`
    // in the text would act as wildcards (test/typed-filters.test.ts holds Prisma to that).
    parts.push({ [field]: { startsWith: escapeLike(text), mode: 'insensitive' } });
  }
  return parts;
}

/** How one field of an entity filter compiles: a column, or a custom mapping. */
export type FieldCompiler<F> = (value: F, path: string) => Where[];

/** Field compiler for a plain column. */
export function column<T>(name: string, { nullable = false } = {}): FieldCompiler<ScalarFilter<T>> {
  return (value, path) => scalarWhere(name, value, path, nullable);
}

export interface LogicalFilter<Self> {
  and?: readonly Self[] | null;
  or?: readonly Self[] | null;
  nor?: readonly Self[] | null;
}

/**
 * Compiles an entity filter (`{ name: StringFilter, …, and, or, nor }`) to one Prisma
 * where. `fields` maps each filter key to its compiler; `and/or/nor` recurse, at most
 * five levels deep, each a non-empty list. The whole filter shares one size budget
 * (budget.ts): lists of `or` branches each holding 1,000 `in` values are refused where the
 * total is crossed, before Prisma is handed a million values.
 */
export function entityWhere<F extends LogicalFilter<F>>(
  filter: F | null | undefined,
  fields: { [K in Exclude<keyof F, 'and' | 'or' | 'nor'>]-?: FieldCompiler<NonNullable<F[K]>> },
  path = 'filter',
  depth = 0,
  budget = new FilterBudget(),
): Where {
  if (filter == null) return {};
  if (depth > MAX_FILTER_DEPTH) throw new ValidationError(`${path} nests and/or/nor deeper than ${MAX_FILTER_DEPTH} levels`, path);
  const parts: Where[] = [];
  for (const [key, value] of Object.entries(filter) as [keyof F & string, unknown][]) {
    if (value == null) continue;
    if (key === 'and' || key === 'or' || key === 'nor') {
      const list = value as F[];
      if (list.length === 0) throw new ValidationError(`${joinPath(path, key)} needs at least one filter`, joinPath(path, key));
      const compiled = list.map((item, i) => {
        const itemPath = joinPath(joinPath(path, key), i);
        budget.condition(itemPath);
        return entityWhere(item, fields, itemPath, depth + 1, budget);
      });
      parts.push(key === 'and' ? { AND: compiled } : key === 'or' ? { OR: compiled } : { NOT: compiled });
      continue;
    }
    const compile = (fields as Record<string, FieldCompiler<unknown>>)[key];
    if (!compile) throw new ValidationError(`${joinPath(path, key)} is not a filterable field`, joinPath(path, key));
    budget.condition(joinPath(path, key));
    budget.operand(value, joinPath(path, key));
    parts.push(...compile(value, joinPath(path, key)));
  }
  return parts.length === 0 ? {} : parts.length === 1 ? parts[0]! : { AND: parts };
}
