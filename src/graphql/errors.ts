/**
 * Errors in the schema (spec §9). Expected failures of mutations are union members
 * implementing `Error`; everything else becomes a top-level error whose
 * `extensions.code` says what kind it is. Internal details never reach a client.
 */
import { PothosValidationError } from '@pothos/core';
import { GraphQLError, getOperationAST } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import { BeaconError, ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from './request-id.js';
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
 * The error a client may see as it is: BeaconErrors become coded top-level errors, GraphQL
 * errors that already carry a code pass, and so do parse/validation errors. Anything else is
 * unexpected (a bug, a database failure): null.
 */
function publicError(error: unknown): GraphQLError | null {
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
  return null;
}

function internalError(error: unknown, message: string, requestId?: string): GraphQLError {
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  return new GraphQLError(message, {
    nodes: graphqlError?.nodes,
    path: graphqlError?.path,
    extensions: { code: 'INTERNAL', ...(requestId ? { requestId } : {}) },
  });
}

/**
 * Yoga's `maskError`, the last line: expected errors pass (see publicError), anything else is
 * INTERNAL with no details. Errors of an operation reach it already masked and logged by
 * `useUnexpectedErrors`, which knows the request.
 */
export function maskError(error: unknown, message: string): Error {
  return publicError(error) ?? internalError(error, message);
}

const UNEXPECTED = 'Unexpected error.';

/**
 * Logs every unexpected error of an operation (HTTP, SSE or WebSocket) with its stack, the
 * operation's name, the request id and the field path, and hands the client INTERNAL with
 * the same `requestId`, so a report from a client leads to the log line. Runs before yoga's
 * own masking (user plugins come first), while the operation's context is still at hand;
 * failures while building the context are caught the same way.
 */
export function useUnexpectedErrors(logger: Logger): Plugin<Context> {
  const report = (error: unknown, requestId: string, operationName: string | null | undefined): GraphQLError => {
    const graphqlError = error instanceof GraphQLError ? error : undefined;
    logger.error('unexpected error', {
      requestId,
      operationName: operationName ?? null,
      path: graphqlError?.path?.join('.') ?? null,
      err: graphqlError?.originalError ?? error,
    });
    return internalError(error, UNEXPECTED, requestId);
  };
  const mask: Parameters<typeof handleStreamOrSingleExecutionResult<Context>>[1] = ({ args, result, setResult }) => {
    if (!result.errors?.some((error) => !publicError(error))) return;
    const operationName = getOperationAST(args.document, args.operationName)?.name?.value;
    const errors = result.errors.map((error) => (publicError(error) ? error : report(error, args.contextValue.requestId, operationName)));
    setResult({ ...result, errors });
  };
  return {
    onPluginInit({ registerContextErrorHandler }) {
      registerContextErrorHandler(({ context, error, setError }) => {
        if (publicError(error)) return;
        const params = context.params as { operationName?: string } | undefined;
        setError(report(error, requestIdOf(context.request as Request | undefined), params?.operationName));
      });
    },
    onExecute: () => ({ onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, mask) }),
    onSubscribe: () => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, mask),
    }),
  };
}
