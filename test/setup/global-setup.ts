/**
 * Vitest global setup: prefers a real PostgreSQL server (TEST_DATABASE_URL, default the
 * local `test` database) and migrates one template database there that every test
 * database is cloned from (`CREATE DATABASE … TEMPLATE …` takes milliseconds). Without a
 * reachable server, tests fall back to one in-memory PGlite per test database.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../src/db/migrations.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseMode: 'server' | 'pglite';
    /** Server mode: a URL to a database the tests may run CREATE/DROP DATABASE from. */
    adminDatabaseUrl: string | null;
    /** Server mode: the migrated template that test databases are cloned from. */
    templateDatabase: string | null;
  }
}

export const DEFAULT_TEST_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/test';
/**
 * One template per run: several test runs share this server at once (parallel sessions on
 * one machine), and a fixed name would be dropped and re-created under a run still cloning it.
 */
const TEMPLATE_DATABASE = `beacon_test_template_${process.pid}`;

/** Errors that mean "no server there", as opposed to a server that refuses us (which should fail loudly). */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (code && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code)) return true;
  return error instanceof Error && /timeout/i.test(error.message);
}

/** `base` with its database name replaced. */
export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs one statement on a short-lived connection (CREATE/DROP DATABASE cannot run in a pool's transaction). */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const adminUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const probe = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
  } catch (error) {
    if (!isUnreachable(error)) throw error;
    console.warn(`[test] no PostgreSQL at ${new URL(adminUrl).host} (${(error as Error).message}); using PGlite`);
    project.provide('databaseMode', 'pglite');
    project.provide('adminDatabaseUrl', null);
    project.provide('templateDatabase', null);
    return async () => {};
  }
  try {
    // FORCE: a killed earlier run with this pid may have left it, with connections.
    await probe.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await probe.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await probe.end();
  }
  // No connection may stay open on a template, or cloning it fails; applyMigrations closes its own.
  await applyMigrations(databaseUrl(adminUrl, TEMPLATE_DATABASE));
  project.provide('databaseMode', 'server');
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);
  return async () => {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
  };
}
