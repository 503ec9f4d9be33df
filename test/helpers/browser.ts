/**
 * Browser tests: Debian's Chromium driven by playwright-core (no browser download), against
 * the dashboard as `npm run build` writes it to dist/dashboard and Beacon serves it. No
 * vitest import here: bench/dashboard.ts uses these too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots: one per failed test, and the ones a test takes on purpose. */
export const SCREENSHOTS = join(ROOT, 'test-results', 'dashboard');

function newestChange(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/**
 * Builds the dashboard unless dist/dashboard is newer than every source (and the generated
 * operations `npm test` writes first), so a test never runs against a stale build.
 */
export function ensureDashboardBuilt(): void {
  const manifest = join(ROOT, 'dist', 'dashboard', '.vite', 'manifest.json');
  let built = 0;
  try {
    built = statSync(manifest).mtimeMs;
  } catch {
    // not built yet
  }
  if (built > Math.max(newestChange(join(ROOT, 'src', 'dashboard')), statSync(join(ROOT, 'schema.graphql')).mtimeMs)) return;
  execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'src/dashboard/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    // Vitest sets NODE_ENV=test, with which Vite bundles React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Saves a full-page screenshot of `page` as test-results/dashboard/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}


/** Whether the page itself scrolls sideways (inner scrolling areas do not count). */
export function hasHorizontalPageScroll(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}
