import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

describe('query limits and error masking', () => {
  test('a query nested deeper than 12 levels is rejected', async () => {
    let selection = 'cid';
    for (let i = 0; i < 7; i += 1) selection = `members { channel { ${selection} } }`;
    const result = await t.raw(`{ channels { edges { node { ${selection} } } } }`);
    expect(result.errors?.[0]?.message).toMatch(/nested \d+ levels deep/);
    expect(result.data ?? null).toBeNull();
  });

  test('a query selecting more than 200 fields is rejected', async () => {
    const fields = Array.from({ length: 201 }, (_, i) => `f${i}: __typename`).join(' ');
    const result = await t.raw(`{ ${fields} }`);
    expect(result.errors?.[0]?.message).toMatch(/more than 200 fields/);
  });

  test('a query within the limits runs', async () => {
    const result = await t.raw('{ channels { totalCount } }');
    expect(result.errors).toBeUndefined();
    expect(result.data.channels.totalCount).toBe(0);
  });

  test('unexpected failures are INTERNAL with no database details', async () => {
    // Break the database under the server: the error must not leak SQL or table names.
    await t.app.db.pool.query('ALTER TABLE users RENAME TO users_gone');
    try {
      const result = await t.raw('{ user(id: "x") { id } }');
      expect(result.errors?.[0]?.extensions?.code).toBe('INTERNAL');
      expect(JSON.stringify(result.errors)).not.toMatch(/users_gone|relation|SELECT|prisma/i);
    } finally {
      await t.app.db.pool.query('ALTER TABLE users_gone RENAME TO users');
    }
  });

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
