/**
 * Serves the built dashboard (`npm run build` → dist/dashboard) at `/`: files by path, and
 * `index.html` for every other GET below `/` so client routes (`/campaigns/42`) load the
 * app. Hashed files under `assets/` never change under their name and are cached for a
 * year; everything else is revalidated. `/graphql` and `/healthz` are never answered here.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { UpgradeHandler } from './ws-server.js';

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

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.txt']);

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

/** Paths the API answers, never the dashboard: /graphql and /healthz (and below). */
export function isApiPath(pathname: string): boolean {
  return /^\/(graphql|healthz)(\/|$)/.test(pathname);
}

/** How the dashboard is served: the build's files (`dashboardFiles`), or Vite's dev server (`npm run dev`). */
export interface DashboardServing {
  /** Answers a GET/HEAD outside the API's paths when it has something for it; false to pass it on. */
  serveFiles(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Takes a WebSocket upgrade outside /graphql (hot reload); false to have it refused. */
  upgrade?: UpgradeHandler;
  /** Stops what serving started (Vite's watcher), after the HTTP server closed. */
  close?(): Promise<void>;
}

/** dist/dashboard, from dist/graphql (npm start) or src/graphql (tsx, tests) alike. */
export const DEFAULT_DASHBOARD_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'dist', 'dashboard');

interface FileInfo {
  path: string;
  size: number;
  mtimeMs: number;
}

async function fileInfo(path: string): Promise<FileInfo | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? { path, size: info.size, mtimeMs: info.mtimeMs } : null;
  } catch {
    return null;
  }
}

const gzipAsync = promisify(gzip);

/**
 * Gzipped copies of text files, made once per file version: the whole build is a few
 * hundred kB, and gzip cuts the first page's script to about a third.
 */
const gzipped = new Map<string, { mtimeMs: number; body: Promise<Buffer> }>();

function gzippedFile(file: FileInfo): Promise<Buffer> {
  const cached = gzipped.get(file.path);
  if (cached?.mtimeMs === file.mtimeMs) return cached.body;
  const body = readFile(file.path).then((raw) => gzipAsync(raw, { level: 9 }));
  gzipped.set(file.path, { mtimeMs: file.mtimeMs, body });
  body.catch(() => gzipped.delete(file.path));
  return body;
}

async function sendFile(req: IncomingMessage, res: ServerResponse, file: FileInfo, headers: Record<string, string>): Promise<void> {
  const compressible = COMPRESSIBLE.has(extname(file.path));
  const vary = compressible ? { vary: 'accept-encoding' } : {};
  if (compressible && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    const body = await gzippedFile(file);
    res.writeHead(200, { ...headers, ...vary, 'content-encoding': 'gzip', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(200, { ...headers, ...vary, 'content-length': file.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file.path)
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
    if (!pathname.startsWith('/') || isApiPath(pathname)) return false;

    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      decoded = '';
    }
    // Never outside the build folder, never a dotfile (.vite/manifest.json), never a NUL.
    const candidate = resolve(root, `.${decoded}`);
    const safe = decoded !== '' && !decoded.includes('\0') && !/(^|\/)\./.test(decoded) && candidate.startsWith(root + sep);
    const file = safe ? await fileInfo(candidate) : null;
    if (file) {
      const type = CONTENT_TYPES[extname(candidate)] ?? 'application/octet-stream';
      const isAsset = candidate.startsWith(resolve(root, 'assets') + sep);
      const headers = candidate === indexPath ? HTML_HEADERS : { 'cache-control': isAsset ? IMMUTABLE : 'no-cache', 'x-content-type-options': 'nosniff' };
      await sendFile(req, res, file, { ...headers, 'content-type': type });
      return true;
    }
    // A missing hashed asset is a 404, not the app's HTML under a script's name.
    if (decoded.startsWith('/assets/')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' }).end();
      return true;
    }
    const index = await fileInfo(indexPath);
    if (!index) {
      res.writeHead(503, { ...HTML_HEADERS, 'content-type': 'text/html; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
      return true;
    }
    await sendFile(req, res, index, { ...HTML_HEADERS, 'content-type': 'text/html; charset=utf-8' });
    return true;
  };
}
