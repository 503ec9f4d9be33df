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

/** Starts counting WAL; `stop()` returns the bytes written since. */
export async function walCounter(url: string): Promise<{ stop(): Promise<number> }> {
  const [start] = await query<{ lsn: string }>(url, 'SELECT pg_current_wal_lsn()::text AS lsn');
  return {
    async stop() {
      const [row] = await query<{ bytes: string }>(url, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint::text AS bytes', [start!.lsn]);
      return Number(row!.bytes);
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
