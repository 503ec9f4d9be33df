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
});
