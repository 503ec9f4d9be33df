/**
 * Vitest setup shared by the dashboard's browser test files: one Beacon app (with the
 * file's users seeded) and one Chromium per file, and signed-in pages that leave a
 * screenshot when their test fails. Kept apart from browser.ts, which needs no vitest.
 */
import { afterAll, beforeAll, onTestFailed } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { signServerToken } from '../../src/auth/tokens.js';
import { startTestApp, TEST_SECRET, type TestApp } from './app.js';
import { ensureDashboardBuilt, launchChromium, screenshot } from './browser.js';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface DashboardSession {
  t: TestApp;
  browser: Browser;
  /** The app's origin (`http://localhost:port`). */
  base: string;
  /** A 12 h server token, as a sign-in link carries it. */
  token: string;
  /** A page in a fresh profile, signed in by link at `path`; `name` names its failure screenshot. */
  signedIn(name: string, path: string, viewport?: { width: number; height: number }): Promise<Page>;
}

export interface DashboardSetupOptions {
  /** Prefix of the failure screenshots (`failed-<prefix>-<name>.png`). */
  prefix: string;
  env?: Record<string, string>;
  users?: { id: string; name?: string; role?: string; custom?: object }[];
}

/** Registers the file's beforeAll/afterAll; `use` receives the session once it is up. */
export function dashboardTestSetup(options: DashboardSetupOptions, use: (session: DashboardSession) => void): void {
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    ensureDashboardBuilt();
    t = await startTestApp({ env: options.env ?? {} });
    if (options.users?.length) await t.app.db.prisma.user.createMany({ data: options.users });
    browser = await launchChromium();
    const app = t;
    const chromium = browser;
    const base = app.url.replace(/\/graphql$/, '');
    const token = await signServerToken(TEST_SECRET, '12h');
    use({
      t: app,
      browser: chromium,
      base,
      token,
      async signedIn(name, path, viewport = DESKTOP) {
        const context = await chromium.newContext({ viewport });
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        onTestFailed(async () => {
          const file = await screenshot(page, `failed-${options.prefix}-${name}`).catch(() => null);
          if (file) console.error(`screenshot of the failed test: ${file}`);
        });
        await page.goto(`${base}${path}#token=${token}`);
        return page;
      },
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
}
