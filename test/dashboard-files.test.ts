/**
 * Serving the built dashboard (src/graphql/dashboard-files.ts) over real HTTP, on a folder
 * laid out like `vite build` output; and the dashboard's sign-in tokens.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { dashboardFiles } from '../src/graphql/dashboard-files.js';
import { authenticate, dashboardSignInLink, signServerToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from './helpers/secret.js';

const INDEX = '<!doctype html><title>Beacon</title><script type="module" src="/assets/index-abc123.js"></script>';

/** An HTTP server that answers with the dashboard handler, or 418 when it declines. */
async function serve(directory: string): Promise<{ server: Server; base: string }> {
  const handle = dashboardFiles(directory);
  const server = createServer(async (req, res) => {
    if (await handle(req, res)) return;
    res.writeHead(418).end('api');
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let built: { server: Server; base: string };
let unbuilt: { server: Server; base: string };

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'beacon-dashboard-'));
  const dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  mkdirSync(join(dist, '.vite'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("app")');
  writeFileSync(join(dist, 'assets', 'index-abc123.css'), 'body{}');
  writeFileSync(join(dist, '.vite', 'manifest.json'), '{}');
  writeFileSync(join(root, 'secret.txt'), 'outside the build');
  built = await serve(dist);
  mkdirSync(join(root, 'empty'));
  unbuilt = await serve(join(root, 'empty'));
});

afterAll(async () => {
  for (const { server } of [built, unbuilt]) await new Promise((resolve) => server.close(resolve));
});

/** A request with the path sent as written (fetch would resolve `..` and `%2e%2e` first). */
function get(base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
        resolve({ status: res.statusCode!, headers, body });
      });
    });
    req.on('error', reject).end();
  });
}

describe('serving the built dashboard', () => {
  it('serves hashed assets for a year and index.html revalidated', async () => {
    const script = await get(built.base, '/assets/index-abc123.js');
    expect(script).toMatchObject({ status: 200, body: 'console.log("app")' });
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get(built.base, '/assets/index-abc123.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');

    for (const path of ['/', '/index.html', '/campaigns', '/campaigns/42?tab=stats', '/segments/new']) {
      const page = await get(built.base, path);
      expect(page, path).toMatchObject({ status: 200, body: INDEX });
      expect(page.headers.get('cache-control'), path).toBe('no-cache');
      expect(page.headers.get('content-security-policy'), path).toContain("default-src 'self'");
    }
  });

  it('sends text files gzipped to clients that accept it', async () => {
    const script = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      request(`${built.base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(script.encoding).toBe('gzip');
    expect(gunzipSync(script.body).toString()).toBe('console.log("app")');
    const plain = await get(built.base, '/assets/index-abc123.js');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('vary')).toBe('accept-encoding');
  });

  it('answers HEAD without a body, and a missing asset with 404 rather than the page', async () => {
    const head = await get(built.base, '/campaigns', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers.get('content-length')).toBe(String(INDEX.length));
    expect(await get(built.base, '/assets/index-gone.js')).toMatchObject({ status: 404 });
  });

  it('leaves /graphql, /healthz and other methods to the API', async () => {
    for (const path of ['/graphql', '/graphql?query=%7B__typename%7D', '/graphql/stream', '/healthz']) {
      expect(await get(built.base, path), path).toMatchObject({ status: 418, body: 'api' });
    }
    expect(await get(built.base, '/campaigns', 'POST')).toMatchObject({ status: 418 });
    expect(await get(built.base, '/campaigns', 'DELETE')).toMatchObject({ status: 418 });
  });

  it('never serves a file outside the build folder, a dotfile, or a NUL path', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/.vite/manifest.json', '/%00', '/%E0%A4%A']) {
      const response = await get(built.base, path);
      expect(response.body, path).not.toContain('outside the build');
      expect(response.body, path).not.toBe('{}');
      expect([200, 404], path).toContain(response.status);
    }
  });

  it('says to run npm run build when the dashboard is not built', async () => {
    const page = await get(unbuilt.base, '/campaigns');
    expect(page.status).toBe(503);
    expect(page.body).toContain('npm run build');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });
});

describe('dashboard sign-in tokens', () => {
  it('makes a link whose token expires after the ttl (12 hours by default)', async () => {
    const link = await dashboardSignInLink(TEST_SECRET, 'http://localhost:4000/');
    const match = /^http:\/\/localhost:4000\/#token=(.+)$/.exec(link);
    expect(match).not.toBeNull();
    const claims = decodeJwt(match![1]!);
    expect(claims.server).toBe(true);
    expect(claims.exp! - claims.iat!).toBe(12 * 3600);
    expect(await authenticate(`Bearer ${match![1]}`, TEST_SECRET)).toEqual({ kind: 'server' });

    const short = decodeJwt((await dashboardSignInLink(TEST_SECRET, 'http://h:1', '30m')).split('#token=')[1]!);
    expect(short.exp! - short.iat!).toBe(1800);
    await expect(dashboardSignInLink(TEST_SECRET, 'http://h:1', '12x')).rejects.toThrow(TypeError);
  });

  it('refuses a token once its exp has passed, and keeps tokens without exp valid', async () => {
    const expired = await signServerToken(TEST_SECRET, Math.floor(Date.now() / 1000) - 1);
    expect(await authenticate(expired, TEST_SECRET)).toEqual({ kind: 'anonymous', reason: 'invalid' });
    expect(await authenticate(await signServerToken(TEST_SECRET), TEST_SECRET)).toEqual({ kind: 'server' });
  });
});
