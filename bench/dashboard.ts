/**
 * How fast the dashboard's campaigns list appears with many campaigns, in Debian's Chromium.
 *
 * Creates a scratch database with `--campaigns` campaigns (a quarter of them COMPLETED with
 * counters, in SQL), starts Beacon in this process on it serving dist/dashboard (built first
 * when stale), and opens `/campaigns` signed in, `--runs` times in fresh browser profiles
 * (no cache) and once more with the cache warm. Prints per load: first contentful paint and
 * the time until the first table row is on screen (both from navigation start, the browser's
 * clock), and the transferred JavaScript. Other load on the machine skews them: the load
 * average is printed alongside.
 *
 * Usage: npm run bench:dashboard -- --campaigns 1000 --runs 5
 * BENCH_DATABASE_URL or DATABASE_URL: a server URL allowed to CREATE DATABASE (default the
 * local postgres@127.0.0.1:5432).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { startApp } from '../src/app.js';
import { signServerToken } from '../src/auth/tokens.js';
import { applyMigrations } from '../src/db/migrations.js';
import { adminQuery, databaseUrl } from '../test/setup/global-setup.js';
import { TEST_SECRET } from '../test/helpers/secret.js';
import { ensureDashboardBuilt, launchChromium } from '../test/helpers/browser.js';
import { adminUrl, intArg } from './load/args.js';

const campaigns = intArg('campaigns', 1000, 1);
const runs = intArg('runs', 5, 1);

interface Load {
  fcpMs: number;
  firstRowMs: number;
  scriptBytes: number;
}

/** Opens /campaigns in `context` and reads the browser's own timings. */
async function load(browser: Browser, url: string, token: string, reuse?: Awaited<ReturnType<Browser['newContext']>>): Promise<Load> {
  const context = reuse ?? (await browser.newContext({ viewport: { width: 1280, height: 800 } }));
  await context.addInitScript((value) => sessionStorage.setItem('beacon.token', value), token);
  const page = await context.newPage();
  let scriptBytes = 0;
  page.on('response', async (response) => {
    if (response.url().endsWith('.js')) scriptBytes += Number((await response.allHeaders())['content-length'] ?? 0);
  });
  await page.goto(`${url}/campaigns`);
  await page.locator('tbody tr').first().waitFor();
  const timings = await page.evaluate(() => ({
    fcpMs: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    firstRowMs: performance.now(),
  }));
  await page.close();
  if (!reuse) await context.close();
  return { ...timings, scriptBytes };
}

const database = `beacon_bench_dashboard_${randomBytes(4).toString('hex')}`;
const url = databaseUrl(adminUrl, database);
await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
let browser: Browser | undefined;
let app: Awaited<ReturnType<typeof startApp>> | undefined;
try {
  ensureDashboardBuilt();
  await applyMigrations(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `INSERT INTO campaigns (id, name, status, message_template, user_ids, recipients_total, messages_sent, messages_errored, started_at, completed_at, created_at, updated_at)
     SELECT 'c-' || n, 'Campaign ' || n,
            (CASE WHEN n % 4 = 0 THEN 'COMPLETED' ELSE 'DRAFT' END)::campaign_status,
            '{"text": "Hi {{ user.name }}", "attachments": [], "custom": {}}', ARRAY['u-1', 'u-2'],
            CASE WHEN n % 4 = 0 THEN 1000 ELSE 0 END, CASE WHEN n % 4 = 0 THEN 990 ELSE 0 END, CASE WHEN n % 4 = 0 THEN 10 ELSE 0 END,
            CASE WHEN n % 4 = 0 THEN now() END, CASE WHEN n % 4 = 0 THEN now() END,
            now() - n * interval '1 minute', now()
     FROM generate_series(1, $1::int) AS n`,
    [campaigns],
  );
  await client.end();

  app = await startApp(
    loadConfig({ DATABASE_URL: url, PORT: '0', BEACON_API_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', BEACON_DATA_DIR: mkdtempSync(join(tmpdir(), 'beacon-bench-')) }),
  );
  const base = app.api!.url.replace(/\/graphql$/, '');
  const token = await signServerToken(TEST_SECRET, '1h');
  browser = await launchChromium();

  await load(browser, base, token); // warms Beacon (Prisma's first queries) and the disk cache
  const cold: Load[] = [];
  for (let i = 0; i < runs; i++) cold.push(await load(browser, base, token));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await load(browser, base, token, context);
  const warm = await load(browser, base, token, context);
  await context.close();

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const figures = {
    campaigns,
    runs,
    coldFcpMsMedian: Math.round(median(cold.map((l) => l.fcpMs))),
    coldFirstRowMsMedian: Math.round(median(cold.map((l) => l.firstRowMs))),
    warmFirstRowMs: Math.round(warm.firstRowMs),
    scriptBytesTransferred: cold[0]!.scriptBytes,
    loadAverage: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
  console.table(cold.map((l) => ({ fcpMs: Math.round(l.fcpMs), firstRowMs: Math.round(l.firstRowMs), scriptBytes: l.scriptBytes })));
  console.log(JSON.stringify(figures, null, 2));
} finally {
  await browser?.close();
  await app?.stop();
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
