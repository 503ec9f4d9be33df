/**
 * Operators on custom fields: values inside the `custom` JSONB column, addressed by a
 * dotted path (`address.city` → `t.custom #> '{address,city}'`).
 *
 * Two SQL shapes are used:
 * - Equality-like tests (`$eq`, `$in`, `$contains`) are written as containment of a nested
 *   object, `t.custom @> ANY($1::jsonb[])`, because that is what the GIN `jsonb_path_ops`
 *   index on `custom` serves (a bitmap index scan, also through `ANY`). `{"a": {"b": V}}`
 *   and `{"a": {"b": [V]}}` together match "the value is V or an array holding V".
 * - Everything else reads the value with `#>` and compares jsonb to jsonb, checking
 *   `jsonb_typeof` first so that numbers only compare with numbers and strings with strings.
 *
 * `#>` reads a numeric segment as an array index (`tags.0` is the first tag) while
 * containment only knows object keys, so for paths with index-like segments the equality
 * tests use the `#>` shape too; both shapes then agree on what a path means.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError, joinPath } from '../errors.js';
import {
  customValueSql,
  describeJson,
  isIndexLikeSegment,
  nestUnderPath,
  type ComparisonOperator,
  type CustomField,
  type JsonValue,
} from './fields.js';
import {
  andSql,
  autocompleteSql,
  comparatorSql,
  expectAutocomplete,
  expectBoolean,
  expectList,
  notSql,
  orSql,
} from './json-filter-sql.js';

type Scalar = string | number | boolean;

function isScalar(value: JsonValue): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function jsonParam(value: JsonValue): Prisma.Sql {
  return Prisma.sql`${JSON.stringify(value)}::jsonb`;
}

/** Compiles one operator on a custom field; see the module comment for the SQL shapes. */
export function compileCustomOperator(
  field: CustomField,
  op: ComparisonOperator,
  operand: JsonValue,
  path: string,
  name: string = op,
): Prisma.Sql {
  const v = customValueSql(field);
  const indexable = !field.segments.some(isIndexLikeSegment);

  /** Containment of any of the values nested under the path; GIN-indexable. */
  const containsAny = (values: JsonValue[]): Prisma.Sql =>
    Prisma.sql`(t."custom" @> ANY(${values.map((x) => JSON.stringify(nestUnderPath(field.segments, x)))}::jsonb[]))`;

  /**
   * `test` holds for the value itself or for one of its elements when it is an array
   * (MongoDB's array semantics). The CASE hands jsonb_array_elements an empty array for
   * non-arrays, because it raises on scalars and SQL does not promise AND short-circuiting.
   */
  const valueOrElement = (test: (x: Prisma.Sql) => Prisma.Sql): Prisma.Sql =>
    Prisma.sql`(${test(v)} OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${v}) = 'array' THEN ${v} ELSE '[]'::jsonb END) AS e(x) WHERE ${test(Prisma.sql`e.x`)}))`;

  /** Missing path (SQL NULL) or JSON null. */
  const missingOrNull = (): Prisma.Sql => Prisma.sql`(COALESCE(${v}, 'null'::jsonb) = 'null'::jsonb)`;

  switch (op) {
    case '$eq': {
      if (operand === null) return missingOrNull();
      if (isScalar(operand)) {
        // For scalars containment is exact, so the index answers the whole test.
        if (indexable) return containsAny([operand, [operand]]);
        return valueOrElement((x) => Prisma.sql`${x} = ${jsonParam(operand)}`);
      }
      // Arrays and objects compare exactly; containment (a superset test) only pre-filters
      // through the index.
      const exact = valueOrElement((x) => Prisma.sql`${x} = ${jsonParam(operand)}`);
      return indexable ? andSql([containsAny([operand, [operand]]), exact]) : exact;
    }
    case '$ne':
      return notSql(compileCustomOperator(field, '$eq', operand, path, op));
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'number' && typeof operand !== 'string') {
        throw new ValidationError(`"${op}" expects a number or a string, got ${describeJson(operand)}`, path);
      }
      const type = typeof operand === 'number' ? 'number' : 'string';
      const cmp = comparatorSql(op)!;
      // jsonb compares numbers numerically and strings by collation; the type check keeps
      // jsonb's cross-type order (string < number < boolean) out of the result.
      return valueOrElement((x) => Prisma.sql`(jsonb_typeof(${x}) = ${type} AND ${x} ${cmp} ${jsonParam(operand)})`);
    }
    case '$in': {
      const list = expectList(name, operand, path);
      list.forEach((item, i) => {
        if (item !== null && !isScalar(item)) {
          throw new ValidationError(
            `"${name}" values must be strings, numbers, booleans or null, got ${describeJson(item)}`,
            joinPath(path, i),
          );
        }
      });
      const values = list.filter((x): x is Scalar => x !== null);
      const parts: Prisma.Sql[] = [];
      if (values.length > 0) {
        parts.push(
          indexable
            ? containsAny(values.flatMap((x) => [x, [x]]))
            : valueOrElement((x) => Prisma.sql`${x} = ANY(${values.map((y) => JSON.stringify(y))}::jsonb[])`),
        );
      }
      if (values.length < list.length) parts.push(missingOrNull());
      return orSql(parts);
    }
    case '$nin':
      return notSql(compileCustomOperator(field, '$in', operand, path, op));
    case '$exists':
      // jsonb_typeof is NULL for a missing path and 'null' for JSON null: both "not present".
      return expectBoolean(name, operand, path)
        ? Prisma.sql`(jsonb_typeof(${v}) <> 'null')`
        : notSql(Prisma.sql`(jsonb_typeof(${v}) <> 'null')`);
    case '$autocomplete': {
      const text = expectAutocomplete(name, operand, path);
      // `#>> '{}'` unwraps a jsonb string to text without quotes.
      return valueOrElement((x) => Prisma.sql`(jsonb_typeof(${x}) = 'string' AND ${autocompleteSql(Prisma.sql`(${x} #>> '{}')`, text)})`);
    }
    case '$contains': {
      if (!isScalar(operand)) {
        throw new ValidationError(`"$contains" expects a string, number or boolean, got ${describeJson(operand)}`, path);
      }
      // An array holding the value: `{"tags": [V]}` containment (indexable), or `@> '[V]'`
      // on the extracted value (false for non-arrays).
      if (indexable) return Prisma.sql`(t."custom" @> ${jsonParam(nestUnderPath(field.segments, [operand]))})`;
      return Prisma.sql`(${v} @> ${jsonParam([operand])})`;
    }
  }
}
