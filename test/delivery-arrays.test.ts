// The delivery batch's hand-made parameters: text[] literals built by textArray (db.ts)
// must read back in PostgreSQL exactly as pg's own serializer would (distinctChannelId:
// test/pair-channels.test.ts).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { textArray } from '../src/delivery/db.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const HOSTILE = ['', 'NULL', 'null', ' spaced ', 'a,b', '{x}', 'quote " in', 'back \\ slash', '\\"', 'line\nbreak\ttab', 'é ☃ 𝄞', '\u2028', "it's", 'trailing\\'];

describe('textArray', () => {
  test('text[] reads back element by element, nulls and hostile strings included', async () => {
    for (const values of [[], ['plain', 'ids'], [null, 'x', null], HOSTILE, [...HOSTILE, null], ['no escape', 'a,b', '{x}', 'NULL', null]]) {
      const { rows } = await client.query<{ v: (string | null)[] }>('SELECT $1::text[] AS v', [textArray(values)]);
      expect(rows[0]!.v).toEqual(values);
    }
  });

  test('int[] too', async () => {
    const { rows } = await client.query<{ v: number[] }>('SELECT $1::int[] AS v', [textArray([1, 2, 30_000])]);
    expect(rows[0]!.v).toEqual([1, 2, 30_000]);
  });
});
