/**
 * The HTTP face of the API role: yoga on /graphql (queries, mutations, SSE
 * subscriptions, GraphiQL), graphql-ws on the same path, and GET /healthz. The WebSocket
 * server builds its execution with `yoga.getEnveloped`, so both transports share plugins,
 * auth and context.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type Plugin } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { authenticate } from '../auth/tokens.js';
import { maskError, useUnexpectedErrors } from './errors.js';
import { noNulStringsRule, nulInVariables } from './limits.js';
import { armorPlugins } from './armor.js';
import { requestIdOf, useRequestId } from './request-id.js';
import { schema } from './schema.js';
import { dashboardFiles } from './dashboard-files.js';
import type { AppServices, Context } from './context.js';

export interface ApiServer {
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish, closes sockets. */
  close(): Promise<void>;
}

/** Refuses an operation whose variables hold U+0000 (see noNulStringsRule). */
function refuseNulVariables(variables: unknown, stop: (result: { errors: GraphQLError[] }) => void): void {
  const path = nulInVariables(variables ?? {});
  if (path) stop({ errors: [new GraphQLError(`${path} contains the NUL character (U+0000)`, { extensions: { code: 'VALIDATION', path } })] });
}

const useQueryLimits: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(noNulStringsRule);
  },
  onExecute({ args, setResultAndStopExecution }) {
    refuseNulVariables(args.variableValues, setResultAndStopExecution);
  },
  onSubscribe({ args, setResultAndStopExecution }) {
    refuseNulVariables(args.variableValues, (result) => setResultAndStopExecution(result));
  },
};

/** Starts the API on `port` (0 picks a free one). */
export async function startApiServer(services: AppServices & { apiSecret: string }, port: number): Promise<ApiServer> {
  const { apiSecret, ...shared } = services;
  const yoga = createYoga<{ req?: IncomingMessage; authorization?: string }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Beacon', subscriptionsProtocol: 'WS' },
    landingPage: false,
    maskedErrors: { maskError },
    logging: false,
    plugins: [useQueryLimits, ...armorPlugins(shared.config.queryLimits), useRequestId, useUnexpectedErrors(shared.logger)],
    context: async ({ request, authorization }) => ({
      ...shared,
      // Requests run under the API's statement timeout (see src/db/database.ts).
      prisma: shared.db.apiPrisma,
      auth: await authenticate(authorization ?? request.headers.get('authorization'), apiSecret),
      requestId: requestIdOf(request),
    }),
  });

  const serveDashboard = dashboardFiles();
  const httpServer: Server = createServer(async (req, res) => {
    if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) {
      const ok = await shared.db.ping();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'database unavailable' }));
      return;
    }
    if (await serveDashboard(req, res)) return;
    return yoga.handle(req, res);
  });

  const wsServer = new WebSocketServer({ server: httpServer, path: yoga.graphqlEndpoint });
  const wsCleanup = useServer(
    {
      // Refuse the connection outright unless it carries a valid token.
      onConnect: async (ctx) => {
        const auth = await authenticate(String(ctx.connectionParams?.authorization ?? ''), apiSecret);
        return auth.kind !== 'anonymous';
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: execSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          authorization: String(ctx.connectionParams?.authorization ?? ''),
        });
        const args: ExecutionArgs & { rootValue: { execute: typeof execute; subscribe: typeof subscribe } } = {
          schema: execSchema,
          operationName: payload.operationName,
          document: parse(payload.query),
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
      execute: (args) => (args as unknown as { rootValue: { execute: (a: unknown) => unknown } }).rootValue.execute(args) as never,
      subscribe: (args) => (args as unknown as { rootValue: { subscribe: (a: unknown) => unknown } }).rootValue.subscribe(args) as never,
    },
    wsServer,
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, () => resolve());
  });
  const actualPort = (httpServer.address() as AddressInfo).port;

  return {
    port: actualPort,
    url: `http://localhost:${actualPort}/graphql`,
    async close() {
      await wsCleanup.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
    },
  };
}
