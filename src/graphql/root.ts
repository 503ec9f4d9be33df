/**
 * Scalars and the root types. Every root field requires a server token unless it opts
 * out with `skipTypeScopes` and its own scopes (markChannelRead).
 */
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { builder } from './builder.js';

builder.addScalarType('JSON', JSONResolver, {
  description: 'Any JSON value: custom data, filters in the operator syntax.',
});
builder.addScalarType('DateTime', DateTimeResolver, {
  description: 'An instant in time as an ISO 8601 string in UTC, e.g. 2026-01-31T12:00:00.000Z.',
});

builder.queryType({
  description: 'Reads. Every field needs a server token.',
  authScopes: { server: true },
});
builder.mutationType({
  description: 'Writes. Every field needs a server token, except markChannelRead, which the user it names may also call.',
  authScopes: { server: true },
});

export const SortDirection = builder.enumType('SortDirection', {
  description: 'Order of a sort key.',
  values: {
    ASC: { description: 'Smallest first.' },
    DESC: { description: 'Largest first.' },
  } as const,
});
