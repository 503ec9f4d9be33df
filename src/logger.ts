/**
 * Leveled structured logs through pino: one JSON line per entry on stderr, shaped
 * `{"level":"info","time":"<ISO 8601>","pid":…,"hostname":…,…data,"msg":"…"}`. An `err`
 * field holding an Error is written with its type, message and stack (pino's serializer).
 */
import { pino, type DestinationStream } from 'pino';
import type { LogLevel } from './config.js';

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export type { DestinationStream };

/**
 * Creates a logger that drops entries below `level`, writing to `destination` (default
 * stderr; tests pass a stream of their own to read the entries).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const log = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not pino's numbers: readers (and test/helpers/worker-process.ts) match on them.
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous, as the entries were before pino: nothing is lost when the process exits or dies.
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
  const write = (at: Exclude<LogLevel, 'silent'>) => (msg: string, data?: Record<string, unknown>) => log[at](data ?? {}, msg);
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
