/**
 * The embedded database: PGlite persisted in a folder, served on a loopback port through
 * pglite-socket so that Prisma's pg adapter, Agenda and raw `pg` connect to it exactly as
 * to a real PostgreSQL server (one code path). PGlite is a single session: statements from
 * all connections run one at a time and LISTEN/NOTIFY does not cross connections.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Opens (or creates) the PGlite database in `dataDir` (in memory when null) and serves it on 127.0.0.1. */
export async function startEmbeddedPostgres(dataDir: string | null): Promise<EmbeddedPostgres> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 });
  await server.start();
  // After start(), getServerConn() reports the port the OS chose for port 0.
  return {
    url: `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
