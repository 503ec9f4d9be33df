/**
 * The HTTP edge in front of yoga: what a request may cost before GraphQL sees it.
 *
 * - A request that may carry a body (POST; anything but GET, HEAD, OPTIONS) is
 *   authenticated from its `authorization` header first: without a valid token it is
 *   refused with 401 UNAUTHENTICATED and its body is never buffered (every operation needs
 *   a token, spec §8).
 * - A body with a server token may be at most `maxBodyBytes` (BEACON_MAX_BODY_BYTES), one
 *   with a user token USER_TOKEN_MAX_BODY_BYTES: a larger Content-Length is refused at
 *   once, and a body streamed without one is refused as soon as it crosses the limit
 *   (413 PAYLOAD_TOO_LARGE); nothing past the limit is buffered.
 * - A JSON body may hold at most MAX_JSON_CONTAINERS objects and arrays, counted on the
 *   bytes before JSON.parse: 4 MB of `[{},{},…]` would otherwise become 1.4 million objects
 *   (~80 MB of heap) from one request.
 * - Only `application/json` and `application/graphql` bodies are accepted (415 otherwise):
 *   Beacon takes no uploads, and the other encodings would bypass the JSON count.
 * - GET (GraphiQL's page, GET queries) and OPTIONS (CORS preflight) carry no body and go
 *   to yoga as they are; their size is bounded by Node's header limit.
 * Refusals are GraphQL-shaped (`{ errors: [{ message, extensions: { code } }] }`); the rest
 * of a refused body is discarded for at most LINGER_MS, then the connection is closed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import { authenticate, type AuthState } from '../auth/tokens.js';
import type { Logger } from '../logger.js';
import type { Context } from './context.js';
import { GRAPHIQL_ASSETS_PATH, sendGraphiQLAsset } from './graphiql.js';
import { apiRequestStarted } from '../delivery/priority.js';
import { requestIdOf } from './request-id.js';
import { createSingleFlight, flightKey, type SharedReadMark } from './single-flight.js';

/** How long the rest of a refused body is discarded before the connection is closed. */
const LINGER_MS = 2000;

/** Body limit of user tokens: they may only call markChannelRead (spec §8), a few hundred bytes. */
export const USER_TOKEN_MAX_BODY_BYTES = 16 * 1024;

/** Most objects plus arrays one JSON request body may hold. */
export const MAX_JSON_CONTAINERS = 100_000;

/**
 * Yoga's server context: Node's request and response and the caller the edge authenticated
 * (HTTP), or the token of a WebSocket connection (`ws-server.ts`).
 */
export interface ServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
  auth?: AuthState;
  authorization?: string | null;
  /** HTTP: set when the result may answer identical requests in flight (single-flight.ts). */
  sharedRead?: SharedReadMark;
}

export interface HttpEdgeOptions {
  yoga: YogaServerInstance<ServerContext, Context>;
  apiSecret: string;
  maxBodyBytes: number;
  /** Whether the database answers (GET /healthz). */
  ping: () => Promise<boolean>;
  logger: Logger;
  /** How long an answered read serves identical requests while several clients poll it (single-flight.ts). */
  readReuseMs: number;
  /** Answers a GET/HEAD outside /graphql and /healthz when it has a file for it (the dashboard); false to pass it on. */
  serveFiles?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

class Refusal {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}

/**
 * Answers with a GraphQL-shaped error. The client may still be sending its body: closing a
 * socket with unread data resets the connection, and the client can lose the answer, so
 * the rest is discarded (never buffered) until it ends, for at most LINGER_MS; a body
 * still coming then loses its connection.
 */
function refuse(req: IncomingMessage, res: ServerResponse, { status, code, message }: Refusal): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  if (req.readableEnded) return;
  const linger = setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  req.once('end', () => clearTimeout(linger));
  req.resume();
}

/** Counts `{` and `[` outside JSON strings, stopping once past `max`. */
export function countJsonContainers(bytes: Uint8Array, max: number): number {
  let count = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c /* \ */) i += 1;
      else if (b === 0x22 /* " */) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if ((b === 0x7b || b === 0x5b) /* { [ */ && ++count > max) {
      return count;
    }
  }
  return count;
}

const tooLarge = (max: number) => new Refusal(413, 'PAYLOAD_TOO_LARGE', `The request body may be at most ${max} bytes`);

/** Reads the body, refusing it as soon as it passes `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | Refusal> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData).pause();
        chunks.length = 0;
        resolve(tooLarge(max));
      } else {
        chunks.push(chunk);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** Whether the client waits for `100 Continue` before sending its body (curl does above 1 KB). */
const expectsContinue = (req: IncomingMessage) => /^100-continue$/i.test(req.headers.expect?.trim() ?? '');

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The request with its body read and checked, for yoga; or why it is refused. */
async function admit(req: IncomingMessage, res: ServerResponse, auth: AuthState, options: HttpEdgeOptions): Promise<{ request: Request; body: Buffer } | Refusal> {
  if (auth.kind === 'anonymous') {
    return new Refusal(401, 'UNAUTHENTICATED', auth.reason === 'missing' ? 'An access token is required' : 'The access token is invalid');
  }
  const type = mediaType(req);
  if (type !== 'application/json' && type !== 'application/graphql') {
    return new Refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the operation as application/json');
  }
  const max = auth.kind === 'server' ? options.maxBodyBytes : USER_TOKEN_MAX_BODY_BYTES;
  if (Number(req.headers['content-length'] ?? 0) > max) return tooLarge(max);
  if (expectsContinue(req)) res.writeContinue();
  const body = await readBody(req, max);
  if (body instanceof Refusal) return body;
  if (type === 'application/json' && countJsonContainers(body, MAX_JSON_CONTAINERS) > MAX_JSON_CONTAINERS) {
    return new Refusal(413, 'PAYLOAD_TOO_LARGE', `The request may hold at most ${MAX_JSON_CONTAINERS} JSON objects and arrays`);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') {
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }
  // Aborting on close ends SSE streams (and their subscriptions) when the client leaves; a
  // response that was sent in full has nothing to end (and an abort builds an AbortError).
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const url = `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;
  return { request: new options.yoga.fetchAPI.Request(url, { method: req.method, headers, body: body as Uint8Array<ArrayBuffer>, signal: abort.signal }), body };
}

/** Whether the client asks for an SSE stream (a subscription that stays open). */
const acceptsEventStream = (req: IncomingMessage) => /text\/event-stream/i.test(req.headers.accept ?? '');

/**
 * The Node request handler: /healthz, GraphiQL's files, the dashboard's files, then /graphql through the checks
 * above. Register it for `checkContinue` too: a client that sends `Expect: 100-continue`
 * is then told to send its body only once it has been admitted.
 */
export function createHttpHandler(options: HttpEdgeOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { yoga, apiSecret } = options;
  const singleFlight = createSingleFlight(() => options.logger.debug('read joined an identical one in flight'), options.readReuseMs);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/healthz') {
      const ok = await options.ping();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'database unavailable' }));
      return;
    }
    if (path.startsWith(GRAPHIQL_ASSETS_PATH) && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendGraphiQLAsset(path.slice(GRAPHIQL_ASSETS_PATH.length), res);
    }
    if (options.serveFiles && (await options.serveFiles(req, res))) return;
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') {
      if (expectsContinue(req)) res.writeContinue();
      return yoga.handle(req, res) as Promise<void>;
    }
    const auth = await authenticate(req.headers.authorization, apiSecret);
    const admitted = await admit(req, res, auth, options).catch(() => null);
    if (admitted === null) return void res.destroy(); // the client broke off its body
    if (admitted instanceof Refusal) return refuse(req, res, admitted);
    const { request, body } = admitted;
    const execute = (sharedRead: SharedReadMark) => yoga.fetch(request, { req, res, auth, sharedRead }) as Promise<Response>;
    // Delivery lanes of this process wait for a request before their next batch
    // (src/delivery/priority.ts); an SSE stream stays open and is not waited for.
    const answered = acceptsEventStream(req) ? () => {} : apiRequestStarted();
    try {
      await singleFlight(flightKey(req, auth, body), execute, req, res, () => requestIdOf(request));
    } finally {
      answered();
    }
  };
  return (req, res) =>
    handle(req, res).catch((error: unknown) => {
      if (res.destroyed) return; // the client left mid-request or mid-stream: nothing to answer
      // Yoga answers GraphQL failures itself; this is the edge's own.
      options.logger.error('http request failed', { error: error instanceof Error ? error.message : String(error) });
      if (res.headersSent) res.destroy();
      else refuse(req, res, new Refusal(500, 'INTERNAL', 'Unexpected error.'));
    });
}
