/**
 * Opens Beacon's database: the configured PostgreSQL server, or the embedded PGlite one,
 * applies pending migrations, and returns one Prisma client plus a raw `pg` pool (for
 * Agenda and set-based SQL) that both talk to the same URL.
 */
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { startEmbeddedPostgres } from './embedded.js';
import { applyMigrations } from './migrations.js';
import type { Logger } from '../logger.js';

export interface Database {
  url: string;
  embedded: boolean;
  prisma: PrismaClient;
  pool: pg.Pool;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl: string | undefined;
  /** Folder of the embedded database; null keeps it in memory (tests). */
  dataDir: string | null;
  logger?: Logger;
  /** Prisma query-event listener (tests count queries with it). */
  onQuery?: (query: string) => void;
  poolSize?: number;
}

/** Connects (starting the embedded server when no URL is given) and migrates. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const embedded = options.databaseUrl ? null : await startEmbeddedPostgres(options.dataDir);
  const url = options.databaseUrl ?? embedded!.url;
  try {
    const { applied } = await applyMigrations(url, { log: (msg) => options.logger?.info(msg) });
    if (applied.length) options.logger?.info('migrations applied', { applied });
    // One pool for Prisma, raw SQL and Agenda. The embedded server interleaves protocol
    // messages of concurrent connections into its one session (an unnamed prepared
    // statement of one client can be replaced by another's between Parse and Bind), so
    // there every query goes through a single connection, one at a time.
    const max = embedded ? 1 : (options.poolSize ?? 10);
    const pool = new pg.Pool({ connectionString: url, max });
    // An idle connection dropped by the server (restart, terminate) must not crash the process.
    pool.on('error', (error) => options.logger?.warn('idle database connection failed', { error: String(error) }));
    const prisma = new PrismaClient({
      adapter: new PrismaPg(pool),
      log: options.onQuery ? [{ emit: 'event', level: 'query' }] : [],
    });
    if (options.onQuery) {
      const listen = options.onQuery;
      (prisma as unknown as { $on(e: 'query', cb: (e: { query: string }) => void): void }).$on('query', (e) => listen(e.query));
    }
    return {
      url,
      embedded: embedded !== null,
      prisma,
      pool,
      async ping() {
        try {
          await pool.query('SELECT 1');
          return true;
        } catch {
          return false;
        }
      },
      async close() {
        await prisma.$disconnect();
        await pool.end();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
