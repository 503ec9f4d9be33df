/**
 * One isolated, migrated database per caller (usually per test file): a clone of the
 * template on the test server, or an in-memory PGlite served on a loopback port when no
 * server is reachable (see test/setup/global-setup.ts).
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { adminQuery, databaseUrl } from '../setup/global-setup.js';

export interface TestDatabase {
  url: string;
  /** Drops the database (server) or stops the PGlite server; safe to call twice. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** false: an empty database with no migrations applied (for migration tests). Default true. */
  migrated?: boolean;
}

/** Creates a fresh database for one test file; call `drop()` in afterAll. */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  if (inject('databaseMode') === 'pglite') {
    const embedded = await startEmbeddedPostgres(null);
    try {
      if (migrated) await applyMigrations(embedded.url);
    } catch (error) {
      await embedded.stop();
      throw error;
    }
    let stopped = false;
    return {
      url: embedded.url,
      async drop() {
        if (stopped) return;
        stopped = true;
        await embedded.stop();
      },
    };
  }

  const adminUrl = inject('adminDatabaseUrl')!;
  const template = migrated ? inject('templateDatabase')! : 'template0';
  // Random, lower-case and unquoted-safe; parallel test files never collide.
  const name = `beacon_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  return {
    url: databaseUrl(adminUrl, name),
    // FORCE ends connections a test forgot to close instead of failing the drop.
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
