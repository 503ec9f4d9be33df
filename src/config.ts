/**
 * Every environment variable Beacon reads, parsed and validated once at start-up.
 * Nothing else in the code reads `process.env`; the resulting Config is passed down.
 */
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';

export type Role = 'all' | 'api' | 'worker';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** What one GraphQL operation may ask for (src/graphql/armor.ts enforces them). */
export interface QueryLimits {
  /** Lexical tokens in the document, counted while parsing. */
  maxTokens: number;
  /** Nesting of selections (introspection's `__schema` excluded). */
  maxDepth: number;
  /** Aliased fields per operation (`__typename` aliases are free). */
  maxAliases: number;
  /** Directives per operation. */
  maxDirectives: number;
  /** Cost of a query or mutation: every field 1, times the page size (`first`/`last`) above it. */
  maxCost: number;
  /** Cost of a subscription: re-run on every event, so kept far lower. */
  maxSubscriptionCost: number;
}

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
  /**
   * Recipients per delivery batch (one transaction). 2,000 rather than 1,000: the
   * statements' fixed costs spread over twice the rows — 100,000 recipients took ~6 % less
   * server CPU (bench:delivery, single lane 7.9 → 7.4 s of batch statements).
   */
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
  /**
   * Delivery batches one process runs at once while its API is busy (a request in the last
   * second): the rest wait, leaving CPU to the requests (src/delivery/priority.ts). Default:
   * one less than the cores (DEFAULT_BUSY_BATCHES).
   */
  deliveryBusyBatches: number;
  /**
   * How long an answered read serves identical requests while several clients poll it, in
   * ms (0 = only reads in flight are shared; src/graphql/single-flight.ts).
   */
  readReuseMs: number;
  /** This process's name in the job table (`last_modified_by`); default `<host>:<pid>`. */
  workerName: string;
  /** How often a worker polls for due jobs, in ms. */
  jobPollMs: number;
  /** How long a job's lock lasts without a touch before another worker may take it over, in ms. */
  jobLockMs: number;
  /**
   * PostgreSQL's statement_timeout for API requests, in ms (0 = none): a longer query is
   * cancelled and the request fails with TIMEOUT. Delivery and jobs are never bound by it.
   */
  queryTimeoutMs: number;
  /** Where campaign webhooks are POSTed; undefined: none are written or sent. */
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  /** Attempts per webhook event, the first included, before it is given up. */
  webhookAttempts: number;
  /** Delay before a webhook's first retry in ms (doubled each time, at most 1 h); also how often workers look for due retries. */
  webhookRetryMs: number;
  logLevel: LogLevel;
  /** NODE_ENV=production: development checks (Pothos' unused Prisma query warnings) are off. */
  production: boolean;
  queryLimits: QueryLimits;
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

/**
 * A core left to the API's requests while it is busy, at least one batch: on 2 cores, 50
 * dashboards reading once a second beside a 100,000-recipient delivery got p99 98 ms with
 * one batch at a time (delivery 7,632/s) and 284 ms with two (10,337/s).
 */
export const DEFAULT_BUSY_BATCHES = Math.max(1, availableParallelism() - 1);

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
    deliveryBatchSize: integer(env, 'BEACON_DELIVERY_BATCH_SIZE', 2000, 1, 10_000),
    deliveryRate: integer(env, 'BEACON_DELIVERY_RATE', 0, 0, 1_000_000),
    deliveryLanes,
    deliveryConcurrency: integer(env, 'BEACON_DELIVERY_CONCURRENCY', Math.max(2, deliveryLanes), 1, 64),
    deliveryBusyBatches: integer(env, 'BEACON_DELIVERY_BUSY_BATCHES', DEFAULT_BUSY_BATCHES, 1, 64),
    readReuseMs: integer(env, 'BEACON_READ_REUSE_MS', 250, 0, 60_000),
    workerName: optional(env, 'BEACON_WORKER_NAME') ?? `${hostname()}:${process.pid}`,
    jobPollMs: integer(env, 'BEACON_JOB_POLL_MS', 1000, 50, 60_000),
    jobLockMs: integer(env, 'BEACON_JOB_LOCK_MS', 60_000, 1000, 3_600_000),
    queryTimeoutMs: integer(env, 'BEACON_QUERY_TIMEOUT_MS', 5000, 0, 3_600_000),
    webhookUrl: url(env, 'BEACON_WEBHOOK_URL', ['http:', 'https:']),
    webhookSecret: optional(env, 'BEACON_WEBHOOK_SECRET'),
    webhookAttempts: integer(env, 'BEACON_WEBHOOK_ATTEMPTS', 12, 1, 100),
    webhookRetryMs: integer(env, 'BEACON_WEBHOOK_RETRY_MS', 5000, 10, 3_600_000),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    production: env.NODE_ENV === 'production',
    queryLimits: {
      maxTokens: integer(env, 'BEACON_MAX_TOKENS', 2000, 100, 100_000),
      maxDepth: integer(env, 'BEACON_MAX_DEPTH', 12, 2, 100),
      maxAliases: integer(env, 'BEACON_MAX_ALIASES', 15, 0, 1000),
      maxDirectives: integer(env, 'BEACON_MAX_DIRECTIVES', 50, 0, 1000),
      maxCost: integer(env, 'BEACON_MAX_COST', 100_000, 10, 10_000_000),
      maxSubscriptionCost: integer(env, 'BEACON_MAX_SUBSCRIPTION_COST', 500, 10, 10_000_000),
    },
  };
}
