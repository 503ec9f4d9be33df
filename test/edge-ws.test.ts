/**
 * What one graphql-ws socket may cost and how it fails (src/graphql/ws-server.ts), with raw
 * sockets that send what a well-behaved client never would.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { RawSocket, sendHugeInit } from './helpers/hostile.js';
import { UsersDocument } from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const sockets: RawSocket[] = [];
const open = () => {
  const socket = new RawSocket(t.wsUrl);
  sockets.push(socket);
  return socket;
};
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
const authorized = async () => {
  const socket = open();
  await socket.init({ authorization: `Bearer ${t.serverToken}` });
  return socket;
};

describe('connecting', () => {
  test('without a token the socket closes 4401', async () => {
    const socket = open();
    await socket.opened();
    socket.send({ type: 'connection_init', payload: {} });
    expect(await socket.closed).toEqual({ code: 4401, reason: 'Unauthorized: an access token is required' });
  });

  test('a bad token, or an authorization that is not a string, closes 4401 with no internal text', async () => {
    for (const authorization of ['Bearer nope', 42, { toString: 1 }, { token: 'x' }, ['Bearer x'], '']) {
      const socket = open();
      await socket.opened();
      socket.send({ type: 'connection_init', payload: { authorization } });
      const closed = await socket.closed;
      expect(closed.code, JSON.stringify(authorization)).toBe(4401);
      expect(closed.reason).toMatch(/^Unauthorized: (an access token is required|the access token is invalid)$/);
    }
  });

  test('a socket that sends no connection_init is closed 4408 after 3 s', async () => {
    const socket = open();
    await socket.opened();
    expect((await socket.closed).code).toBe(4408);
  });

  test('a 30 MB connection_init is cut off at 64 KiB (close 1009), before and after authenticating', async () => {
    const early = open();
    const sent = await sendHugeInit(early, 30 * 1024 * 1024);
    expect((await early.closed).code).toBe(1009);
    expect(sent).toBeLessThan(30 * 1024 * 1024);
    const late = await authorized();
    late.send({ id: '1', type: 'subscribe', payload: { query: `{ __typename }`, variables: { pad: 'x'.repeat(70 * 1024) } } });
    expect((await late.closed).code).toBe(1009);
  });
});

describe('operations', () => {
  test('a syntax or validation error fails that operation only; the socket stays open', async () => {
    const socket = await authorized();
    const syntax = await socket.run('1', '{ users(');
    expect(syntax).toMatchObject({ id: '1', type: 'error', payload: [{ message: expect.stringMatching(/^Syntax Error/) }] });
    const invalid = await socket.run('2', '{ noSuchField }');
    expect(invalid).toMatchObject({ id: '2', type: 'error', payload: [{ message: expect.stringMatching(/noSuchField/) }] });
    const fine = await socket.run('3', '{ users(first: 1) { totalCount } }');
    expect(fine).toMatchObject({ id: '3', type: 'next', payload: { data: { users: { totalCount: 0 } } } });
  });

  test('at most 20 operations run at once on one socket; one more is an error for its id', async () => {
    const socket = await authorized();
    // campaignUpdated without an id sends nothing until a campaign changes: each stays open.
    for (let i = 1; i <= 20; i += 1) socket.send({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { campaignUpdated { id } }' } });
    const refused = await socket.run('s21', 'subscription { campaignUpdated { id } }');
    expect(refused).toMatchObject({ id: 's21', type: 'error', payload: [{ extensions: { code: 'TOO_MANY_OPERATIONS' } }] });
    socket.send({ id: 's1', type: 'complete' });
    const admitted = await socket.run('q1', '{ users(first: 1) { totalCount } }');
    expect(admitted).toMatchObject({ type: 'next', payload: { data: { users: { totalCount: 0 } } } });
  });

  test('a lone surrogate or a 5,000-deep variable is a VALIDATION error for that operation', async () => {
    const socket = await authorized();
    const surrogate = await socket.run('1', 'query ($id: ID!) { user(id: $id) { id } }', { id: 'a\ud800' });
    expect(surrogate).toMatchObject({ type: 'next', payload: { errors: [{ extensions: { code: 'VALIDATION', path: 'variables.id' } }] } });
    // Built as text: JSON.stringify itself recurses too deep for 5,000 levels.
    const deep = `{"a":`.repeat(5000) + '1' + '}'.repeat(5000);
    socket.send(`{"id":"2","type":"subscribe","payload":{"query":"query ($f: JSON) { users(filter: $f) { totalCount } }","variables":{"f":${deep}}}}`);
    const refused = await socket.next((m) => m.id === '2' && m.type !== 'complete');
    // The path names where the value crossed 32 levels.
    expect(refused).toMatchObject({ type: 'next', payload: { errors: [{ extensions: { code: 'VALIDATION', path: `variables.f${'.a'.repeat(32)}` } }] } });
    expect((await socket.run('3', '{ __typename }')).payload).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('afterwards', () => {
  test('the server still answers /healthz, HTTP and WebSocket operations', async () => {
    expect(await (await fetch(t.url.replace('/graphql', '/healthz'))).json()).toEqual({ status: 'ok' });
    expect((await t.ok(UsersDocument, { first: 1 })).users.totalCount).toBe(0);
    expect((await (await authorized()).run('1', '{ __typename }')).payload).toEqual({ data: { __typename: 'Query' } });
  });
});
