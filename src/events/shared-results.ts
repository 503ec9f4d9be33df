/**
 * One execution of a subscription's selection per event for all its subscribers alike.
 *
 * The live-events hub (./live-campaigns.ts) hands every subscriber of a campaign the same
 * row object for one event. GraphQL would execute each subscriber's selection on that row
 * for each socket (~120 µs a socket: 1,000 sockets made ~120 ms per event, serially). This
 * plugin replaces the subscribe function (graphql-ws and SSE both go through yoga's
 * enveloped `subscribe`) with one that executes a selection once per event and per
 * distinct (document, operation, variables, auth scope), and hands every subscriber with
 * that selection the same result (a shallow copy: later plugins replace fields, they never
 * change the object). Results are kept in a WeakMap keyed by the event object, so they live
 * exactly as long as the event does.
 *
 * A result with errors is not shared: errors carry the request id of the subscriber whose
 * execution hit them (src/graphql/errors.ts), so each subscriber then executes on its own.
 * Events that are not objects (no identity to share by) execute per subscriber too.
 */
import { createSourceEventStream, execute, type DocumentNode, type GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuthState } from '../auth/tokens.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Per event, the result of each selection executed on it so far. */
const results = new WeakMap<object, Map<string, Result>>();

/** Distinct documents without their source text get a number each. */
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

function documentKey(document: DocumentNode): string {
  const text = document.loc?.source.body;
  if (text !== undefined) return text;
  let id = documentIds.get(document);
  if (id === undefined) documentIds.set(document, (id = ++nextDocumentId));
  return `#${id}`;
}

/** What makes two subscribers' results interchangeable: same document, operation, variables and scope. */
function selectionKey(args: ExecutionArgs, scope: string): string {
  return JSON.stringify([scope, args.operationName ?? null, args.variableValues ?? null, documentKey(args.document)]);
}

/** `source` with each value passed through `map`; ending either side ends the other. */
function mapStream<T, U>(source: AsyncIterator<T>, map: (value: T) => Promise<U>): AsyncIterableIterator<U> {
  const done = (): IteratorResult<U> => ({ done: true, value: undefined });
  return {
    async next() {
      const step = await source.next();
      return step.done ? done() : { done: false, value: await map(step.value) };
    },
    async return() {
      await source.return?.();
      return done();
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Executions of subscription selections in this process (a figure for the benches and tests). */
export const subscriptionExecutions = { count: 0 };

function executeOn(args: ExecutionArgs, event: unknown): Result {
  subscriptionExecutions.count += 1;
  return execute({ ...args, rootValue: event });
}

/** The selection's result on `event`, executed once for every subscriber sharing `key`. */
async function sharedResult(args: ExecutionArgs, key: string, event: unknown): Promise<ExecutionResult> {
  if (typeof event !== 'object' || event === null) return executeOn(args, event);
  let byKey = results.get(event);
  if (!byKey) results.set(event, (byKey = new Map()));
  let result = byKey.get(key);
  const mine = result === undefined;
  if (mine) byKey.set(key, (result = executeOn(args, event)));
  const value = await result!;
  if (value.errors) {
    // Not shared (see the header): the next subscriber executes for itself.
    if (byKey.get(key) === result) byKey.delete(key);
    return mine ? value : executeOn(args, event);
  }
  return { ...value };
}

/** What a subscriber may see follows from who it is: results are shared within one identity. */
function scopeOf(auth: AuthState): string {
  return auth.kind === 'user' ? `user:${auth.userId}` : auth.kind;
}

/** The yoga plugin (src/graphql/server.ts). */
export function useSharedSubscriptionResults(): Plugin<{ auth: AuthState }> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        // Any error of the field's subscribe is the operation's result, as yoga's own executor
        // has it (graphql-js rethrows errors that carry a path but are no GraphQLError: ours).
        const source = await createSourceEventStream(args).catch((error: unknown) => ({ errors: [error as GraphQLError] }));
        if (!(Symbol.asyncIterator in source)) return source;
        const key = selectionKey(args, scopeOf((args.contextValue as { auth: AuthState }).auth));
        return mapStream(source[Symbol.asyncIterator](), (event) => sharedResult(args, key, event));
      });
    },
  };
}
