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

/** Longest `$autocomplete` text: it is typed by people, and longer ones only cost the database. */
export const MAX_AUTOCOMPLETE_LENGTH = 256;

/** Checks an `$autocomplete` operand: a string of at most MAX_AUTOCOMPLETE_LENGTH characters. */
export function expectAutocomplete(op: string, operand: JsonValue, path: string): string {
  const text = expectString(op, operand, path);
  if (text.length > MAX_AUTOCOMPLETE_LENGTH) {
    throw new ValidationError(`"${op}" is ${text.length} characters long; at most ${MAX_AUTOCOMPLETE_LENGTH} are allowed`, path);
  }
  return text;
}

/** Escapes LIKE's wildcards (`%`, `_`) and its escape character (`\`), so `text` matches itself only. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * `$autocomplete` on a text expression: `text` is a case-insensitive prefix of the value or
 * of a word in it (words are separated by whitespace). One ILIKE with the user's text
 * escaped into a bind parameter — never a regular expression, whose compile and match
 * times grow with the text — against the value with a space in front, so "start of the
 * value" is "after a space" too: `' ' || value ILIKE '% text%'`.
 */
export function autocompleteSql(value: Prisma.Sql, text: string): Prisma.Sql {
  const pattern = `% ${escapeLike(text.replace(/[\t\n\r]/g, ' '))}%`;
  // Tabs and line breaks separate words like spaces do, in the value and in the text.
  return Prisma.sql`((' ' || translate(${value}, E'\\t\\n\\r', '   ')) ILIKE ${pattern} ESCAPE '\\')`;
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

