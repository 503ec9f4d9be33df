/**
 * The HTTP edge (src/graphql/http-edge.ts) and GraphiQL's offline files, against a real
 * server. Bodies are streamed and never ended, so an answer proves the server did not wait
 * for (or buffer) the whole body. test/start.test.ts sends the same bodies to a process
 * started with `npm start`'s memory flags.
 */
import { request } from 'node:http';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { postUnending } from './helpers/hostile.js';
import { subscribeSse } from './helpers/subscriptions.js';
import { CampaignUpdatedDocument, UsersDocument } from './generated/graphql.js';

const LIMIT = 1024 * 1024;
const FOURTEEN_MB = 14 * 1024 * 1024;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { BEACON_MAX_BODY_BYTES: String(LIMIT) } });
});
afterAll(() => t?.close());

const codeOf = (body: { errors?: { extensions?: { code?: unknown } }[] }) => body.errors?.[0]?.extensions?.code;

describe('request bodies', () => {
  test('without a token, a POST is refused 401 UNAUTHENTICATED before its body is read', async () => {
    const answer = await postUnending(t.url, {}, FOURTEEN_MB);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ errors: [{ message: 'An access token is required', extensions: { code: 'UNAUTHENTICATED' } }] });
    const forged = await postUnending(t.url, { authorization: 'Bearer not-a-jwt' }, FOURTEEN_MB);
    expect(forged.status).toBe(401);
    expect(codeOf(forged.body)).toBe('UNAUTHENTICATED');
  });

  test('an authenticated body is refused 413 PAYLOAD_TOO_LARGE once it crosses BEACON_MAX_BODY_BYTES (16 KiB for user tokens)', async () => {
    const streamed = await postUnending(t.url, { authorization: `Bearer ${t.serverToken}` }, FOURTEEN_MB);
    expect(streamed.status).toBe(413);
    expect(codeOf(streamed.body)).toBe('PAYLOAD_TOO_LARGE');
    expect(streamed.body.errors[0].message).toMatch(/at most 1048576 bytes/);
    const user = await postUnending(t.url, { authorization: `Bearer ${await t.userToken('alice')}` }, FOURTEEN_MB);
    expect(user.status).toBe(413);
    expect(user.body.errors[0].message).toMatch(/at most 16384 bytes/);
    const declared = await postUnending(t.url, { authorization: `Bearer ${t.serverToken}`, 'content-length': String(FOURTEEN_MB) }, 0);
    expect(declared.status).toBe(413);
    expect(declared.sent).toBeLessThan(1024);
  });

  test('a client that sends Expect: 100-continue is told to send its body only once admitted', async () => {
    const ask = (headers: Record<string, string>) =>
      new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
        let continued = false;
        const req = request(t.url, { method: 'POST', headers: { 'content-type': 'application/json', expect: '100-continue', ...headers } });
        req.on('continue', () => {
          continued = true;
          req.end(JSON.stringify({ query: '{ __typename }' }));
        });
        req.on('response', (res) => {
          res.resume().on('end', () => resolve({ continued, status: res.statusCode! }));
          req.destroy();
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    expect(await ask({})).toEqual({ continued: false, status: 401 });
    expect(await ask({ authorization: `Bearer ${t.serverToken}`, 'content-length': String(FOURTEEN_MB) })).toEqual({ continued: false, status: 413 });
    expect(await ask({ authorization: `Bearer ${t.serverToken}` })).toEqual({ continued: true, status: 200 });
  });

  test('a body within the limit that holds more than 100,000 JSON objects and arrays is refused 413', async () => {
    const body = `{"query":"query ($a: JSON) { __typename }","variables":{"a":[${'{},'.repeat(100_000)}{}]}}`;
    expect(body.length).toBeLessThan(LIMIT);
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.serverToken}` }, body });
    expect(response.status).toBe(413);
    expect(codeOf(await response.json())).toBe('PAYLOAD_TOO_LARGE');
  });

  test('a large body within the limits runs', async () => {
    const users = Array.from({ length: 500 }, (_, i) => ({ id: `big-${i}`, custom: { note: 'x'.repeat(1500) } }));
    const body = JSON.stringify({ query: 'mutation ($users: [UserInput!]!) { upsertUsers(users: $users) { __typename } }', variables: { users } });
    expect(body.length).toBeGreaterThan(750_000);
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.serverToken}` }, body });
    expect(await response.json()).toEqual({ data: { upsertUsers: { __typename: 'UpsertUsersPayload' } } });
    expect((await t.ok(UsersDocument, { first: 1 })).users.totalCount).toBe(500);
  });

  test('a body that is neither application/json nor application/graphql is refused 415', async () => {
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${t.serverToken}` }, body: '{ __typename }' });
    expect(response.status).toBe(415);
    expect(codeOf(await response.json())).toBe('UNSUPPORTED_MEDIA_TYPE');
    const graphql = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/graphql', authorization: `Bearer ${t.serverToken}` }, body: '{ __typename }' });
    expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } });
  });

  test('GET queries still run, and still need a token', async () => {
    const url = `${t.url}?query=${encodeURIComponent('{ users(first: 1) { totalCount } }')}`;
    const withToken = await fetch(url, { headers: { authorization: `Bearer ${t.serverToken}` } });
    expect(((await withToken.json()) as any).data.users.totalCount).toBeGreaterThanOrEqual(0);
    expect(codeOf((await (await fetch(url)).json()) as any)).toBe('UNAUTHENTICATED');
  });

  test('SSE subscriptions still stream through the edge', async () => {
    const id = 'edge-sse';
    await t.app.db.prisma.campaign.create({ data: { id, name: 'Edge', messageTemplate: { text: 'Hi' } } });
    const feed = subscribeSse(t, CampaignUpdatedDocument, { id });
    try {
      expect((await feed.next()).data?.campaignUpdated).toMatchObject({ status: 'DRAFT' });
    } finally {
      await feed.close();
    }
  });
});

describe('BEACON_MAX_BODY_BYTES', () => {
  test('defaults to 4 MiB and must be an integer from 16 KiB to 64 MiB', () => {
    expect(loadConfig({}).maxBodyBytes).toBe(4 * 1024 * 1024);
    expect(loadConfig({ BEACON_MAX_BODY_BYTES: '65536' }).maxBodyBytes).toBe(65_536);
    for (const bad of ['100', '1e9', 'lots']) {
      expect(() => loadConfig({ BEACON_MAX_BODY_BYTES: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ BEACON_MAX_BODY_BYTES: bad })).toThrow(/BEACON_MAX_BODY_BYTES/);
    }
  });
});

describe('GraphiQL', () => {
  test('the page loads nothing from another host, and Beacon serves every file it references', async () => {
    const page = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('renderYogaGraphiQL');
    const referenced = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    const workers = [...new Set([...html.matchAll(/"(\/graphiql\/[\w.]+\.worker\.js)"/g)].map((m) => m[1]!))];
    expect(referenced).toEqual(expect.arrayContaining(['/graphiql/graphiql.js', '/graphiql/graphiql.css']));
    expect(workers).toHaveLength(3);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/unpkg|jsdelivr|cdn\./);
    // The page's own inline scripts at least compile (no browser here to run them).
    for (const [, code] of html.matchAll(/<script>([\s\S]*?)<\/script>/g)) expect(() => new Script(code!)).not.toThrow();
    for (const path of [...referenced, ...workers]) {
      const asset = await fetch(new URL(path, t.url));
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('content-type'), path).toMatch(/javascript|css|icon/);
      expect((await asset.arrayBuffer()).byteLength, path).toBeGreaterThan(1000);
    }
    expect((await fetch(new URL('/graphiql/nope.js', t.url))).status).toBe(404);
  });
});

describe('afterwards', () => {
  test('the server still answers /healthz and an authenticated query', async () => {
    const health = await fetch(t.url.replace('/graphql', '/healthz'));
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await t.ok(UsersDocument, { first: 1 })).users.totalCount).toBe(500);
  });
});
