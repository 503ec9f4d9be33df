import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getIntrospectionQuery, parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { startTestApp, type GraphQLResponse, type TestApp } from './helpers/app.js';
import { subscribeSse, subscribeWs, type Feed } from './helpers/subscriptions.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ logs: 'error' });
});
afterAll(() => t?.close());

const doc = (text: string) => parse(text) as TypedDocumentNode<any, Record<string, unknown>>;
const firstError = (result: GraphQLResponse<unknown>) => result.errors?.[0];
const USER_PAGE = 'edges { node { user { id name custom } } }';
const HEAVY_SUBSCRIPTION = `subscription ($id: ID) { campaignUpdated(id: $id) { recipients(first: 1000) { ${USER_PAGE} } } }`;
const STATS_SUBSCRIPTION = 'subscription Stats($id: ID) { campaignUpdated(id: $id) { id name status updatedAt stats { recipientsTotal messagesSent pending progress } } }';

let seq = 0;
/** A DRAFT campaign written straight to the database; returns its id. */
async function newCampaign(): Promise<string> {
  const id = `limits-${++seq}`;
  await t.app.db.prisma.campaign.create({ data: { id, name: `Campaign ${id}`, messageTemplate: { text: 'Hi' } } });
  return id;
}

/** Runs `fn` with `table` renamed away, so any statement touching it fails in the database. */
async function withoutTable<T>(table: string, fn: () => Promise<T>): Promise<T> {
  await t.app.db.pool.query(`ALTER TABLE ${table} RENAME TO ${table}_gone`);
  try {
    return await fn();
  } finally {
    await t.app.db.pool.query(`ALTER TABLE ${table}_gone RENAME TO ${table}`);
  }
}

/** The first error a subscription got: an `error` message (failure) or a result carrying errors. */
async function subscriptionError(feed: Feed<unknown>) {
  try {
    const result = await feed.next();
    return firstError(result);
  } catch {
    return (feed.failure as { extensions?: Record<string, unknown>; message: string }[] | undefined)?.[0];
  } finally {
    await feed.close();
  }
}

describe('query limits (graphql-armor + list-size cost)', () => {
  test('a query nested deeper than 12 levels is refused as VALIDATION naming the depth limit', async () => {
    let selection = 'cid';
    for (let i = 0; i < 7; i += 1) selection = `members { channel { ${selection} } }`;
    const result = await t.raw(`{ channels { edges { node { ${selection} } } } }`);
    expect(firstError(result)).toMatchObject({ message: expect.stringMatching(/depth limit of 12 exceeded/), extensions: { code: 'VALIDATION', limit: 'maxDepth' } });
    expect(result.data ?? null).toBeNull();
  });

  test('more than 15 aliases, more than 50 directives or more than 2,000 tokens are refused, each naming its limit', async () => {
    const aliased = Array.from({ length: 16 }, (_, i) => `a${i}: channels { totalCount }`).join(' ');
    expect(firstError(await t.raw(`{ ${aliased} }`))).toMatchObject({ message: expect.stringMatching(/Aliases limit of 15/), extensions: { code: 'VALIDATION', limit: 'maxAliases' } });
    const directed = Array.from({ length: 51 }, () => '__typename @include(if: true)').join(' ');
    expect(firstError(await t.raw(`{ ${directed} }`))).toMatchObject({ message: expect.stringMatching(/Directives limit of 50/), extensions: { code: 'VALIDATION', limit: 'maxDirectives' } });
    const long = `{ ${'__typename '.repeat(2001)}}`;
    expect(firstError(await t.raw(long))).toMatchObject({ message: expect.stringMatching(/Token limit of 2000/), extensions: { code: 'VALIDATION', limit: 'maxTokens' } });
  });

  test('the cost multiplies by first/last, also through variables, and an omitted first counts the default page', async () => {
    const nested = 'query ($n: Int) { campaigns(first: $n) { edges { node { recipients(first: $n) { totalCount } } } } }';
    // 1,000 campaigns × 1,000 recipients each: refused before any row is read.
    expect(firstError(await t.raw(nested, { n: 1000 }))).toMatchObject({ message: expect.stringMatching(/cost limit of 100000 exceeded/), extensions: { code: 'VALIDATION', limit: 'maxCost' } });
    expect((await t.raw(nested, { n: 5 })).errors).toBeUndefined();
    // No first: the default page of 100 on every level (100 segments × 100 targets × 100 members) is over the limit too.
    const unpaged = '{ segments { edges { node { targets { edges { node { channel { members { userId } } } } } } } } }';
    expect(firstError(await t.raw(unpaged))?.extensions).toMatchObject({ limit: 'maxCost' });
    // One page of 1,000 recipients with their users is an ordinary dashboard query.
    expect((await t.raw(`{ recipients(first: 1000) { ${USER_PAGE} } }`)).errors).toBeUndefined();
    // A variable that does not fit is execution's usual error, not a cost refusal.
    const missing = firstError(await t.raw('query ($n: Int!) { campaigns(first: $n) { totalCount } }'));
    expect(missing?.message).toMatch(/"\$n" of required type "Int!" was not provided/);
    expect(missing?.extensions?.limit).toBeUndefined();
  });

  test('fragments spread twice on every level (2^14 selections from a few hundred tokens) are refused, not walked', async () => {
    const levels = Array.from({ length: 14 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ... on Query { ...F${i + 1} } }`);
    const result = await t.raw(`{ ...F0 } ${levels.join(' ')} fragment F14 on Query { channels { totalCount } }`);
    expect(firstError(result)).toMatchObject({ message: expect.stringMatching(/maximum allowed number of nodes/), extensions: { code: 'VALIDATION', limit: 'maxCost' } });
  });

  test('a query within the limits runs', async () => {
    const result = await t.raw('{ channels { totalCount } }');
    expect(result.errors).toBeUndefined();
    expect(result.data.channels.totalCount).toBe(0);
  });

  test("graphql's standard introspection query (GraphiQL, codegen) is accepted, in its plain and its fullest form", async () => {
    const fullest = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true };
    for (const query of [getIntrospectionQuery(), getIntrospectionQuery(fullest)]) {
      const result = await t.raw(query);
      expect(result.errors).toBeUndefined();
      expect(result.data.__schema.types.map((type: { name: string }) => type.name)).toContain('Campaign');
    }
  });

  test('a subscription gets a tighter cost limit than a query, over graphql-ws and SSE', async () => {
    const id = await newCampaign();
    for (const via of [subscribeWs, subscribeSse]) {
      const refused = await subscriptionError(via(t, doc(HEAVY_SUBSCRIPTION), { id }));
      expect(refused).toMatchObject({ message: expect.stringMatching(/Subscription cost limit of 500 exceeded/), extensions: { code: 'VALIDATION', limit: 'maxSubscriptionCost' } });
      const stats = via(t, doc(STATS_SUBSCRIPTION), { id });
      try {
        expect(await stats.next()).toMatchObject({ data: { campaignUpdated: { id, status: 'DRAFT' } } });
      } finally {
        await stats.close();
      }
    }
    // The same selection is fine as a query.
    expect((await t.raw(`query ($id: ID!) { campaign(id: $id) { recipients(first: 1000) { ${USER_PAGE} } } }`, { id })).errors).toBeUndefined();
  });

  test('the WebSocket path applies the document limits too', async () => {
    let selection = 'cid';
    for (let i = 0; i < 7; i += 1) selection = `members { channel { ${selection} } }`;
    const deep = doc(`subscription ($id: ID) { campaignUpdated(id: $id) { segments { id } recipients(first: 1) { edges { node { channel { ${selection} } } } } } }`);
    expect(await subscriptionError(subscribeWs(t, deep, {}))).toMatchObject({ extensions: { code: 'VALIDATION', limit: 'maxDepth' } });
  });

});

describe('unexpected errors', () => {
  const post = (query: string, headers: Record<string, string> = {}) =>
    fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.serverToken}`, ...headers },
      body: JSON.stringify({ query }),
    });
  const loggedFor = (requestId: unknown) => t.logs.filter((entry) => entry.msg === 'unexpected error' && entry.requestId === requestId);

  test('are INTERNAL with a request id and no database details; the log line has the same id, the operation and the stack', async () => {
    // Break the database under the server: the error must not leak SQL or table names.
    const response = await withoutTable('users', () => post('query FindUser { user(id: "x") { id } }'));
    const result = (await response.json()) as GraphQLResponse<unknown>;
    const error = firstError(result)!;
    expect(error.extensions).toMatchObject({ code: 'INTERNAL', requestId: expect.any(String) });
    expect(JSON.stringify(result.errors)).not.toMatch(/users_gone|relation|SELECT|prisma/i);
    const requestId = error.extensions!.requestId;
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const [entry, ...more] = loggedFor(requestId);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ level: 'error', operationName: 'FindUser', path: 'user', err: { message: expect.stringMatching(/users/) } });
    expect((entry!.err as { stack: string }).stack).toMatch(/\n\s+at /);
  });

  test("honour the caller's x-request-id when it is a plain token, and replace it otherwise", async () => {
    const given = await withoutTable('users', () => post('{ user(id: "x") { id } }', { 'x-request-id': 'client-42.a' }));
    expect(given.headers.get('x-request-id')).toBe('client-42.a');
    expect(firstError(await given.json())?.extensions).toMatchObject({ code: 'INTERNAL', requestId: 'client-42.a' });
    expect(loggedFor('client-42.a')).toHaveLength(1);

    const odd = await post('{ channels { totalCount } }', { 'x-request-id': 'no spaces or quotes "here"' });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('in subscriptions over graphql-ws and SSE carry the request id too, logged with the operation name', async () => {
    const id = await newCampaign();
    for (const via of [subscribeWs, subscribeSse]) {
      const error = await withoutTable('campaigns', () => subscriptionError(via(t, doc(STATS_SUBSCRIPTION), { id })));
      expect(error?.extensions).toMatchObject({ code: 'INTERNAL', requestId: expect.any(String) });
      expect(loggedFor(error!.extensions!.requestId)).toEqual([expect.objectContaining({ operationName: 'Stats', path: 'campaignUpdated' })]);
    }
  });
});
