/**
 * `npm run dev` as the script runs it (tsx watch, src/dev/main.ts) on the embedded
 * database: one port serves the dashboard through Vite (HTML with the hot-reload client,
 * modules transformed on request), Vite's HMR socket, and the API over HTTP and graphql-ws;
 * the logged sign-in link points at that port. One process serves the whole file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signServerToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from './helpers/secret.js';
import { killAllWorkers, npmDevArgs, startWorker, type WorkerProcess } from './helpers/worker-process.js';

let dev: WorkerProcess;
let origin: string;
let token: string;

beforeAll(async () => {
  // A cold start compiles the server through tsx, opens PGlite and starts Vite: slow on a busy machine.
  dev = await startWorker({ name: 'npm-dev', nodeArgs: npmDevArgs(), env: { BEACON_ROLE: 'all', LOG_LEVEL: 'info' }, startTimeoutMs: 120_000 });
  origin = new URL(String(dev.logs.find((e) => e.msg === 'beacon started')!.graphql)).origin;
  token = await signServerToken(TEST_SECRET);
}, 150_000);
afterAll(() => killAllWorkers());

/** Opens a WebSocket and resolves with its first message, or rejects with the HTTP status that refused it. */
function firstMessage(url: string, protocol: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocol);
    socket.once('message', (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

describe('npm run dev', () => {
  test('logs a sign-in link to the port that serves the dashboard', async () => {
    // Logged just after "beacon started" (signing the token is asynchronous).
    const deadline = Date.now() + 15_000;
    while (!dev.logs.some((e) => e.msg === 'dashboard sign-in link') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const link = dev.logs.find((e) => e.msg === 'dashboard sign-in link');
    expect(String(link?.url)).toMatch(new RegExp(`^${origin}/#token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
  });

  test('serves the dashboard’s HTML through Vite, for every client route', async () => {
    for (const path of ['/', '/campaigns/42']) {
      const response = await fetch(`${origin}${path}`, { headers: { accept: 'text/html' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await response.text();
      expect(html).toContain('<script type="module" src="/@vite/client"></script>');
      expect(html).toContain('/@react-refresh');
    }
  });

  test('transforms modules on request: main.tsx comes back as JavaScript without JSX', async () => {
    const response = await fetch(`${origin}/main.tsx`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    const code = await response.text();
    expect(code).toMatch(/import \{ App \} from "\/App\.tsx"/);
    expect(code).toContain('jsxDEV(');
    expect(code).not.toContain('<StrictMode>');
  });

  test('the API still answers: /graphql over HTTP and graphql-ws, /healthz', async () => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ campaigns(first: 1) { totalCount } }' }),
    });
    expect(await response.json()).toEqual({ data: { campaigns: { totalCount: 0 } } });
    const anonymous = await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(anonymous.status).toBe(401);
    expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({ status: 'ok' });

    const client = createClient({ url: `${origin.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: token }, retryAttempts: 0 });
    try {
      const result = await new Promise((resolve, reject) => {
        client.subscribe({ query: '{ users(first: 1) { totalCount } }' }, { next: resolve, error: reject, complete: () => {} });
      });
      expect(result).toEqual({ data: { users: { totalCount: 0 } } });
    } finally {
      await client.dispose();
    }
  });

  test('Vite’s hot-reload socket shares the port; other upgrade paths are refused', async () => {
    const ws = origin.replace(/^http/, 'ws');
    expect(JSON.parse(await firstMessage(`${ws}/`, 'vite-hmr'))).toEqual({ type: 'connected' });
    await expect(firstMessage(`${ws}/elsewhere`, 'graphql-transport-ws')).rejects.toThrow('HTTP 400');
    await expect(firstMessage(`${ws}/elsewhere`, 'vite-hmr')).rejects.toThrow('HTTP 400');
    expect(dev.exited).toBe(false);
  });
});
