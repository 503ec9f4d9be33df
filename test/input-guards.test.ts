/**
 * Values no service should ever see (src/graphql/input-guards.ts): NUL characters, lone
 * surrogates and JSON nested thousands of levels deep used to surface as INTERNAL
 * (PostgreSQL and recursive walks failing on them); they are VALIDATION errors before
 * anything runs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { documentNesting } from '../src/graphql/input-guards.js';
import { UsersDocument } from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

/** Posts raw JSON text (JSON.stringify itself overflows the stack on 5,000 levels). */
async function post(query: string, variablesJson?: string) {
  const body = `{"query":${JSON.stringify(query)}${variablesJson ? `,"variables":${variablesJson}` : ''}}`;
  const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.serverToken}` }, body });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}
const deepJson = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deepLiteral = (levels: number) => '{a:'.repeat(levels) + '1' + '}'.repeat(levels);
const UPSERT = 'mutation ($users: [UserInput!]!) { upsertUsers(users: $users) { __typename } }';
const FILTER = 'query ($f: JSON) { users(filter: $f) { totalCount } }';

describe('NUL characters', () => {
  test('a NUL character in a literal or in a variable is VALIDATION, never a database error', async () => {
    const literal = await t.raw('{ user(id: "a\\u0000b") { id } }');
    expect(literal.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(literal.errors?.[0]?.message).toMatch(/NUL/);
    const variable = await t.raw('query ($id: ID!) { segment(id: $id) { id } }', { id: 'seg\u0000x' });
    expect(variable.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path: 'variables.id' });
    const nested = await t.raw('query ($f: JSON) { users(filter: $f) { totalCount } }', { f: { name: { $in: ['ok', 'b\u0000d'] } } });
    expect(nested.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path: 'variables.f.name.$in[1]' });
    const clean = await t.raw('query ($id: ID!) { user(id: $id) { id } }', { id: 'fine' });
    expect(clean.errors).toBeUndefined();
  });
});

describe('lone surrogates', () => {
  test('in a variable string, an object key or a filter value are VALIDATION with the path', async () => {
    const name = await post(UPSERT, JSON.stringify({ users: [{ id: 'ok' }, { id: 'x', name: 'a\ud800b' }] }));
    expect(name.errors).toEqual([{ message: expect.stringMatching(/lone UTF-16 surrogate/), extensions: { code: 'VALIDATION', path: 'variables.users[1].name' } }]);
    const key = await post(UPSERT, JSON.stringify({ users: [{ id: 'x', custom: { 'k\udc00': 1 } }] }));
    expect(key.errors?.[0]?.extensions).toEqual({ code: 'VALIDATION', path: 'variables.users[0].custom' });
    const filter = await post(FILTER, JSON.stringify({ f: { name: { $in: ['fine 😀', '\udc00'] } } }));
    expect(filter.errors?.[0]?.extensions).toEqual({ code: 'VALIDATION', path: 'variables.f.name.$in[1]' });
    expect((await t.ok(UsersDocument, {})).users.totalCount).toBe(0); // nothing was written
  });

  test('in a literal are refused by the GraphQL lexer', async () => {
    const literal = await post('{ user(id: "\\ud800") { id } }');
    expect(literal.errors?.[0]?.message).toMatch(/Invalid Unicode escape/);
  });

  test('well-formed pairs (emoji) pass', async () => {
    const ok = await post(UPSERT, JSON.stringify({ users: [{ id: 'emoji', name: 'Ana 😀' }] }));
    expect(ok).toEqual({ data: { upsertUsers: { __typename: 'UpsertUsersPayload' } } });
  });
});

describe('deep JSON', () => {
  test('a 5,000-deep variable (filter or custom data) is VALIDATION, as is one 33 levels deep', async () => {
    const filter = await post(FILTER, `{"f":${deepJson(5000)}}`);
    expect(filter.errors).toEqual([{ message: expect.stringMatching(/deeper than 32 levels/), extensions: { code: 'VALIDATION', path: `variables.f${'.a'.repeat(32)}` } }]);
    const custom = await post(UPSERT, `{"users":[{"id":"deep","custom":${deepJson(5000)}}]}`);
    expect(custom.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    const justOver = await post(UPSERT, `{"users":[{"id":"deep","custom":${deepJson(31)}}]}`);
    expect(justOver.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION' });
    const within = await post(UPSERT, `{"users":[{"id":"deep","custom":${deepJson(29)}}]}`);
    expect(within).toEqual({ data: { upsertUsers: { __typename: 'UpsertUsersPayload' } } });
  });

  test('a 5,000-deep object or list literal is VALIDATION before graphql parses it', async () => {
    for (const literal of [deepLiteral(5000), `${'['.repeat(5000)}${']'.repeat(5000)}`]) {
      const result = await post(`{ users(filter: ${literal}) { totalCount } }`);
      expect(result.errors).toEqual([{ message: 'The document nests {, [ and ( deeper than 64 levels', extensions: { code: 'VALIDATION' } }]);
    }
  });

  test('a literal over 32 levels but within the document limit fails validation the same way', async () => {
    const result = await post(`mutation { upsertUsers(users: [{id: "lit", custom: ${deepLiteral(40)}}]) { __typename } }`);
    expect(result.errors).toEqual([
      { message: 'Object and list values may nest at most 32 levels', locations: expect.any(Array), extensions: { code: 'VALIDATION' } },
    ]);
  });
});

describe('documentNesting', () => {
  test('counts brackets outside strings, block strings and comments', () => {
    expect(documentNesting('{ a { b(x: [1]) } }')).toBe(4);
    expect(documentNesting('{ a(s: "{{{[[[(((") }')).toBe(2);
    expect(documentNesting('{ a(s: """ {{{ \\""" [[[ """) }')).toBe(2);
    expect(documentNesting('# {{{{{{\n{ a }')).toBe(1);
    expect(documentNesting('{ a(s: "\\"{{{") }')).toBe(2);
  });
});

describe('afterwards', () => {
  test('the server still answers /healthz and a query', async () => {
    expect(await (await fetch(t.url.replace('/graphql', '/healthz'))).json()).toEqual({ status: 'ok' });
    expect((await t.ok(UsersDocument, {})).users.edges.map((e) => e.node.id).sort()).toEqual(['deep', 'emoji']);
  });
});
