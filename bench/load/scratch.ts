/** A scratch database for one bench run: created, migrated and seeded, then dropped whatever happens. */
import { randomBytes } from 'node:crypto';
import { applyMigrations } from '../../src/db/migrations.js';
import { adminQuery, databaseUrl } from '../../test/setup/global-setup.js';
import { adminUrl } from './args.js';

export async function withScratchDatabase<T>(seed: (url: string) => Promise<void>, run: (url: string) => Promise<T>): Promise<T> {
  const database = `beacon_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
  try {
    const url = databaseUrl(adminUrl, database);
    await applyMigrations(url);
    await seed(url);
    return await run(url);
  } finally {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}
