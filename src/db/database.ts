/**
 * Opens Beacon's database: the configured PostgreSQL server, or the embedded PGlite one,
 * applies pending migrations, and returns the Prisma clients and the raw `pg` pool (for
 * Agenda and set-based SQL) that talk to it.
 *
 * API requests get their own pool and Prisma client whose connections carry
 * `statement_timeout`, so PostgreSQL itself cancels a request's runaway query — also when
 * the client has gone away, which Node cannot notice mid-query. Delivery (materialization,
 * batches) and Agenda stay on the other pool, unbounded: their statements are long by
 * design. The second client costs little — compiled with npm start's flags, after 600
 * API requests: heap +2 MB, RSS 147–149 MB against 144–149 MB with one client — and a
 * per-transaction `SET LOCAL statement_timeout = 0` in every delivery path (and Agenda's
 * queries, which Beacon does not write) would have to be remembered by every future one.
 */
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { startEmbeddedPostgres } from './embedded.js';
import { applyMigrations } from './migrations.js';
import { retryTransientConflicts } from './errors.js';
import type { Logger } from '../logger.js';

export interface Database {
  url: string;
  embedded: boolean;
  /** Delivery, jobs and start-up: no statement timeout. */
  prisma: PrismaClient;
  /**
   * API requests: statements cancelled after `queryTimeoutMs` (SQLSTATE 57014). The same
   * client as `prisma` on the embedded database (one session) or with no timeout.
   */
  apiPrisma: PrismaClient;
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
  /** statement_timeout of API requests' connections in ms; 0 = none. Not applied on the embedded database. */
  queryTimeoutMs?: number;
}

/** Connects (starting the embedded server when no URL is given) and migrates. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const embedded = options.databaseUrl ? null : await startEmbeddedPostgres(options.dataDir);
  const url = options.databaseUrl ?? embedded!.url;
  try {
    const { applied } = await applyMigrations(url, { log: (msg) => options.logger?.info(msg) });
    if (applied.length) options.logger?.info('migrations applied', { applied });
    // One pool for delivery's Prisma, raw SQL and Agenda, one for API requests (with a
    // timeout; see the module comment). The embedded server interleaves protocol
    // messages of concurrent connections into its one session (an unnamed prepared
    // statement of one client can be replaced by another's between Parse and Bind), so
    // there every query goes through a single connection, one at a time, and the API shares it.
    const max = embedded ? 1 : (options.poolSize ?? 10);
    const openPool = (config: pg.PoolConfig) => {
      const pool = new pg.Pool({ connectionString: url, max, ...config });
      // An idle connection dropped by the server (restart, terminate) must not crash the process.
      pool.on('error', (error) => options.logger?.warn('idle database connection failed', { error: String(error) }));
      // Nor one checked out by code that holds it between queries without a listener of its
      // own (a library's, for instance): a FATAL from the server (57P01, terminated) that
      // arrives while no query is running is emitted as an 'error' event on the client, which
      // unheard ends the process. Heard here, the client's next query fails instead, and the
      // pool drops it when it comes back with that error.
      pool.on('connect', (client) => client.on('error', (error) => options.logger?.debug('database connection failed', { error: String(error) })));
      return pool;
    };
    const pool = openPool({});
    const prisma = prismaClient(pool, options.onQuery);
    // PGlite is one session shared by everything (see above), so a timeout set there would
    // bind delivery too: the embedded database runs without one.
    const timeout = embedded ? 0 : (options.queryTimeoutMs ?? 0);
    const apiPool = timeout > 0 ? openPool({ statement_timeout: timeout }) : null;
    const apiPrisma = apiPool ? prismaClient(apiPool, options.onQuery) : prisma;
    return {
      url,
      embedded: embedded !== null,
      prisma,
      apiPrisma,
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
        if (apiPool) {
          await apiPrisma.$disconnect();
          await apiPool.end();
        }
        await pool.end();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/**
 * A Prisma client over `pool`. Its interactive transactions (`$transaction(async (tx) => …)`)
 * are run again when PostgreSQL aborts them for a deadlock or a serialization failure, in
 * this one place rather than at every call site; a failed attempt was rolled back whole.
 * (Batch transactions, `$transaction([…])`, are left alone: their queries are built once.)
 */
function prismaClient(pool: pg.Pool, onQuery: ((query: string) => void) | undefined): PrismaClient {
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool),
    log: onQuery ? [{ emit: 'event', level: 'query' }] : [],
  });
  if (onQuery) {
    (prisma as unknown as { $on(e: 'query', cb: (e: { query: string }) => void): void }).$on('query', (e) => onQuery(e.query));
  }
  const transaction = prisma.$transaction.bind(prisma) as (arg: unknown, options?: unknown) => Promise<unknown>;
  prisma.$transaction = ((arg: unknown, options?: unknown) =>
    typeof arg === 'function' ? retryTransientConflicts(() => transaction(arg, options)) : transaction(arg, options)) as PrismaClient['$transaction'];
  return prisma;
}
