/**
 * Starts a real Beacon (HTTP + WebSocket) on a fresh test database and gives typed
 * GraphQL access to it over HTTP.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/app.js';
import { signServerToken, signUserToken } from '../../src/auth/tokens.js';
import { createTestDatabase } from './database.js';
import { TEST_SECRET } from './secret.js';
import type { LogEntry } from './worker-process.js';

export { TEST_SECRET };

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestApp {
  app: App;
  url: string;
  wsUrl: string;
  serverToken: string;
  userToken(userId: string): Promise<string>;
  /** Runs a typed operation over HTTP; `token: null` sends no Authorization header. */
  gql<R, V>(document: TypedDocumentNode<R, V>, variables?: V, options?: { token?: string | null }): Promise<GraphQLResponse<R>>;
  /** Like gql, but fails the test on any top-level error and returns data. */
  ok<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R>;
  /** Raw query text (for documents codegen cannot type, e.g. deliberately invalid ones). */
  raw(query: string, variables?: Record<string, unknown>, options?: { token?: string | null }): Promise<GraphQLResponse<any>>;
  /** Runs `fn` and returns the SQL Prisma sent meanwhile (needs `recordQueries`). */
  queriesDuring<T>(fn: () => Promise<T>): Promise<{ result: T; queries: string[] }>;
  /** Log entries written so far (needs `logs`). */
  readonly logs: readonly LogEntry[];
  close(): Promise<void>;
}

export interface StartTestAppOptions {
  env?: Record<string, string>;
  /** Record Prisma's SQL for `queriesDuring` (N+1 checks). */
  recordQueries?: boolean;
  /** Use this database (e.g. another test app's `app.db.url`) instead of a fresh one; it is not dropped on close. */
  databaseUrl?: string;
  /** Collect log entries at this level and above in `logs` (default: none, LOG_LEVEL silent). */
  logs?: 'debug' | 'info' | 'warn' | 'error';
}

/** Starts Beacon on its own database (or `databaseUrl`); `close()` stops it and drops the database it created. */
export async function startTestApp(options: StartTestAppOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    PORT: '0',
    BEACON_API_SECRET: TEST_SECRET,
    BEACON_DATA_DIR: mkdtempSync(join(tmpdir(), 'beacon-test-')),
    LOG_LEVEL: options.logs ?? 'silent',
    ...options.env,
  });
  const logs: LogEntry[] = [];
  const logDestination = { write: (line: string) => void logs.push(JSON.parse(line) as LogEntry) };
  let recording: string[] | null = null;
  let app: App;
  try {
    app = await startApp(config, {
      ...(options.logs ? { logDestination } : {}),
      ...(options.recordQueries ? { onQuery: (q: string) => recording?.push(q) } : {}),
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const url = app.api!.url;
  const serverToken = await signServerToken(TEST_SECRET);

  async function raw(query: string, variables?: Record<string, unknown>, opts: { token?: string | null } = {}) {
    const token = opts.token === undefined ? serverToken : opts.token;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<any>;
  }

  const gql = <R, V>(document: TypedDocumentNode<R, V>, variables?: V, opts?: { token?: string | null }) =>
    raw(print(document), variables as Record<string, unknown> | undefined, opts) as Promise<GraphQLResponse<R>>;

  return {
    app,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    serverToken,
    userToken: (userId) => signUserToken(TEST_SECRET, userId),
    gql,
    async ok(document, variables) {
      const result = await gql(document, variables);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data!;
    },
    raw,
    logs,
    async queriesDuring(fn) {
      if (!options.recordQueries) throw new Error('queriesDuring needs startTestApp({ recordQueries: true })');
      const queries: string[] = [];
      recording = queries;
      try {
        return { result: await fn(), queries };
      } finally {
        recording = null;
      }
    },
    async close() {
      await app.stop();
      await database.drop();
    },
  };
}
