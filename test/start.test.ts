/**
 * `npm start` as production runs it: `npm run build` compiles src/ to dist/, and plain Node
 * runs dist/main.js with the V8 flags of the start script (a 256 MB heap). The tests
 * otherwise run the TypeScript sources, so this is what catches a build that does not
 * compile or start — and the one place a hostile request meets the real memory ceiling.
 * One process serves the whole file.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signServerToken } from '../src/auth/tokens.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { pglite } from './helpers/delivery-checks.js';
import { postUnending, RawSocket, sendHugeInit } from './helpers/hostile.js';
import { TEST_SECRET } from './helpers/secret.js';
import { killAllWorkers, npmStartArgs, startWorker, type WorkerProcess } from './helpers/worker-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MB = 1024 * 1024;
let db: TestDatabase | undefined;
let beacon: WorkerProcess;
let url: string;
let token: string;
afterAll(async () => {
  await killAllWorkers();
  await db?.drop();
});

async function query(text: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: text }),
  });
  return response.json();
}

// A child process needs a server it can open several connections to (not the PGlite fallback).
describe.skipIf(pglite)('npm start', () => {
  beforeAll(async () => {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    db = await createTestDatabase();
    beacon = await startWorker({ databaseUrl: db.url, name: 'npm-start', nodeArgs: npmStartArgs(), env: { BEACON_ROLE: 'all', LOG_LEVEL: 'info' } });
    token = await signServerToken(TEST_SECRET);
    url = String(beacon.logs.find((e) => e.msg === 'beacon started')!.graphql);
  }, 60_000);

  test('the build compiles, and the compiled server starts with the start script’s flags and answers GraphQL', async () => {
    const started = beacon.logs.find((e) => e.msg === 'beacon started')!;
    expect(started).toMatchObject({ role: 'all', database: 'postgresql' });
    expect(await query('{ campaigns(first: 1) { totalCount } }')).toEqual({ data: { campaigns: { totalCount: 0 } } });
  });

  test('14 MB bodies with and without a token, and a 30 MB connection_init, are refused and the process lives on', async () => {
    // Each body is streamed and never ended: an answer means the server stopped reading.
    const anonymous = await postUnending(url, {}, 14 * MB);
    expect(anonymous).toMatchObject({ status: 401, body: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
    const authenticated = await postUnending(url, { authorization: `Bearer ${token}` }, 14 * MB);
    expect(authenticated).toMatchObject({ status: 413, body: { errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] } });
    const socket = new RawSocket(url.replace(/^http/, 'ws'));
    await sendHugeInit(socket, 30 * MB);
    expect((await socket.closed).code).toBe(1009);

    expect(await (await fetch(url.replace('/graphql', '/healthz'))).json()).toEqual({ status: 'ok' });
    expect(await query('{ users(first: 1) { totalCount } }')).toEqual({ data: { users: { totalCount: 0 } } });
    expect(beacon.exited).toBe(false);
  });
});
