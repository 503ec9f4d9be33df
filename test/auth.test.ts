import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { print } from 'graphql';
import { SignJWT } from 'jose';
import { startTestApp, TEST_SECRET, type TestApp } from './helpers/app.js';
import { MarkChannelReadDocument, UpsertUsersDocument, UsersDocument, CreateChannelDocument } from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.ok(UpsertUsersDocument, { users: [{ id: 'alice' }, { id: 'bob' }] });
  await t.ok(CreateChannelDocument, { input: { type: 'messaging', id: 'general', members: ['alice', 'bob'] } });
});
afterAll(() => t?.close());

const codeOf = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

describe('access matrix (spec §8)', () => {
  test('a query without a token is UNAUTHENTICATED', async () => {
    const result = await t.gql(UsersDocument, {}, { token: null });
    expect(codeOf(result)).toBe('UNAUTHENTICATED');
    expect(result.data?.users ?? null).toBeNull();
  });

  test('a token signed with another secret is UNAUTHENTICATED', async () => {
    const forged = await new SignJWT({ server: true }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('some-other-secret-123456'));
    expect(codeOf(await t.gql(UsersDocument, {}, { token: forged }))).toBe('UNAUTHENTICATED');
  });

  test('garbage in the Authorization header is UNAUTHENTICATED', async () => {
    expect(codeOf(await t.gql(UsersDocument, {}, { token: 'not-a-jwt' }))).toBe('UNAUTHENTICATED');
  });

  test('a user token may not query or mutate: FORBIDDEN', async () => {
    const token = await t.userToken('alice');
    expect(codeOf(await t.gql(UsersDocument, {}, { token }))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(UpsertUsersDocument, { users: [{ id: 'eve' }] }, { token }))).toBe('FORBIDDEN');
    const server = await t.ok(UsersDocument, { filter: { id: 'eve' } });
    expect(server.users.totalCount).toBe(0);
  });

  test('a user token may mark a channel read for its own user only', async () => {
    const own = await t.gql(MarkChannelReadDocument, { channelCid: 'messaging:general', userId: 'alice' }, { token: await t.userToken('alice') });
    expect(own.errors).toBeUndefined();
    expect(own.data?.markChannelRead.__typename).toBe('MarkChannelReadPayload');
    const other = await t.gql(MarkChannelReadDocument, { channelCid: 'messaging:general', userId: 'bob' }, { token: await t.userToken('alice') });
    expect(codeOf(other)).toBe('FORBIDDEN');
    const anonymous = await t.gql(MarkChannelReadDocument, { channelCid: 'messaging:general', userId: 'alice' }, { token: null });
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
  });

  test('a server token may do everything', async () => {
    const result = await t.ok(UsersDocument, {});
    expect(result.users.edges.map((e) => e.node.id).sort()).toEqual(['alice', 'bob']);
  });
});

describe('verified tokens are remembered, their expiry is not', () => {
  test('a token that worked is refused once its exp passes, over HTTP as on the first call', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ server: true }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(new TextEncoder().encode(TEST_SECRET));
    for (let i = 0; i < 3; i++) expect((await t.gql(UsersDocument, {}, { token })).errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const refused = await t.gql(UsersDocument, {}, { token });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('graphql-ws', () => {
  function wsClient(authorization: string | undefined) {
    return createClient({
      url: t.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: authorization === undefined ? {} : { authorization },
      retryAttempts: 0,
      lazy: true,
    });
  }

  function runQuery(client: ReturnType<typeof wsClient>) {
    return new Promise<unknown>((resolve, reject) => {
      let value: unknown;
      client.subscribe(
        { query: print(UsersDocument), variables: { first: 10 } },
        { next: (v) => (value = v), error: reject, complete: () => resolve(value) },
      );
    });
  }

  test('connects with a server token and runs an operation', async () => {
    const client = wsClient(`Bearer ${t.serverToken}`);
    try {
      const result = (await runQuery(client)) as { data: { users: { totalCount: number } } };
      expect(result.data.users.totalCount).toBe(2);
    } finally {
      await client.dispose();
    }
  });

  test('is refused without a token', async () => {
    const client = wsClient(undefined);
    try {
      const error = await runQuery(client).then(() => null, (e: unknown) => e);
      expect(error).toMatchObject({ code: 4401 });
    } finally {
      await client.dispose();
    }
  });

  test('is refused with a bad token', async () => {
    const client = wsClient('Bearer nope');
    try {
      const error = await runQuery(client).then(() => null, (e: unknown) => e);
      expect(error).toMatchObject({ code: 4401 });
    } finally {
      await client.dispose();
    }
  });
});

describe('health', () => {
  test('GET /healthz answers 200 once the database answers', async () => {
    const response = await fetch(t.url.replace('/graphql', '/healthz'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
