/**
 * GraphQL inputs of the typed filters (`StringFilter`, `IDFilter`, `IntFilter`,
 * `DateTimeFilter`, enum filters, `and/or/nor`); src/filters/typed.ts compiles them.
 */
import type { EnumRef, InputFieldBuilder, InputObjectRef } from '@pothos/core';
import type { ScalarFilter } from '../filters/typed.js';
import { builder } from './builder.js';

const describe = {
  eq: 'Equal to.',
  ne: 'Not equal to (also matches when the value is missing).',
  in: 'One of these values (at most 1,000).',
  nin: 'None of these values (also matches when missing; at most 1,000).',
  gt: 'Greater than.',
  gte: 'Greater than or equal to.',
  lt: 'Less than.',
  lte: 'Less than or equal to.',
  exists: 'true: the value is present (not null); false: it is missing.',
  autocomplete: 'Case-insensitive prefix of the value.',
};

export const StringFilter = builder.inputRef<ScalarFilter<string>>('StringFilter').implement({
  description: 'Conditions on a text value; several are ANDed.',
  fields: (t) => ({
    eq: t.string({ description: describe.eq }),
    ne: t.string({ description: describe.ne }),
    in: t.stringList({ description: describe.in }),
    nin: t.stringList({ description: describe.nin }),
    gt: t.string({ description: describe.gt }),
    gte: t.string({ description: describe.gte }),
    lt: t.string({ description: describe.lt }),
    lte: t.string({ description: describe.lte }),
    exists: t.boolean({ description: describe.exists }),
    autocomplete: t.string({ description: describe.autocomplete }),
  }),
});

const idFields = (t: InputFieldBuilder<any, 'InputObject'>) => ({
  eq: t.id({ description: describe.eq }),
  ne: t.id({ description: describe.ne }),
  in: t.idList({ description: describe.in }),
  nin: t.idList({ description: describe.nin }),
  exists: t.boolean({ description: describe.exists }),
});

export const IDFilter = builder.inputRef<ScalarFilter<string>>('IDFilter').implement({
  description: 'Conditions on an id; several are ANDed.',
  fields: idFields,
});

/** IDFilter with `autocomplete`, for ids people look up by typing (a segment's targets); its compiler must handle it. */
export const IDSearchFilter = builder.inputRef<ScalarFilter<string>>('IDSearchFilter').implement({
  description: 'Conditions on an id, `autocomplete` for a prefix; several are ANDed.',
  fields: (t) => ({ ...idFields(t), autocomplete: t.string({ description: describe.autocomplete }) }),
});

export const IntFilter = builder.inputRef<ScalarFilter<number>>('IntFilter').implement({
  description: 'Conditions on an integer; several are ANDed.',
  fields: (t) => ({
    eq: t.int({ description: describe.eq }),
    ne: t.int({ description: describe.ne }),
    in: t.intList({ description: describe.in }),
    nin: t.intList({ description: describe.nin }),
    gt: t.int({ description: describe.gt }),
    gte: t.int({ description: describe.gte }),
    lt: t.int({ description: describe.lt }),
    lte: t.int({ description: describe.lte }),
    exists: t.boolean({ description: describe.exists }),
  }),
});

export const DateTimeFilter = builder.inputRef<ScalarFilter<Date>>('DateTimeFilter').implement({
  description: 'Conditions on an instant; several are ANDed.',
  fields: (t) => ({
    eq: t.field({ type: 'DateTime', description: describe.eq }),
    ne: t.field({ type: 'DateTime', description: describe.ne }),
    in: t.field({ type: ['DateTime'], description: describe.in }),
    nin: t.field({ type: ['DateTime'], description: describe.nin }),
    gt: t.field({ type: 'DateTime', description: describe.gt }),
    gte: t.field({ type: 'DateTime', description: describe.gte }),
    lt: t.field({ type: 'DateTime', description: describe.lt }),
    lte: t.field({ type: 'DateTime', description: describe.lte }),
    exists: t.boolean({ description: describe.exists }),
  }),
});

/** Declares `<Name>Filter { eq ne in nin }` for an enum. */
export function enumFilter<T extends string>(name: string, enumRef: EnumRef<any, T>): InputObjectRef<any, ScalarFilter<T>> {
  const ref = enumRef as EnumRef<any, string>;
  return builder.inputType(`${name}Filter`, {
    description: `Conditions on a ${name}; several are ANDed.`,
    fields: (t) => ({
      eq: t.field({ type: ref, description: describe.eq }),
      ne: t.field({ type: ref, description: describe.ne }),
      in: t.field({ type: [ref], description: describe.in }),
      nin: t.field({ type: [ref], description: describe.nin }),
    }),
  }) as unknown as InputObjectRef<any, ScalarFilter<T>>;
}

/** `and / or / nor` of an entity filter, each a non-empty list of the filter itself. */
export function logicalFields<T extends object>(t: InputFieldBuilder<any, 'InputObject'>, self: InputObjectRef<any, T>, what: string) {
  return {
    and: t.field({ type: [self], description: `All of these ${what} filters match (at least one; ≤5 levels deep).` }),
    or: t.field({ type: [self], description: `At least one of these ${what} filters matches (at least one).` }),
    nor: t.field({ type: [self], description: `None of these ${what} filters matches (at least one).` }),
  };
}
