/**
 * SQL building blocks and operand checks shared by the JSON filter compiler's column,
 * members and custom-field parts. See json-filter.ts for the NULL/negation invariant.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';
import { MAX_LIST_VALUES, describeJson, type ComparisonOperator, type JsonValue } from './fields.js';

export const TRUE_SQL = Prisma.sql`TRUE`;
export const FALSE_SQL = Prisma.sql`FALSE`;

/** ANDs the parts; an empty list is TRUE (the `{}` filter). */
export function andSql(parts: Prisma.Sql[]): Prisma.Sql {
  if (parts.length === 0) return TRUE_SQL;
  if (parts.length === 1) return parts[0]!;
  return Prisma.sql`(${Prisma.join(parts, ' AND ')})`;
}

/** ORs the parts; an empty list is FALSE (`$in: []`). */
export function orSql(parts: Prisma.Sql[]): Prisma.Sql {
  if (parts.length === 0) return FALSE_SQL;
  if (parts.length === 1) return parts[0]!;
  return Prisma.sql`(${Prisma.join(parts, ' OR ')})`;
}

/** Two-valued negation: NULL (unknown, e.g. a missing field) counts as "not matched". */
export function notSql(part: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`((${part}) IS NOT TRUE)`;
}


// ---------------------------------------------------------------------------------------
// Operand checks shared by the column kinds.

export function expectBoolean(op: string, operand: JsonValue, path: string): boolean {
  if (typeof operand !== 'boolean') throw new ValidationError(`"${op}" expects a boolean, got ${describeJson(operand)}`, path);
  return operand;
}

export function expectString(op: string, operand: JsonValue, path: string): string {
  if (typeof operand !== 'string') throw new ValidationError(`"${op}" expects a string, got ${describeJson(operand)}`, path);
  return operand;
}

/** Checks a `$in`/`$nin` list: an array of at most 1,000 values. */
export function expectList(op: string, operand: JsonValue, path: string): JsonValue[] {
  if (!Array.isArray(operand)) throw new ValidationError(`"${op}" expects an array, got ${describeJson(operand)}`, path);
  if (operand.length > MAX_LIST_VALUES) {
    throw new ValidationError(`"${op}" has ${operand.length} values; at most ${MAX_LIST_VALUES} are allowed`, path);
  }
  return operand;
}

/**
 * A case-insensitive regex for `$autocomplete`: the text at the start of the value or right
 * after a non-word character (the start of any word). Every ASCII non-word character of the
 * user's text is backslash-escaped — in PostgreSQL AREs `\` before a non-alphanumeric is a
 * literal — so the text can never act as regex syntax; the regex is a bind parameter.
 */
export function autocompletePattern(text: string): string {
  const escaped = text.replace(/[\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]/g, (c) => `\\${c}`);
  return `(^|[^[:alnum:]_])${escaped}`;
}

const COMPARATORS: Partial<Record<ComparisonOperator, Prisma.Sql>> = {
  $gt: Prisma.raw('>'),
  $gte: Prisma.raw('>='),
  $lt: Prisma.raw('<'),
  $lte: Prisma.raw('<='),
};

/** The SQL comparison operator of `$gt/$gte/$lt/$lte`, or undefined for other operators. */
export function comparatorSql(op: ComparisonOperator): Prisma.Sql | undefined {
  return COMPARATORS[op];
}

