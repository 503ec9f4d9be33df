/**
 * The Pothos schema builder and its plugins; it defines no types. Plugin order matters:
 * scope-auth first (after relay), errors before prisma.
 */
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { GraphQLError } from 'graphql';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { Context } from './context.js';

let unusedQueryReporter: ((field: string) => void) | null = null;

/** Where plugin-prisma reports a selection loaded for a field that no resolver used (null: nowhere, as in production). */
export function reportUnusedQueries(reporter: ((field: string) => void) | null): void {
  unusedQueryReporter = reporter;
  // plugin-prisma reads the option on every resolve and, while it is set, wraps every planned
  // query to watch reads on it: without a reporter that work is skipped.
  (builder.options.prisma as { onUnusedQuery?: unknown }).onUnusedQuery = reporter ? onUnusedQuery : undefined;
}

const onUnusedQuery = (info: { parentType: { name: string }; fieldName: string }) => unusedQueryReporter?.(`${info.parentType.name}.${info.fieldName}`);

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes;
  Context: Context;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date | string };
  };
  AuthScopes: {
    /** A server token. */
    server: boolean;
    /** A user token for exactly this user id. */
    userIs: string;
  };
}>({
  defaultFieldNullability: false,
  plugins: [RelayPlugin, ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, SimpleObjectsPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: { list: false, items: false }, description: 'The items of this page, each with its cursor.' },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    cursorFieldOptions: { description: 'Opaque cursor of this item; pass it as `after` or `before`.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    pageInfoTypeOptions: { description: 'Paging state of a connection (Relay cursor pagination).' },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of this page, or null when the page is empty.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of this page, or null when the page is empty.' },
    // Paging arguments of every prismaConnection (their page limit is 1,000: list-args.ts).
    firstArgOptions: { description: 'Page size forward (default 100, at most 1,000).' },
    afterArgOptions: { description: 'Cursor to page forward from.' },
    lastArgOptions: { description: 'Page size backward (at most 1,000).' },
    beforeArgOptions: { description: 'Cursor to page backward from.' },
  },
  scopeAuth: {
    // Subscriptions are authorized when they start, not per event.
    authorizeOnSubscribe: true,
    authScopes: async (context) => ({
      server: context.auth.kind === 'server',
      userIs: (userId) => context.auth.kind === 'user' && context.auth.userId === userId,
    }),
    // A caller without a valid token is UNAUTHENTICATED; a valid token without the scope is FORBIDDEN.
    unauthorizedError: (_parent, context) =>
      context.auth.kind === 'anonymous'
        ? new GraphQLError(
            context.auth.reason === 'missing' ? 'An access token is required' : 'The access token is invalid',
            { extensions: { code: 'UNAUTHENTICATED' } },
          )
        : new GraphQLError('This token may not perform this operation', { extensions: { code: 'FORBIDDEN' } }),
  },
  errors: {
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName.charAt(0).toUpperCase()}${fieldName.slice(1)}Result`,
      description: 'The result of the mutation, or the error that stopped it (nothing was written).',
    },
  },
  prisma: {
    client: (context) => context.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    // The schema is built at import, before the config is read: the API server decides
    // (reportUnusedQueries) whether a Prisma selection that no resolver used is reported.
    onUnusedQuery,
  },
});
