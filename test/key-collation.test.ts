// Keys compare byte by byte (migration 20261130100000_keys_collate_c): every id and reference
// column of Beacon's tables has the "C" collation, so index writes and probes on them compare
// with memcmp instead of the locale, and ids sort the same whatever the database's default is.
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Key columns: ids, channel cids, references to them, the keyset cursor and the campaign's user id list. */
const isKey = (column: string) => ['id', 'cid', 'user_ids', 'materialized_through'].includes(column) || /_(id|cid)$/.test(column);

test('every key column of Beacon’s tables has the "C" collation; human text keeps the default', async () => {
  const { rows } = await client.query<{ table_name: string; column_name: string; collation_name: string | null }>(`
    SELECT c.table_name, c.column_name, coalesce(c.collation_name, e.collation_name) AS collation_name
    FROM information_schema.columns c
    LEFT JOIN information_schema.element_types e ON e.object_schema = c.table_schema AND e.object_name = c.table_name
      AND e.object_type = 'TABLE' AND e.collection_type_identifier = c.dtd_identifier
    WHERE c.table_schema = 'public' AND c.table_name NOT IN ('_prisma_migrations', 'agenda_jobs')
      AND (c.data_type = 'text' OR (c.data_type = 'ARRAY' AND c.udt_name = '_text'))`);
  const keys = rows.filter((r) => isKey(r.column_name));
  expect(keys.length).toBeGreaterThanOrEqual(25);
  expect(keys.filter((r) => r.collation_name !== 'C').map((r) => `${r.table_name}.${r.column_name}`)).toEqual([]);
  const text = rows.filter((r) => !isKey(r.column_name)).map((r) => `${r.table_name}.${r.column_name}`);
  expect(text).toEqual(expect.arrayContaining(['users.name', 'messages.text', 'campaigns.name']));
  expect(rows.filter((r) => !isKey(r.column_name) && r.collation_name === 'C')).toEqual([]);
});

test('ids sort byte by byte, and compare with parameters and other text without a collation conflict', async () => {
  const ids = ['b', 'B', '_x', '-y', 'a@b', 'a.b', '9'];
  await client.query(`INSERT INTO users (id, name) SELECT id, upper(id) FROM unnest($1::text[]) AS id`, [ids]);
  const sorted = await client.query<{ id: string }>(`SELECT id FROM users WHERE id = ANY($1::text[]) ORDER BY id`, [ids]);
  expect(sorted.rows.map((r) => r.id)).toEqual([...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  const mixed = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE id > $1 AND upper(id) = name AND id <> name`, ['9']);
  expect(mixed.rows[0]!.n).toBe(ids.filter((id) => id > '9' && id.toUpperCase() !== id).length);
});
