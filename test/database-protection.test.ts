// What one authenticated request may cost the database. The API's statement timeout
// (BEACON_QUERY_TIMEOUT_MS): PostgreSQL cancels a request's runaway query — also when the
// client has left — the client gets TIMEOUT, the server keeps answering, and delivery's own
// connections are not bound by it. Filters that would cost without bound are refused
// before any SQL is built.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UsersDocument } from './generated/graphql.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { pglite } from './helpers/delivery-checks.js';

// Long enough that the test sees a slow query running before PostgreSQL cancels it, and that
// the filters allowed below finish, with the other test files loading both cores (CI at 300 ms:
// both failed once); SLOW_FILTER runs for seconds.
const TIMEOUT_MS = 1500;
let t: TestApp;

/**
 * A users filter that reads every row's custom JSON many times over: with 100,000 users it
 * runs for seconds (no index serves `$gt` on elements of a custom array).
 */
const SLOW_FILTER = { $or: Array.from({ length: 40 }, (_, i) => ({ [`tags`]: { $gt: `zz${i}` } })) };

/** Backends of this test's database (other than the asking one) still running a users scan. */
async function runningScans(): Promise<number> {
  const rows = await t.app.db.prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%jsonb_array_elements%'`;
  return rows[0]!.n;
}

async function waitUntilNoScans(withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while ((await runningScans()) > 0) {
    if (Date.now() > until) expect.fail(`a users scan was still running ${withinMs} ms later`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  // The 1,000 × 1,000 filter is ~7 MB of JSON: over the default body limit, which
  // would refuse it first. A larger limit here shows the filter budget holding on its own.
  t = await startTestApp({ env: { BEACON_QUERY_TIMEOUT_MS: String(TIMEOUT_MS), BEACON_MAX_BODY_BYTES: String(16 * 1024 * 1024) } });
  await t.app.db.prisma.$executeRaw`
    INSERT INTO users (id, name, custom)
    SELECT 'slow-' || g, 'User ' || g, jsonb_build_object('tags', jsonb_build_array('a' || g, 'b' || g, 'c' || g))
    FROM generate_series(1, 100000) AS g`;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

// The embedded database (the tests' fallback) is one session shared with delivery: it runs without a timeout.
describe.skipIf(pglite)('statement timeout of API requests', () => {
  test('a query over the timeout is cancelled and answered with TIMEOUT; the server keeps answering', async () => {
    const result = await t.gql(UsersDocument, { filter: SLOW_FILTER, first: 1 });
    expect(result.errors?.[0]?.extensions?.code).toBe('TIMEOUT');
    expect(result.errors?.[0]?.message).toMatch(/took longer than the server allows/);
    await waitUntilNoScans(2000);
    const health = await fetch(t.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
    const normal = await t.ok(UsersDocument, { filter: { id: 'slow-7' } });
    expect(normal.users.edges.map((e) => e.node.id)).toEqual(['slow-7']);
  });

  test('the query is cancelled also when the client has gone away', async () => {
    const abort = new AbortController();
    const request = fetch(t.url, {
      method: 'POST',
      signal: abort.signal,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.serverToken}` },
      body: JSON.stringify({ query: 'query($f: JSON) { users(filter: $f) { totalCount } }', variables: { f: SLOW_FILTER } }),
    }).catch((error: unknown) => error);
    // Wait until PostgreSQL runs it, then leave.
    const until = Date.now() + 2000;
    let running = false;
    while (!(running = (await runningScans()) > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(running).toBe(true);
    abort.abort();
    expect(await request).toBeInstanceOf(Error);
    await waitUntilNoScans(2000);
  });

  test('/healthz answers while slow requests hold the API connections', async () => {
    const requests = Array.from({ length: 12 }, () => t.gql(UsersDocument, { filter: SLOW_FILTER, first: 1 }));
    const until = Date.now() + 3000;
    while ((await runningScans()) < 3) {
      if (Date.now() > until) expect.fail('the slow requests did not run side by side');
      await new Promise((r) => setTimeout(r, 10));
    }
    // Health checks (and delivery) use the other pool, which the API's requests cannot fill.
    expect((await fetch(t.url.replace('/graphql', '/healthz'))).status).toBe(200);
    const codes = (await Promise.all(requests)).map((r) => r.errors?.[0]?.extensions?.code);
    expect(codes).toEqual(Array(12).fill('TIMEOUT'));
    await waitUntilNoScans(2000);
  });

  test('delivery and jobs run on connections without the timeout', async () => {
    const [api] = await t.app.db.apiPrisma.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`;
    const [delivery] = await t.app.db.prisma.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`;
    const pooled = await t.app.db.pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(api!.statement_timeout).toBe(`${TIMEOUT_MS}ms`);
    expect(delivery!.statement_timeout).toBe('0');
    expect(pooled.rows[0]!.statement_timeout).toBe('0');
    // A statement longer than the API's timeout completes on delivery's client.
    await expect(t.app.db.prisma.$queryRaw`SELECT pg_sleep(${(TIMEOUT_MS * 2) / 1000})::text`).resolves.toBeDefined();
  });
});

describe('filters refused before they reach the database', () => {
  async function expectRefused(filter: unknown, path: RegExp, message: RegExp): Promise<void> {
    const result = await t.gql(UsersDocument, { filter, first: 1 });
    expect(result.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(result.errors?.[0]?.extensions?.path).toMatch(path);
    expect(result.errors?.[0]?.message).toMatch(message);
  }

  test('a 1 MB $autocomplete is refused, and the server keeps answering', async () => {
    await expectRefused({ name: { $autocomplete: 'a'.repeat(1_000_000) } }, /^filter\.name\.\$autocomplete$/, /at most 256|100000 characters/);
    expect((await fetch(t.url.replace('/graphql', '/healthz'))).status).toBe(200);
  });

  test('1,000 × $in of 1,000 strings is refused where the budget is crossed', async () => {
    const values = Array.from({ length: 1000 }, (_, i) => `c${i}`);
    const filter = { $or: Array.from({ length: 1000 }, () => ({ country: { $in: values } })) };
    await expectRefused(filter, /^filter\.\$or\[9\]\.country\.\$in\[\d+\]$/, /more than 10000 values/);
    // An indexed filter: anything slower could meet the test's 300 ms timeout on a busy machine.
    const normal = await t.ok(UsersDocument, { filter: { id: { $in: ['slow-4200', 'slow-4201', 'nobody'] } } });
    expect(normal.users.totalCount).toBe(2);
  });
});
