/**
 * `npx tsx scripts/migration-new.ts <name>` writes prisma/migrations/<timestamp>_<name>/migration.sql
 * with the SQL that takes "every migration applied" to prisma/schema.prisma (what
 * `prisma migrate dev --create-only` would write, without the native engine or a server).
 *
 *   --empty   write an empty migration for hand-written SQL even when nothing changed
 *   --check   write nothing; print the pending SQL and exit 1 when migrations and
 *             schema.prisma drift, exit 0 when they agree (CI guard)
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MIGRATIONS_DIR, MIGRATION_LOCK_TOML, diffMigrationsToSchema } from './migration-diff.js';

const EMPTY_MIGRATION = '-- This is an empty migration.\n';

/** Prisma's naming: a UTC `YYYYMMDDHHMMSS` prefix and a snake_case slug (at most 200 characters). */
function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200);
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * Folders apply in name order, so a new one must sort after the newest existing one even
 * when two are made within a second or the clock is behind a teammate's.
 */
async function nextPrefix(migrationsDir: string): Promise<string> {
  const existing = existsSync(migrationsDir) ? await readdir(migrationsDir) : [];
  const newest = existing
    .map((entry) => /^(\d{14})_/.exec(entry)?.[1])
    .filter((prefix): prefix is string => prefix !== undefined)
    .sort()
    .at(-1);
  let date = new Date();
  if (newest && timestamp(date) <= newest) {
    const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(newest)!;
    date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s! + 1));
  }
  return timestamp(date);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { check: { type: 'boolean', default: false }, empty: { type: 'boolean', default: false } },
  });
  const started = performance.now();
  const sql = await diffMigrationsToSchema();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  if (values.check) {
    if (!sql) {
      console.log(`prisma/migrations and prisma/schema.prisma agree (${seconds} s).`);
      return 0;
    }
    console.error('prisma/schema.prisma has changes that no migration contains. Missing SQL:\n');
    console.error(sql);
    console.error('Write it with: npm run migration:new -- <name>');
    return 1;
  }

  const name = slugify(positionals.join('_'));
  if (!name) {
    console.error('usage: npm run migration:new -- <name> [--empty]    |    npm run migration:new -- --check');
    return 2;
  }
  if (!sql && !values.empty) {
    console.log(`No changes: prisma/migrations already matches prisma/schema.prisma (${seconds} s). Nothing written.`);
    console.log('Pass --empty to write an empty migration for hand-written SQL.');
    return 0;
  }

  const migrationsDir = DEFAULT_MIGRATIONS_DIR;
  const folder = `${await nextPrefix(migrationsDir)}_${name}`;
  await mkdir(path.join(migrationsDir, folder), { recursive: true });
  const file = path.join(migrationsDir, folder, 'migration.sql');
  await writeFile(file, sql || EMPTY_MIGRATION, 'utf8');
  const lockfile = path.join(migrationsDir, 'migration_lock.toml');
  if (!existsSync(lockfile)) await writeFile(lockfile, MIGRATION_LOCK_TOML, 'utf8');

  console.log(`Wrote ${path.relative(process.cwd(), file)} (${seconds} s).`);
  if (/\bDROP\b|\bALTER COLUMN\b.*\bTYPE\b|\bSET NOT NULL\b/i.test(sql)) {
    console.log('It drops or narrows something: review it for data loss before committing.');
  }
  return 0;
}

process.exitCode = await main();
