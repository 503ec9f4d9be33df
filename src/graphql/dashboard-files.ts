/**
 * Serves the built dashboard (`npm run build` → dist/dashboard) at `/`: files by path, and
 * `index.html` for every other GET below `/` so client routes (`/campaigns/42`) load the
 * app. Hashed files under `assets/` never change under their name and are cached for a
 * year; everything else is revalidated. `/graphql` and `/healthz` are never answered here.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The page's own origin only; `ws:`/`wss:` of that origin are covered by 'self'. */
const HTML_HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Beacon</title>
<p>The dashboard is not built. Run <code>npm run build</code> (or <code>npm start</code>, which builds first).
The API is at <a href="/graphql">/graphql</a>.</p></html>`;

/** dist/dashboard, from dist/graphql (npm start) or src/graphql (tsx, tests) alike. */
export const DEFAULT_DASHBOARD_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'dist', 'dashboard');

async function fileSize(path: string): Promise<number | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string | number>, path?: string): void {
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || !path) {
    res.end();
    return;
  }
  createReadStream(path)
    .on('error', () => res.destroy())
    .pipe(res);
}

/**
 * Returns a request handler that answers dashboard requests and returns true, or returns
 * false (without touching the response) for requests that belong to the API.
 */
export function dashboardFiles(directory = DEFAULT_DASHBOARD_DIR) {
  const root = resolve(directory);
  const indexPath = resolve(root, 'index.html');

  return async function serveDashboard(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (!pathname.startsWith('/') || /^\/(graphql|healthz)(\/|$)/.test(pathname)) return false;

    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      decoded = '';
    }
    // Never outside the build folder, never a dotfile (.vite/manifest.json), never a NUL.
    const candidate = resolve(root, `.${decoded}`);
    const safe = decoded !== '' && !decoded.includes('\0') && !/(^|\/)\./.test(decoded) && candidate.startsWith(root + sep);
    const size = safe ? await fileSize(candidate) : null;
    if (size !== null) {
      const type = CONTENT_TYPES[extname(candidate)] ?? 'application/octet-stream';
      const isAsset = candidate.startsWith(resolve(root, 'assets') + sep);
      const headers = candidate === indexPath ? HTML_HEADERS : { 'cache-control': isAsset ? IMMUTABLE : 'no-cache', 'x-content-type-options': 'nosniff' };
      send(req, res, 200, { ...headers, 'content-type': type, 'content-length': size }, candidate);
      return true;
    }
    // A missing hashed asset is a 404, not the app's HTML under a script's name.
    if (decoded.startsWith('/assets/')) {
      send(req, res, 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
      return true;
    }
    const indexSize = await fileSize(indexPath);
    if (indexSize === null) {
      res.writeHead(503, { ...HTML_HEADERS, 'content-type': 'text/html; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
      return true;
    }
    send(req, res, 200, { ...HTML_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': indexSize }, indexPath);
    return true;
  };
}
