/**
 * What a run cost PostgreSQL itself, for the benches' reports: CPU seconds of one database's
 * backends, WAL bytes written (the whole server's, so other databases' writes count too — the
 * load average says how quiet it was) and the size of the tables a delivery writes.
 */
import pg from 'pg';
import { TICKS_PER_SECOND, processTicks } from './proc.js';

const TABLES = ['recipients', 'messages', 'channels', 'channel_members'] as const;

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** What the server did between `walCounter()` and `stop()`: WAL bytes, and buffer traffic. */
export interface ServerWork {
  walBytes: number;
  /** Blocks the database's backends found in shared_buffers, and read from the OS (misses). */
  blocksHit: number;
  blocksRead: number;
  /** Dirty buffers the backends had to write out themselves to make room (server-wide). */
  buffersWrittenByBackends: number;
  /** Blocks read from the OS per table and index of the database (heap and TOAST of a table together), the most first. */
  blocksReadByRelation: Record<string, number>;
}

/** Blocks read so far by each table (heap + TOAST) and index of the connected database. */
const RELATION_READS_SQL = `SELECT relname AS name, (coalesce(heap_blks_read, 0) + coalesce(toast_blks_read, 0))::text AS read FROM pg_statio_user_tables
  UNION ALL SELECT indexrelname, coalesce(idx_blks_read, 0)::text FROM pg_statio_user_indexes`;

function relationDeltas(start: { name: string; read: string }[], end: { name: string; read: string }[]): Record<string, number> {
  const before = new Map(start.map((r) => [r.name, Number(r.read)]));
  return Object.fromEntries(
    end
      .map((r) => [r.name, Number(r.read) - (before.get(r.name) ?? 0)] as const)
      .filter(([, read]) => read > 0)
      .sort((a, b) => b[1] - a[1]),
  );
}

const SERVER_WORK_SQL = `SELECT pg_current_wal_lsn()::text AS lsn,
  (SELECT blks_hit FROM pg_stat_database WHERE datname = current_database())::text AS hit,
  (SELECT blks_read FROM pg_stat_database WHERE datname = current_database())::text AS read,
  (SELECT buffers_backend FROM pg_stat_bgwriter)::text AS backend`;

/**
 * Starts counting WAL and buffer traffic; `stop()` returns what happened since. The
 * statistics counters lag by up to a second (backends flush them when idle), so `stop()`
 * waits that long first. BENCH_WAL_RANGE=1 prints the WAL range for `pg_waldump --stats`.
 */
export async function walCounter(url: string): Promise<{ stop(): Promise<ServerWork> }> {
  type Row = { lsn: string; hit: string; read: string; backend: string };
  const [start] = await query<Row>(url, SERVER_WORK_SQL);
  const relationsAtStart = await query<{ name: string; read: string }>(url, RELATION_READS_SQL);
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const [end] = await query<Row & { bytes: string }>(url, `SELECT pg_wal_lsn_diff(lsn::pg_lsn, $1::pg_lsn)::bigint::text AS bytes, * FROM (${SERVER_WORK_SQL}) s`, [start!.lsn]);
      if (process.env.BENCH_WAL_RANGE) console.error(`WAL range ${start!.lsn} ${end!.lsn}`);
      const relations = relationDeltas(relationsAtStart, await query<{ name: string; read: string }>(url, RELATION_READS_SQL));
      const delta = (key: 'hit' | 'read' | 'backend') => Number(end![key]) - Number(start![key]);
      return { walBytes: Number(end!.bytes), blocksHit: delta('hit'), blocksRead: delta('read'), buffersWrittenByBackends: delta('backend'), blocksReadByRelation: relations };
    },
  };
}

/** Total size (heap, indexes, TOAST) of each table a delivery writes, in MB, and bytes per recipient of all of them. */
export async function deliveryTableSizes(url: string, recipients: number): Promise<{ mb: Record<string, number>; bytesPerRecipient: number }> {
  const rows = await query<{ name: string; bytes: string }>(
    url,
    `SELECT t AS name, pg_total_relation_size(t::regclass)::text AS bytes FROM unnest($1::text[]) AS t`,
    [[...TABLES]],
  );
  const mb = Object.fromEntries(rows.map((r) => [r.name, Math.round(Number(r.bytes) / 1024 / 1024)]));
  const total = rows.reduce((sum, r) => sum + Number(r.bytes), 0);
  return { mb, bytesPerRecipient: Math.round(total / recipients) };
}

/**
 * CPU seconds the server spends on one database, when the server runs on this machine:
 * samples its backends (pg_stat_activity) every 200 ms, so backends that exit still count.
 */
export async function serverCpu(url: string, database: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const own = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let local = true;
  const sample = async () => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2', [database, own]);
    for (const { pid } of rows) {
      const ticks = processTicks(pid);
      if (ticks === null) local = false;
      else {
        if (!first.has(pid)) first.set(pid, ticks);
        last.set(pid, ticks);
      }
    }
  };
  await sample();
  const started = new Set(first.keys());
  const timer = setInterval(() => void sample().catch(() => {}), 200);
  return {
    async stop(): Promise<number | null> {
      clearInterval(timer);
      await sample();
      await client.end();
      if (!local) return null;
      let ticks = 0;
      // Backends that started during the run count from zero.
      for (const [pid, value] of last) ticks += value - (started.has(pid) ? first.get(pid)! : 0);
      return Number((ticks / TICKS_PER_SECOND).toFixed(1));
    },
  };
}

/** Updates of recipients so far, and how many were HOT (no index entry written). */
export async function recipientUpdates(url: string): Promise<{ updates: number; hot: number }> {
  const [row] = await query<{ updates: string; hot: string }>(
    url,
    `SELECT n_tup_upd::text AS updates, n_tup_hot_upd::text AS hot FROM pg_stat_user_tables WHERE relname = 'recipients'`,
  );
  return { updates: Number(row?.updates ?? 0), hot: Number(row?.hot ?? 0) };
}
