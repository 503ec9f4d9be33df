/**
 * Identical reads share one execution (single flight). Fifty open dashboards poll the same
 * three operations with the same variables; when such requests overlap — the API is busy,
 * exactly when each execution saved matters — the first one (the leader) executes and every
 * identical request arriving while it runs (a follower) is sent the leader's response bytes
 * with its own `x-request-id`. When several clients poll one read — an identical request
 * shared an execution within the last HOT_MS — its answer also serves identical requests
 * for `reuseMs` after it was sent (BEACON_READ_REUSE_MS, default 250 ms), unless a write this
 * process knows of happened since the leader started. A lone client's reads always run.
 *
 * - Identical: the same caller scope (server, or the one user), the same `accept`,
 *   `content-type` and `origin`, and the same body bytes (bodies up to MAX_KEY_BYTES).
 * - Only results of queries that executed without any error are shared (marked by
 *   `useSharedReads` as execution ends); anything else — a mutation, a subscription, a
 *   refused or failed operation — and every follower of it runs on its own.
 * - Never older than a write this process completed: a follower joins only a leader that
 *   started after the last completed mutation and the last campaign event this process's
 *   live-events hub read (`markWrite`); otherwise it leads a flight of its own. A write this
 *   process does not see (another API process, SQL from outside) shows up at most
 *   `reuseMs` plus one execution late — live state comes from the campaign events, which
 *   every process's hub hears, so a dashboard's figures are never held back by it.
 * - Bounded: at most MAX_KEPT answers, MAX_KEPT_BYTES in all, are kept past their flight.
 *
 * Measured (bench:delivery --readers 50, 100,000 recipients delivering): 50 dashboards
 * polling once a second ran ~140 executions a second, 3–7 ms of CPU each on the event loop
 * the lanes share, and waited behind each other (p50 31 / p99 190 ms); answers reused for
 * 250 ms: p50 9 / p99 98 ms, and Beacon's CPU for the whole run 4.8 → 2.7 s.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendNodeResponse } from '@whatwg-node/server';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuthState } from '../auth/tokens.js';

/** Bodies above this are not coalesced (the key holds the body). */
export const MAX_KEY_BYTES = 16 * 1024;
/** Answered flights kept for reuse, at most (the oldest goes first). */
export const MAX_KEPT = 1000;
/** Bytes of the answers kept for reuse, at most. */
export const MAX_KEPT_BYTES = 32 * 1024 * 1024;
/** A read is polled by several clients (its answers are kept) for this long after an identical request last shared one. */
export const HOT_MS = 2000;

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
  /** performance.now() until which it may be joined: Infinity while in flight. */
  until: number;
  /** Its answer's bytes once kept for reuse (0 until then). */
  bytes: number;
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

/**
 * The single-flight table of one API server; `onJoin` hears of each follower as it joins;
 * answers serve identical requests for `reuseMs` after they were sent (0: only in flight).
 */
export function createSingleFlight(onJoin: () => void = () => {}, reuseMs = 0) {
  const flights = new Map<string, Flight>();
  let kept = 0;
  let keptBytes = 0;
  /** When an identical request last shared each key's execution (performance.now()), at most MAX_KEPT keys. */
  const sharedAt = new Map<string, number>();
  const shared = (key: string) => {
    sharedAt.delete(key);
    if (sharedAt.size >= MAX_KEPT) sharedAt.delete(sharedAt.keys().next().value!);
    sharedAt.set(key, performance.now());
  };

  const drop = (key: string, flight: Flight) => {
    if (flights.get(key) !== flight) return;
    flights.delete(key);
    if (flight.bytes > 0) {
      kept -= 1;
      keptBytes -= flight.bytes;
    }
  };

  /** Keeps an answered flight for reuseMs, within MAX_KEPT and MAX_KEPT_BYTES; false when it is not kept. */
  const keep = (key: string, flight: Flight, answer: Answer): boolean => {
    const bytes = Math.max(1, answer.body.byteLength + key.length);
    // Not when a newer flight took the key meanwhile (a write made this one too old to join).
    if (reuseMs <= 0 || bytes > MAX_KEPT_BYTES || flights.get(key) !== flight) return false;
    if (!((sharedAt.get(key) ?? Number.NEGATIVE_INFINITY) >= performance.now() - HOT_MS)) return false;
    // Map order is insertion order: the first kept ones are the oldest.
    for (const [other, old] of flights) {
      if (kept < MAX_KEPT && keptBytes + bytes <= MAX_KEPT_BYTES) break;
      if (old.bytes > 0) drop(other, old);
    }
    flight.until = performance.now() + reuseMs;
    flight.bytes = bytes;
    kept += 1;
    keptBytes += bytes;
    // Re-inserted, so that the map's order stays the order in which answers were kept.
    flights.delete(key);
    flights.set(key, flight);
    setTimeout(() => drop(key, flight), reuseMs).unref();
    return true;
  };

  /** Answers `req` from an identical flight in progress, or runs `execute` as a leader others may join. */
  return async function serve(key: string | null, execute: Execute, req: IncomingMessage, res: ServerResponse, requestId: () => string | null): Promise<void> {
    const running = key === null ? undefined : flights.get(key);
    if (running && running.writes === writes && running.until >= performance.now()) {
      onJoin();
      shared(key!);
      const answer = await running.answer;
      if (answer) return send(res, answer, requestId());
    }
    const mark: SharedReadMark = { shareable: false };
    if (key === null) return sendNodeResponse(await execute(mark), res, req, true);

    let settle!: (answer: Answer | null) => void;
    const flight: Flight = { writes, answer: new Promise((resolve) => (settle = resolve)), until: Infinity, bytes: 0 };
    // A kept answer too old to join (or one read before a write) gives way to this flight.
    const previous = flights.get(key);
    if (previous) drop(key, previous);
    flights.set(key, flight);
    try {
      const response = await execute(mark);
      if (!mark.shareable || response.status !== 200 || !isJson(response)) {
        settle(null);
        drop(key, flight);
        return await sendNodeResponse(response, res, req, true);
      }
      const answer: Answer = {
        status: response.status,
        headers: [...response.headers].filter(([name]) => name !== 'x-request-id' && name !== 'content-length'),
        body: new Uint8Array(await response.arrayBuffer()),
      };
      settle(answer);
      if (!keep(key, flight, answer)) drop(key, flight);
      send(res, answer, response.headers.get('x-request-id'));
    } catch (error) {
      settle(null);
      drop(key, flight);
      throw error;
    }
  };
}
