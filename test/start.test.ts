/**
 * `npm start` as production runs it: `npm run build` compiles src/ to dist/, and plain Node
 * runs dist/main.js with the V8 flags of the start script. The tests otherwise run the
 * TypeScript sources, so this is what catches a build that does not compile or start.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { signServerToken } from '../src/auth/tokens.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { pglite } from './helpers/delivery-checks.js';
import { TEST_SECRET } from './helpers/secret.js';
import { killAllWorkers, npmStartArgs, startWorker } from './helpers/worker-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let db: TestDatabase | undefined;
afterAll(async () => {
  await killAllWorkers();
  await db?.drop();
});

// A child process needs a server it can open several connections to (not the PGlite fallback).
describe.skipIf(pglite)('npm start', () => {
  test('the build compiles, and the compiled server starts with the start script’s flags and answers GraphQL', async () => {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    db = await createTestDatabase();
    const beacon = await startWorker({ databaseUrl: db.url, name: 'npm-start', nodeArgs: npmStartArgs(), env: { BEACON_ROLE: 'all', LOG_LEVEL: 'info' } });
    const started = beacon.logs.find((e) => e.msg === 'beacon started')!;
    expect(started).toMatchObject({ role: 'all', database: 'postgresql' });
    const response = await fetch(String(started.graphql), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await signServerToken(TEST_SECRET)}` },
      body: JSON.stringify({ query: '{ campaigns(first: 1) { totalCount } }' }),
    });
    expect(await response.json()).toEqual({ data: { campaigns: { totalCount: 0 } } });
  }, 60_000);
});
