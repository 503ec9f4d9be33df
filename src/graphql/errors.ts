/**
 * Errors in the schema (spec §9). Expected failures of mutations are union members
 * implementing `Error`; everything else becomes a top-level error whose
 * `extensions.code` says what kind it is. Internal details never reach a client.
 */
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { BeaconError, ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { builder } from './builder.js';

export const ErrorCode = builder.enumType('ErrorCode', {
  description: 'Kind of an expected failure.',
  values: {
    VALIDATION: { description: 'An input breaks a rule; `path` names it.' },
    NOT_FOUND: { description: 'The entity named does not exist.' },
    CONFLICT: { description: 'The operation clashes with other data.' },
    INVALID_STATE: { description: 'The entity is not in a state that allows the operation.' },
  } as const,
});

export const ErrorInterface = builder.interfaceRef<BeaconError>('Error').implement({
  description: 'An expected failure returned as data by a mutation.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for people.' }),
    code: t.field({ type: ErrorCode, description: 'What kind of failure.', resolve: (e) => e.code }),
    path: t.stringList({
      nullable: true,
      description: 'Dotted paths of the inputs at fault (`input.name`, `filter.$or[1].age`), when the failure is about inputs.',
      resolve: (e) => (e.path.length ? e.path : null),
    }),
  }),
});

const errorTypes = [
  [ValidationError, 'ValidationError', 'An input breaks a rule: wrong type, too long, unknown id, bad filter.'],
  [NotFoundError, 'NotFoundError', 'The entity named by the operation does not exist.'],
  [ConflictError, 'ConflictError', 'The operation clashes with other data.'],
  [InvalidStateError, 'InvalidStateError', 'The entity is not in a state that allows the operation.'],
] as const;

for (const [cls, name, description] of errorTypes) {
  builder.objectType(cls, { name, description, interfaces: [ErrorInterface], isTypeOf: (value) => value instanceof cls });
}

const ERROR_CLASSES = {
  VALIDATION: ValidationError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  INVALID_STATE: InvalidStateError,
} as const;

/**
 * The `errors` option of a mutation: the kinds of expected failure it can return as data,
 * and only those, so its result union tells a client what to handle. A BeaconError of
 * another kind still reaches the client, as a coded top-level error (`maskError`).
 */
export function errorsOf(...kinds: (keyof typeof ERROR_CLASSES)[]) {
  return { types: kinds.map((kind) => ERROR_CLASSES[kind]) };
}

/**
 * Yoga's `maskError`: BeaconErrors become coded top-level errors, GraphQL errors that
 * already carry a code pass, and anything else is INTERNAL with no details.
 */
export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  if (original instanceof BeaconError) {
    return new GraphQLError(original.message, {
      nodes: graphqlError?.nodes,
      path: graphqlError?.path,
      extensions: { code: original.code, ...(original.path.length ? { path: original.path.join(', ') } : {}) },
    });
  }
  if (original instanceof PothosValidationError) {
    // Pothos' own argument checks (e.g. `before` with `first` on a connection).
    return new GraphQLError(original.message, { nodes: graphqlError?.nodes, path: graphqlError?.path, extensions: { code: 'VALIDATION' } });
  }
  if (graphqlError?.extensions?.code) return graphqlError; // auth and limit errors carry their code
  if (graphqlError && !graphqlError.originalError) return graphqlError; // parse/validation errors
  return new GraphQLError(message, {
    nodes: graphqlError?.nodes,
    path: graphqlError?.path,
    extensions: { code: 'INTERNAL' },
  });
}
