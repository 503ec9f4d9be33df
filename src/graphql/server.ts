/**
 * The HTTP face of the API role: yoga on /graphql (queries, mutations, SSE subscriptions,
 * GraphiQL) behind the HTTP edge (`http-edge.ts`: auth before the body, body limits),
 * graphql-ws on the same path (`ws-server.ts`), GET /healthz, and GraphiQL's files.
 * Identical reads in flight at once over HTTP run once (`single-flight.ts`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga } from 'graphql-yoga';
import { authenticate, type AuthState } from '../auth/tokens.js';
import { armorPlugins } from './armor.js';
import { maskError, useUnexpectedErrors } from './errors.js';
import { renderGraphiQLPage } from './graphiql.js';
import { createHttpHandler, type ServerContext } from './http-edge.js';
import { useInputGuards } from './input-guards.js';
import { requestIdOf, useRequestId } from './request-id.js';
import { schema } from './schema.js';
import { useSharedReads } from './single-flight.js';
import { dashboardFiles, type DashboardServing } from './dashboard-files.js';
import { startWsServer } from './ws-server.js';
import { useSharedSubscriptionResults } from '../events/shared-results.js';
import type { AppServices, Context } from './context.js';

export interface ApiServer {
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish, closes sockets. */
  close(): Promise<void>;
}

/** Starts the API on `port` (0 picks a free one), with the dashboard at `/` (the build's files unless told otherwise). */
export async function startApiServer(
  services: AppServices & { apiSecret: string },
  port: number,
  dashboard: DashboardServing = { serveFiles: dashboardFiles() },
): Promise<ApiServer> {
  const { apiSecret, ...shared } = services;
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Beacon', subscriptionsProtocol: 'WS' },
    renderGraphiQL: renderGraphiQLPage,
    landingPage: false,
    // Beacon takes no file uploads.
    multipart: false,
    // The HTTP edge has bounded every body before yoga sees it (http-edge.ts); yoga's own limit
    // would pipe each body through one more stream and copy the request (~0.2 ms of CPU each).
    maxRequestBodySize: false,
    maskedErrors: { maskError },
    logging: false,
    // Input guards last: their check of the raw document runs before any parse (armor's token limit included).
    // Shared subscription results last: it replaces the subscribe function the others guard.
    plugins: [
      ...armorPlugins(shared.config.queryLimits),
      useRequestId,
      useUnexpectedErrors(shared.logger),
      useInputGuards,
      useSharedReads,
      useSharedSubscriptionResults(),
    ],
    context: async ({ request, auth, authorization }) => ({
      ...shared,
      // Requests run under the API's statement timeout (see src/db/database.ts).
      prisma: shared.db.apiPrisma,
      // The HTTP edge authenticated POSTs already; GET and WebSocket operations are authenticated here.
      auth: auth ?? (await authenticate(authorization ?? request?.headers.get('authorization'), apiSecret)) satisfies AuthState,
      requestId: requestIdOf(request),
    }),
  });

  const handler = createHttpHandler({ yoga, apiSecret, maxBodyBytes: shared.config.maxBodyBytes, ping: () => shared.db.ping(), logger: shared.logger, readReuseMs: shared.config.readReuseMs, serveFiles: dashboard.serveFiles });
  const httpServer: Server = createServer(handler).on('checkContinue', handler);
  const wsServer = startWsServer(httpServer, yoga, apiSecret, shared.logger, dashboard.upgrade);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, () => resolve());
  });
  const actualPort = (httpServer.address() as AddressInfo).port;

  return {
    port: actualPort,
    url: `http://localhost:${actualPort}/graphql`,
    async close() {
      await wsServer.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      await dashboard.close?.();
    },
  };
}
