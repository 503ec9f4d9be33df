/**
 * graphql-ws on the API's /graphql path. Operations are built with `yoga.getEnveloped`, so
 * HTTP and WebSocket share plugins (limits, input guards, masking), auth and context.
 *
 * What one socket may cost:
 * - every message is at most MAX_WS_MESSAGE_BYTES (ws `maxPayload`; larger closes 1009
 *   before the message is buffered), `connection_init` included;
 * - `connection_init` must arrive within CONNECTION_INIT_TIMEOUT_MS (else 4408);
 * - without a valid `connectionParams.authorization` string the socket closes 4401
 *   (a missing, malformed or wrongly typed token alike, as HTTP answers 401);
 * - at most MAX_OPERATIONS_PER_SOCKET operations run at once; one more gets an `error`
 *   message for its id and the socket stays open.
 * A subscribe that fails to parse or validate gets an `error` message for its id; the
 * connection stays open (graphql-ws would close it 4500 with the error's text).
 *
 * The socket adapter is ours rather than `graphql-ws/use/ws`: that one writes every socket
 * error (each oversized message, say) to the console, and puts internal error text into
 * close reasons unless NODE_ENV is production. Here such errors go to Beacon's logger and
 * clients see only a code.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { authenticate } from '../auth/tokens.js';
import type { Logger } from '../logger.js';
import type { Context } from './context.js';
import { maskError } from './errors.js';
import type { ServerContext } from './http-edge.js';

/** Largest WebSocket message, in bytes; bulk writes belong on HTTP (BEACON_MAX_BODY_BYTES). */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;
export const CONNECTION_INIT_TIMEOUT_MS = 3000;
export const MAX_OPERATIONS_PER_SOCKET = 20;
/** A socket that does not answer a ping within this long is dropped. */
const KEEP_ALIVE_MS = 12_000;

/** The token a socket authenticated with, or null when it sent none usable. */
function tokenOf(connectionParams: Readonly<Record<string, unknown>> | undefined): string | null {
  const authorization = connectionParams?.authorization;
  return typeof authorization === 'string' && authorization.trim() ? authorization : null;
}

type Executor = (args: ExecutionArgs) => unknown;
/** The enveloped execute/subscribe of each operation, found by the args graphql-ws hands back. */
const executors = new WeakMap<ExecutionArgs, { execute: Executor; subscribe: Executor }>();
const executorsOf = (args: ExecutionArgs) => executors.get(args)!;

interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
}

export interface WsServer {
  close(): Promise<void>;
}

/**
 * Takes a WebSocket upgrade outside the API's endpoint (`npm run dev`: Vite's hot-reload
 * socket) and returns true, or returns false without touching the socket.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** What ws answers an upgrade it does not serve. */
function refuseUpgrade(socket: Duplex): void {
  if (socket.writable) socket.write('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nBad Request');
  socket.destroy();
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Serves graphql-ws on `httpServer` at yoga's endpoint; other upgrades go to `otherUpgrades`
 * when it takes them, and are refused (400) otherwise.
 */
export function startWsServer(
  httpServer: Server,
  yoga: YogaServerInstance<ServerContext, Context>,
  apiSecret: string,
  logger: Logger,
  otherUpgrades?: UpgradeHandler,
): WsServer {
  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
    onConnect: async (ctx) => {
      const token = tokenOf(ctx.connectionParams);
      const auth = token === null ? null : await authenticate(token, apiSecret);
      if (auth && auth.kind !== 'anonymous') return true;
      // graphql-ws closes a refused connection 4403; a missing or bad token is 4401 here.
      ctx.extra.socket.close(CloseCode.Unauthorized, auth ? 'Unauthorized: the access token is invalid' : 'Unauthorized: an access token is required');
      return false;
    },
    onSubscribe: async (ctx, _id, payload) => {
      if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_SOCKET) {
        return [
          new GraphQLError(`At most ${MAX_OPERATIONS_PER_SOCKET} operations may run at once on one connection`, {
            extensions: { code: 'TOO_MANY_OPERATIONS' },
          }),
        ];
      }
      try {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          authorization: tokenOf(ctx.connectionParams),
        });
        const document = parse(payload.query);
        const errors = validate(schema, document);
        if (errors.length) return errors;
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
        };
        executors.set(args, { execute, subscribe });
        return args;
      } catch (error) {
        // A syntax error (or anything else) ends this operation only, masked like HTTP's.
        return [maskError(error, 'Unexpected error.') as GraphQLError];
      }
    },
    execute: (args) => executorsOf(args).execute(args) as never,
    subscribe: (args) => executorsOf(args).subscribe(args) as never,
  });

  // One upgrade listener routes by path: ws's own (`server` + `path`) would refuse every other path.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES, handleProtocols });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '/').split('?')[0] === yoga.graphqlEndpoint) {
      wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
    } else if (!otherUpgrades?.(req, socket, head)) {
      refuseUpgrade(socket);
    }
  };
  httpServer.on('upgrade', onUpgrade);
  wsServer.on('connection', (socket, request) => {
    // ws has already closed the socket (1009 for an oversized message); nothing to answer.
    socket.on('error', (error) => logger.debug('websocket error', { error: errorText(error) }));
    let alive = true;
    const keepAlive = setInterval(() => {
      if (!alive) return void socket.terminate();
      alive = false;
      socket.ping();
    }, KEEP_ALIVE_MS);
    socket.on('pong', () => (alive = true));
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              logger.error('graphql-ws message failed', { error: errorText(error) });
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  });

  return {
    async close() {
      httpServer.off('upgrade', onUpgrade);
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
