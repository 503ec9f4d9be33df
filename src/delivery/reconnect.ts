/**
 * Riding out a lost database connection: a PostgreSQL restart or failover, a terminated
 * backend, a network blip. Every delivery step is idempotent (a batch commits whole or not
 * at all), so a step that failed because its connection went away runs again once the
 * database answers, in the same job run. Failing the job instead would hand it to Agenda's
 * retry, whose write that unlocks the job fails too while the database is away — and then
 * the job waits out its lock (BEACON_JOB_LOCK_MS) before anyone runs it again. For the same
 * reason a job that does fail this way waits for the database before failing (scheduler.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';

/** SQLSTATEs and socket errors that mean "the connection is gone", not "the statement is wrong". */
const LOST_CODES = new Set([
  '57P01', // admin_shutdown: a fast shutdown or pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'P1001', // Prisma: can't reach the database server
  'P1017', // Prisma: the server closed the connection
]);
/** `@prisma/adapter-pg`'s names for socket errors (DriverAdapterError.cause.kind). */
const LOST_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout']);
/** `pg` reports a dropped socket as a plain Error with one of these messages. */
const LOST_MESSAGE = /Connection terminated|not queryable|terminating connection|server closed the connection/i;

/**
 * Whether `error` (a `pg` error, a socket error, or a Prisma error wrapping either) says the
 * database connection was lost. Class 08 is SQLSTATE's "connection exception".
 */
export function isConnectionLoss(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth += 1) {
    const e = current as { code?: unknown; originalCode?: unknown; kind?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    for (const code of [e.code, e.originalCode]) {
      if (typeof code === 'string' && (code.startsWith('08') || LOST_CODES.has(code))) return true;
    }
    if (typeof e.kind === 'string' && LOST_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && LOST_MESSAGE.test(e.message)) return true;
    current = e.meta?.driverAdapterError ?? e.cause;
  }
  return false;
}

export interface ReconnectOptions {
  /** How long to keep trying from the first failure; after that the error is thrown. */
  windowMs: number;
  /** A shutdown: stop retrying. */
  signal: AbortSignal;
  logger: Logger;
  /** Log fields naming the step. */
  context: Record<string, unknown>;
}

/** First pause after a lost connection; it doubles up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 100;
/** So delivery resumes within about this long after the database is back. */
const MAX_PAUSE_MS = 1000;

/**
 * Runs `step`, and again after a short pause while it fails for a lost connection, for up
 * to `windowMs`; other errors are thrown at once.
 */
export async function retryOnConnectionLoss<T>(step: () => Promise<T>, options: ReconnectOptions): Promise<T> {
  const giveUpAt = Date.now() + options.windowMs;
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    try {
      return await step();
    } catch (error) {
      // During a shutdown the failure goes to Agenda, whose retry hands the job back.
      if (!isConnectionLoss(error) || options.signal.aborted || Date.now() + pause > giveUpAt) throw error;
      options.logger.warn('database connection lost, retrying', { ...options.context, retryInMs: pause, error: String(error) });
      await sleep(pause, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}

/** Resolves once `ping` answers true (asked every MAX_PAUSE_MS) or `signal` aborts. */
export async function untilReachable(ping: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && !(await ping())) await sleep(MAX_PAUSE_MS, undefined, { signal }).catch(() => undefined);
}
