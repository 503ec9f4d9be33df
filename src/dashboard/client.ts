/**
 * The GraphQL client: urql over HTTP for queries and mutations, graphql-ws on the same
 * `/graphql` path for subscriptions, both carrying the signed-in token. Any sign that the
 * token is no good (an UNAUTHENTICATED error, the WebSocket refused with 4403, the token's
 * own `exp` passed) calls `onSignedOut` with the reason, and the app returns to sign-in.
 */
import { Client, fetchExchange, mapExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';
import { EXPIRED_NOTICE, REFUSED_NOTICE, tokenProblem } from './auth';

export interface DashboardClient {
  client: Client;
  dispose(): void;
}

export function createDashboardClient(token: string, onSignedOut: (notice: string) => void): DashboardClient {
  const authorization = `Bearer ${token}`;
  const wsUrl = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`;
  const ws = createWsClient({
    url: wsUrl,
    connectionParams: { authorization },
    // Connect on the first subscription, and keep the socket a while after the last: closed
    // at once, it would race the next page's first subscription (which then ends at once).
    lazy: true,
    lazyCloseTimeout: 10_000,
    // Retry through restarts and network blips, not through a refused token (4403 is fatal).
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      closed: (event) => {
        if ((event as CloseEvent | undefined)?.code === 4403) onSignedOut(REFUSED_NOTICE);
      },
    },
  });

  const client = new Client({
    url: '/graphql',
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization } }),
    exchanges: [
      mapExchange({
        onOperation(operation) {
          if (tokenProblem(token)) onSignedOut(EXPIRED_NOTICE);
          return operation;
        },
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) onSignedOut(REFUSED_NOTICE);
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return { client, dispose: () => void ws.dispose() };
}
