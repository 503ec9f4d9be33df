/**
 * `npm run dev`: the dashboard served from its sources by Vite in middleware mode on
 * Beacon's own port, with hot reload. Vite's HMR socket shares the port too: Beacon's
 * upgrade handling (src/graphql/ws-server.ts) keeps /graphql for graphql-ws and hands
 * Vite the upgrades that ask for its `vite-hmr` protocol. Never part of `npm start`:
 * src/dev/ is left out of the build, and vite is a devDependency.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { DashboardServing } from '../graphql/dashboard-files.js';
import { isApiPath } from '../graphql/dashboard-files.js';

const CONFIG_FILE = fileURLToPath(new URL('../dashboard/vite.config.ts', import.meta.url));

/** The WebSocket subprotocols of Vite's client: its HMR socket, and the ping it reconnects with. */
const VITE_PROTOCOLS = new Set(['vite-hmr', 'vite-ping']);

export async function viteDashboard(): Promise<DashboardServing> {
  const { createServer } = await import('vite');
  // Vite listens for `upgrade` on what it is given as its HMR server; Beacon emits only Vite's there.
  const hmrUpgrades = new EventEmitter();
  const vite = await createServer({
    configFile: CONFIG_FILE,
    appType: 'spa',
    server: { middlewareMode: true, hmr: { server: hmrUpgrades as unknown as Server } },
  });
  return {
    serveFiles: (req, res) => {
      const pathname = (req.url ?? '/').split('?')[0]!;
      if (isApiPath(pathname)) return Promise.resolve(false);
      return new Promise((resolve) => {
        res.once('close', () => resolve(true));
        // Vite calls next() for what it does not serve (a POST, say): Beacon answers that.
        vite.middlewares(req, res, () => resolve(false));
      });
    },
    upgrade: (req, socket, head) => {
      // Vite's client connects at the base path (`/`); Vite would leave any other socket hanging.
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname !== '/' || !VITE_PROTOCOLS.has(String(req.headers['sec-websocket-protocol'] ?? ''))) return false;
      hmrUpgrades.emit('upgrade', req, socket, head);
      return true;
    },
    close: () => vite.close(),
  };
}
