import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { applyMigrations, migrationChecksum, readMigrationFolders } from '../src/db/migrations.js';
import { DEFAULT_MIGRATIONS_DIR, diffMigrationsToSchema, loadMigrationList, openSchemaEngine } from '../scripts/migration-diff.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrated: false });
  cleanups.push(db.drop);
  return db;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function history(url: string) {
  return query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
    url,
    'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
  );
}

/** A migrations folder in a temporary directory, for runner behaviour the real folder cannot show. */
async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'beacon-migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

const folders = await readMigrationFolders();
const names = folders.map((folder) => folder.name);

describe('applyMigrations', () => {
  test('applies every folder once, records each with its sha256, and applies nothing on a second run', async () => {
    expect(names.length).toBeGreaterThan(0);
    const db = await emptyDatabase();

    expect(await applyMigrations(db.url)).toEqual({ applied: names });
    expect(await applyMigrations(db.url)).toEqual({ applied: [] });

    const rows = await history(db.url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(migrationChecksum(folders[i]!.sql));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
    const tables = await query<{ table_name: string }>(
      db.url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'users'",
    );
    expect(tables).toHaveLength(1);
  });

  test('two runners starting at once apply each migration exactly once', async () => {
    const db = await emptyDatabase();
    const results = await Promise.all([applyMigrations(db.url), applyMigrations(db.url)]);
    expect(results.flatMap((result) => result.applied).sort()).toEqual(names);
    expect((await history(db.url)).map((row) => row.migration_name)).toEqual(names);
  });

  test('runs multi-statement files, rolls a failing migration back entirely, and refuses an edited one', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsDir({
      '20260101000000_first': 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nCREATE TABLE b (id int);\n',
      '20260101000001_broken': 'CREATE TABLE c (id int);\nTHIS IS NOT SQL;\n',
    });
    const logs: string[] = [];
    await expect(applyMigrations(db.url, { dir, log: (msg) => logs.push(msg) })).rejects.toThrow(
      /Migration 20260101000001_broken failed and was rolled back: syntax error/,
    );
    expect(logs).toContain('applying migration 20260101000000_first');
    expect((await history(db.url)).map((row) => row.migration_name)).toEqual(['20260101000000_first']);
    expect(await query(db.url, "SELECT to_regclass('public.b') AS b, to_regclass('public.c') AS c")).toEqual([
      { b: 'b', c: null },
    ]);

    // Fixed and re-run: applies; then editing an applied file is refused.
    await writeFile(path.join(dir, '20260101000001_broken', 'migration.sql'), 'CREATE TABLE c (id int);\n');
    expect(await applyMigrations(db.url, { dir })).toEqual({ applied: ['20260101000001_broken'] });
    await writeFile(path.join(dir, '20260101000000_first', 'migration.sql'), 'CREATE TABLE a (id bigint);\n');
    await expect(applyMigrations(db.url, { dir })).rejects.toThrow(
      /Migration 20260101000000_first was modified after it was applied/,
    );
    // A checkout that only converted line endings is not an edit (Prisma agrees).
    await writeFile(
      path.join(dir, '20260101000000_first', 'migration.sql'),
      'CREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\nCREATE TABLE b (id int);\r\n',
    );
    expect(await applyMigrations(db.url, { dir })).toEqual({ applied: [] });
  });
});

describe('migration history', () => {
  test('prisma/migrations matches prisma/schema.prisma (run `npm run migration:new -- <name>` if not)', async () => {
    expect(await diffMigrationsToSchema()).toBe('');
  });
});

describe('applyMigrations on PGlite behind pglite-socket (the embedded database)', () => {
  test('applies once with concurrent runners, and Prisma’s engine reads the history as its own', async () => {
    const pglite = await PGlite.create();
    const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 100 });
    await server.start();
    cleanups.push(() => pglite.close());
    cleanups.push(() => server.stop());
    const url = `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`;

    const results = await Promise.all([applyMigrations(url), applyMigrations(url)]);
    expect(results.flatMap((result) => result.applied).sort()).toEqual(names);
    expect(await applyMigrations(url)).toEqual({ applied: [] });
    const rows = await history(url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    expect(rows.map((row) => row.checksum)).toEqual(folders.map((folder) => migrationChecksum(folder.sql)));

    // What `prisma migrate deploy/status` would conclude about a database this runner migrated.
    const engine = await openSchemaEngine(pglite);
    try {
      const diagnosis = await engine.diagnoseMigrationHistory({
        migrationsList: await loadMigrationList(DEFAULT_MIGRATIONS_DIR),
        optInToShadowDatabase: false,
        filters: { externalTables: [], externalEnums: [] },
      });
      expect(diagnosis).toMatchObject({
        hasMigrationsTable: true,
        history: null,
        editedMigrationNames: [],
        failedMigrationNames: [],
      });
    } finally {
      engine.free();
    }
  });
});
