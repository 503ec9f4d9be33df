/**
 * Start-up migration runner for Prisma-format folders
 * (`prisma/migrations/<timestamp>_<name>/migration.sql`).
 *
 * It keeps the books exactly as `prisma migrate deploy` does — the same `_prisma_migrations`
 * table, sha256 checksums and advisory-lock key — so a machine with Prisma's native engine
 * sees the same history. Unlike Prisma it runs each migration in one transaction together
 * with its history row, so a failed migration leaves nothing behind and can simply be fixed
 * and re-run.
 *
 * It uses exactly one connection: PGlite behind pglite-socket is a single database session
 * in which a transaction on one connection blocks every other connection. For the same
 * reason advisory locks do not exclude two runners there (one session holds them
 * re-entrantly), so each migration is re-checked inside its own transaction, which the
 * socket serializes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** The key Prisma's schema engine locks on PostgreSQL, so this runner and `migrate deploy` exclude each other. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Verbatim from Prisma's schema engine (PostgreSQL flavour); `IF NOT EXISTS` added.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFolder {
  /** Folder name, e.g. `20261126120000_init`; also the `migration_name` recorded. */
  name: string;
  sql: string;
  /** sha256 hex of the file's bytes, as Prisma records it. */
  checksum: string;
}

export interface ApplyMigrationsOptions {
  dir?: string;
  log?: (msg: string) => void;
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/** sha256 hex of a migration script, as Prisma's engine computes it. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/**
 * Reads every migration folder in name order. Every sub-folder counts, as for Prisma, so a
 * folder without `migration.sql` is an error rather than a silently skipped migration.
 */
export async function readMigrationFolders(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFolder[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const folders: MigrationFolder[] = [];
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql');
    let sql: string;
    try {
      sql = await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`Migration folder ${name} has no readable migration.sql (${file}): ${(error as Error).message}`);
    }
    folders.push({ name, sql, checksum: migrationChecksum(sql) });
  }
  return folders;
}

/**
 * Prisma accepts a script whose line endings were converted (a Git checkout with autocrlf),
 * so the runner does too rather than refusing to start on such a machine.
 */
function checksumMatches(recorded: string, sql: string): boolean {
  if (recorded === migrationChecksum(sql)) return true;
  const lf = sql.replace(/\r\n/g, '\n');
  return recorded === migrationChecksum(lf) || recorded === migrationChecksum(lf.replace(/\n/g, '\r\n'));
}

/**
 * Applies every migration folder not yet recorded in `_prisma_migrations`, each in its own
 * transaction with its history row, under Prisma's advisory lock; returns the names applied.
 * Throws when an applied migration's file was edited, or when Prisma left a failed one.
 */
export async function applyMigrations(
  connectionString: string,
  options: ApplyMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const log = options.log ?? (() => {});
  const folders = await readMigrationFolders(options.dir ?? DEFAULT_MIGRATIONS_DIR);
  const client = new pg.Client({ connectionString });
  // A dropped connection otherwise surfaces as an unhandled 'error' event and kills the process.
  client.on('error', (error) => log(`migration connection error: ${error.message}`));
  await client.connect();
  let locked = false;
  try {
    const { rows: tried } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [PRISMA_ADVISORY_LOCK_KEY],
    );
    if (!tried[0]?.locked) {
      log('waiting for another process to finish applying migrations');
      await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
    locked = true;
    await client.query(CREATE_MIGRATIONS_TABLE);

    const history = await readHistory(client);
    checkHistory(history, folders, log);
    const done = new Set(history.map((row) => row.migration_name));

    const applied: string[] = [];
    for (const folder of folders) {
      if (done.has(folder.name)) continue;
      if (await applyOne(client, folder, log)) applied.push(folder.name);
    }
    return { applied };
  } finally {
    // Session locks die with a real server's connection, but PGlite's one session outlives
    // every socket connection, so the lock must be released explicitly.
    if (locked) await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch(() => {});
    await client.end().catch(() => {});
  }
}

async function readHistory(client: pg.Client): Promise<HistoryRow[]> {
  // Rolled-back rows are audit trail only, as for Prisma.
  const { rows } = await client.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at FROM _prisma_migrations
     WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  return rows;
}

function checkHistory(history: HistoryRow[], folders: MigrationFolder[], log: (msg: string) => void): void {
  const byName = new Map(folders.map((folder) => [folder.name, folder]));
  for (const row of history) {
    if (row.finished_at === null) {
      // Only Prisma's own engine (which does not wrap migrations in transactions) leaves these.
      throw new Error(
        `Migration ${row.migration_name} is recorded as started but not finished in _prisma_migrations ` +
          '(a failed `prisma migrate deploy`). Repair the database by hand, then mark the row rolled back ' +
          '(set rolled_back_at) or finished before starting again.',
      );
    }
    const folder = byName.get(row.migration_name);
    if (!folder) {
      log(`migration ${row.migration_name} is applied in the database but missing from the migrations folder`);
      continue;
    }
    if (!checksumMatches(row.checksum, folder.sql)) {
      throw new Error(
        `Migration ${row.migration_name} was modified after it was applied: its migration.sql has sha256 ` +
          `${folder.checksum}, but _prisma_migrations recorded ${row.checksum}. Restore the original file ` +
          'and put the change in a new migration.',
      );
    }
  }
}

/** Returns false when another runner applied the migration first (possible only on PGlite). */
async function applyOne(client: pg.Client, folder: MigrationFolder, log: (msg: string) => void): Promise<boolean> {
  await client.query('BEGIN');
  try {
    const { rowCount } = await client.query(
      'SELECT 1 FROM _prisma_migrations WHERE migration_name = $1 AND rolled_back_at IS NULL',
      [folder.name],
    );
    if (rowCount) {
      await client.query('ROLLBACK');
      return false;
    }
    const started = performance.now();
    log(`applying migration ${folder.name}`);
    // No parameters: pg uses the simple query protocol, which runs a multi-statement script.
    await client.query(folder.sql);
    // now() is the transaction's start, i.e. before the script ran, as Prisma records it.
    await client.query(
      `INSERT INTO _prisma_migrations
         (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), folder.checksum, folder.name],
    );
    await client.query('COMMIT');
    log(`applied migration ${folder.name} in ${Math.round(performance.now() - started)} ms`);
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${folder.name} failed and was rolled back: ${message}`, { cause: error });
  }
}
