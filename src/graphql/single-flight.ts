/**
 * Identical reads in flight at once run once (single flight). Fifty open dashboards poll the
 * same three operations with the same variables; when such requests overlap — the API is
 * busy, exactly when each execution saved matters — the first one (the leader) executes and
 * every identical request arriving while it runs (a follower) is sent the leader's response
 * bytes with its own `x-request-id`.
 *
 * - Identical: the same caller scope (server, or the one user), the same `accept`,
 *   `content-type` and `origin`, and the same body bytes (bodies up to MAX_KEY_BYTES).
 * - Only results of queries that executed without any error are shared (marked by
 *   `useSharedReads` as execution ends); anything else — a mutation, a subscription, a
 *   refused or failed operation — and every follower of it runs on its own.
 * - Never older than a write this process completed: a follower joins only a leader that
 *   started after the last completed mutation and the last campaign event this process's
 *   live-events hub read (`markWrite`); otherwise it leads a flight of its own. What a
 *   follower gets was read after it arrived or at most while it was already in flight —
 *   never from a cache; nothing is kept once the leader has answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendNodeResponse } from '@whatwg-node/server';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuthState } from '../auth/tokens.js';

/** Bodies above this are not coalesced (the key holds the body). */
export const MAX_KEY_BYTES = 16 * 1024;

/** What the execution of one leader found out about its result; yoga's context carries it as `sharedRead`. */
export interface SharedReadMark {
  shareable: boolean;
}

/** Completed writes this process knows of: a flight started before the latest one is not joined. */
let writes = 0;

/** Records that a write completed (a mutation, or a campaign change the live hub is about to read). */
export function markWrite(): void {
  writes += 1;
}

/** The yoga/Envelop plugin: marks clean query results shareable and counts completed mutations. */
export const useSharedReads: Plugin = {
  onExecute({ args }) {
    const kind = getOperationAST(args.document, args.operationName)?.operation;
    const mark = (args.contextValue as { sharedRead?: SharedReadMark }).sharedRead;
    return {
      onExecuteDone({ result }) {
        if (kind === 'mutation') markWrite();
        const single = !(Symbol.asyncIterator in result);
        if (mark && kind === 'query' && single && !(result as { errors?: unknown[] }).errors?.length) mark.shareable = true;
      },
    };
  },
};

interface Answer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

interface Flight {
  writes: number;
  answer: Promise<Answer | null>;
}

/** One yoga execution for a request: `mark` must reach yoga's context as `sharedRead`. */
export type Execute = (mark: SharedReadMark) => Promise<Response>;

/** The key of a request that may be coalesced, or null. */
export function flightKey(req: IncomingMessage, auth: AuthState, body: Uint8Array): string | null {
  if (body.byteLength > MAX_KEY_BYTES || auth.kind === 'anonymous') return null;
  const accept = req.headers.accept ?? '';
  // Streams (SSE, multipart) are never shared.
  if (/text\/event-stream|multipart\/mixed/i.test(accept)) return null;
  const scope = auth.kind === 'server' ? 'server' : `user:${auth.userId}`;
  // The origin too: yoga's CORS headers answer it.
  return `${scope}\u0000${accept}\u0000${req.headers['content-type'] ?? ''}\u0000${req.headers.origin ?? ''}\u0000${Buffer.from(body).toString('latin1')}`;
}

const isJson = (response: Response) => /^application\/(graphql-response\+)?json\b/i.test(response.headers.get('content-type') ?? '');

function send(res: ServerResponse, answer: Answer, requestId: string | null): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of answer.headers) headers[name] = value;
  if (requestId) headers['x-request-id'] = requestId;
  headers['content-length'] = String(answer.body.byteLength);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** The single-flight table of one API server; `onJoin` hears of each follower as it joins. */
export function createSingleFlight(onJoin: () => void = () => {}) {
  const flights = new Map<string, Flight>();

  /** Answers `req` from an identical flight in progress, or runs `execute` as a leader others may join. */
  return async function serve(key: string | null, execute: Execute, req: IncomingMessage, res: ServerResponse, requestId: () => string | null): Promise<void> {
    const running = key === null ? undefined : flights.get(key);
    if (running && running.writes === writes) {
      onJoin();
      const answer = await running.answer;
      if (answer) return send(res, answer, requestId());
    }
    const mark: SharedReadMark = { shareable: false };
    if (key === null) return sendNodeResponse(await execute(mark), res, req, true);

    let settle!: (answer: Answer | null) => void;
    const flight: Flight = { writes, answer: new Promise((resolve) => (settle = resolve)) };
    flights.set(key, flight);
    try {
      const response = await execute(mark);
      if (!mark.shareable || response.status !== 200 || !isJson(response)) {
        settle(null);
        return await sendNodeResponse(response, res, req, true);
      }
      const answer: Answer = {
        status: response.status,
        headers: [...response.headers].filter(([name]) => name !== 'x-request-id' && name !== 'content-length'),
        body: new Uint8Array(await response.arrayBuffer()),
      };
      settle(answer);
      send(res, answer, response.headers.get('x-request-id'));
    } catch (error) {
      settle(null);
      throw error;
    } finally {
      if (flights.get(key) === flight) flights.delete(key);
    }
  };
}
