/**
 * Every environment variable Beacon reads, parsed and validated once at start-up.
 * Nothing else in the code reads `process.env`; the resulting Config is passed down.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';

export type Role = 'all' | 'api' | 'worker';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Config {
  /** Real PostgreSQL URL; undefined means the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** Folder of the embedded database and the generated secret. */
  dataDir: string;
  redisUrl: string | undefined;
  port: number;
  /**
   * Largest request body an HTTP request with a server token may send, in bytes. Requests
   * without a valid token are refused before their body is read.
   */
  maxBodyBytes: number;
  /** HS256 secret for tokens; undefined means "generate once and keep in dataDir". */
  apiSecret: string | undefined;
  role: Role;
  deliveryBatchSize: number;
  /** Messages per second per worker process; 0 = no limit. */
  deliveryRate: number;
  /** Concurrent delivery jobs per campaign (spread over all worker processes). */
  deliveryLanes: number;
  /**
   * Delivery jobs (lanes of any campaigns) one worker process runs at once; it never holds
   * more, so lanes it cannot run are left to other workers. Below `deliveryLanes`, one
   * campaign spreads over several workers.
   */
  deliveryConcurrency: number;
  /** This process's name in the job table (`last_modified_by`); default `<host>:<pid>`. */
  workerName: string;
  /** How often a worker polls for due jobs, in ms. */
  jobPollMs: number;
  /** How long a job's lock lasts without a touch before another worker may take it over, in ms. */
  jobLockMs: number;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  logLevel: LogLevel;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

function url(env: NodeJS.ProcessEnv, name: string, protocols: string[]): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
}

/** Reads and validates the environment; throws ConfigError naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const apiSecret = optional(env, 'BEACON_API_SECRET');
  if (apiSecret !== undefined && apiSecret.length < 16) {
    throw new ConfigError('BEACON_API_SECRET must be at least 16 characters');
  }
  const deliveryLanes = integer(env, 'BEACON_DELIVERY_LANES', 4, 1, 64);
  return {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: resolve(optional(env, 'BEACON_DATA_DIR') ?? '.beacon'),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    port: integer(env, 'PORT', 4000, 0, 65535),
    maxBodyBytes: integer(env, 'BEACON_MAX_BODY_BYTES', 4 * 1024 * 1024, 16 * 1024, 64 * 1024 * 1024),
    apiSecret,
    role: oneOf(env, 'BEACON_ROLE', ['all', 'api', 'worker'] as const, 'all'),
    deliveryBatchSize: integer(env, 'BEACON_DELIVERY_BATCH_SIZE', 1000, 1, 10_000),
    deliveryRate: integer(env, 'BEACON_DELIVERY_RATE', 0, 0, 1_000_000),
    deliveryLanes,
    deliveryConcurrency: integer(env, 'BEACON_DELIVERY_CONCURRENCY', Math.max(2, deliveryLanes), 1, 64),
    workerName: optional(env, 'BEACON_WORKER_NAME') ?? `${hostname()}:${process.pid}`,
    jobPollMs: integer(env, 'BEACON_JOB_POLL_MS', 1000, 50, 60_000),
    jobLockMs: integer(env, 'BEACON_JOB_LOCK_MS', 60_000, 1000, 3_600_000),
    webhookUrl: url(env, 'BEACON_WEBHOOK_URL', ['http:', 'https:']),
    webhookSecret: optional(env, 'BEACON_WEBHOOK_SECRET'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
  };
}
