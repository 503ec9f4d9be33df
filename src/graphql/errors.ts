/**
 * Errors in the schema (spec §9). Expected failures of mutations are union members
 * implementing `Error`; everything else becomes a top-level error whose
 * `extensions.code` says what kind it is. Internal details never reach a client.
 */
import { GraphQLError } from 'graphql';
import { BeaconError, ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { builder } from './builder.js';
import { QUERY_CANCELED, sqlState } from '../db/errors.js';

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

/** Error classes a mutation may return as data; pass to `errors: { types }`. */
export const ALL_ERRORS = [ValidationError, NotFoundError, ConflictError, InvalidStateError];

/**
 * Yoga's `maskError`: BeaconErrors become coded top-level errors, a query cancelled by the
 * statement timeout is TIMEOUT, GraphQL errors that already carry a code pass, and anything
 * else is INTERNAL with no details.
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
  if (sqlState(original) === QUERY_CANCELED) {
    // The API's statement timeout (BEACON_QUERY_TIMEOUT_MS) cancelled the query: the
    // client's request was too expensive, which it should be told, not INTERNAL.
    return new GraphQLError('The database query took longer than the server allows for one request and was cancelled; narrow the filter or page size', {
      nodes: graphqlError?.nodes,
      path: graphqlError?.path,
      extensions: { code: 'TIMEOUT' },
    });
  }
  if (graphqlError?.extensions?.code) return graphqlError; // auth and limit errors carry their code
  if (graphqlError && !graphqlError.originalError) return graphqlError; // parse/validation errors
  return new GraphQLError(message, {
    nodes: graphqlError?.nodes,
    path: graphqlError?.path,
    extensions: { code: 'INTERNAL' },
  });
}
