// The references of channels, channel_members, messages and recipients are enforced by
// statement-level triggers instead of foreign keys (migration
// 20261130073000_references_checked_per_statement): the same errors, the same ON DELETE
// actions, and the same behaviour under concurrency (a delete waits for writers in flight;
// writers that come after it see the rows as gone).
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { TRIGGER_ENFORCED_FOREIGN_KEYS } from '../scripts/migration-diff.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;
let a: pg.Client;
let b: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  a = new pg.Client({ connectionString: db.url });
  b = new pg.Client({ connectionString: db.url });
  await Promise.all([a.connect(), b.connect()]);
});
afterAll(async () => {
  await Promise.all([a?.end(), b?.end()]);
  await db?.drop();
});

let n = 0;
/** A user, a channel it created with it as member, a message by it, and a campaign that reached it. */
async function world() {
  n += 1;
  const user = `u${n}`;
  const cid = `messaging:c${n}`;
  await a.query(`INSERT INTO users (id, name) VALUES ($1, 'U')`, [user]);
  await a.query(`INSERT INTO channels (cid, type, id, created_by_id, member_count) VALUES ($1, 'messaging', $2, $3, 1)`, [cid, `c${n}`, user]);
  await a.query(`INSERT INTO channel_members (channel_cid, user_id) VALUES ($1, $2)`, [cid, user]);
  await a.query(`INSERT INTO messages (id, channel_cid, user_id, text) VALUES ($1, $2, $3, 'hi')`, [`m${n}`, cid, user]);
  await a.query(`INSERT INTO campaigns (id, name, message_template, updated_at) VALUES ($1, 'C', '{}', now())`, [`k${n}`]);
  await a.query(
    `INSERT INTO recipients (id, campaign_id, user_id, status, message_id) VALUES ($1, $2, $3, 'SENT', $4), ($5, $2, NULL, 'PENDING', NULL)`,
    [`r${n}`, `k${n}`, user, `m${n}`, `rc${n}`],
  );
  await a.query(`UPDATE recipients SET channel_cid = $1 WHERE id = $2`, [cid, `rc${n}`]);
  return { user, cid, message: `m${n}`, campaign: `k${n}`, recipient: `r${n}`, channelRecipient: `rc${n}` };
}

async function failure(promise: Promise<unknown>): Promise<{ code?: string; constraint?: string; detail?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; constraint?: string; detail?: string };
  }
  throw new Error('the statement succeeded');
}

beforeEach(async () => {
  await a.query('ROLLBACK').catch(() => {});
  await b.query('ROLLBACK').catch(() => {});
});

describe('references checked per statement', () => {
  test('the database has the triggers in place of exactly the listed foreign keys', async () => {
    const constraints = await a.query<{ conname: string }>(`SELECT conname FROM pg_constraint WHERE contype = 'f'`);
    for (const name of TRIGGER_ENFORCED_FOREIGN_KEYS) expect(constraints.rows.map((r) => r.conname)).not.toContain(name);
    const triggers = await a.query<{ args: string }>(
      `SELECT encode(tgargs, 'escape') AS args FROM pg_trigger WHERE tgname = 'beacon_check_references_insert'`,
    );
    const named = triggers.rows.flatMap((r) => r.args.split('\\000').filter((arg) => arg.endsWith('_fkey')));
    expect(named.sort()).toEqual([...TRIGGER_ENFORCED_FOREIGN_KEYS].sort());
  });

  test('a row that references a missing row is refused as a foreign key would, in one statement of many rows too', async () => {
    const w = await world();
    const member = await failure(a.query(`INSERT INTO channel_members (channel_cid, user_id) VALUES ($1, 'ghost')`, [w.cid]));
    expect(member).toMatchObject({ code: '23503', constraint: 'channel_members_user_id_fkey', detail: 'Key (user_id)=(ghost) is not present in table "users".' });
    const many = await failure(
      a.query(`INSERT INTO messages (id, channel_cid, user_id, text) SELECT 'x' || i, CASE WHEN i = 77 THEN 'messaging:none' ELSE $1 END, $2, 't' FROM generate_series(1, 100) i`, [w.cid, w.user]),
    );
    expect(many).toMatchObject({ code: '23503', constraint: 'messages_channel_cid_fkey' });
    expect((await a.query(`SELECT 1 FROM messages WHERE id LIKE 'x%'`)).rowCount).toBe(0);
    const update = await failure(a.query(`UPDATE recipients SET message_id = 'nope' WHERE id = $1`, [w.recipient]));
    expect(update).toMatchObject({ code: '23503', constraint: 'recipients_message_id_fkey' });
    const created = await failure(a.query(`INSERT INTO channels (cid, type, id, created_by_id) VALUES ('messaging:z', 'messaging', 'z', 'ghost')`));
    expect(created).toMatchObject({ code: '23503', constraint: 'channels_created_by_id_fkey' });
    const campaign = await failure(a.query(`INSERT INTO recipients (campaign_id, user_id) VALUES ('no-campaign', $1)`, [w.user]));
    expect(campaign).toMatchObject({ code: '23503', constraint: 'recipients_campaign_id_fkey' });
    // Updates of other columns pass without the references they keep being re-read.
    await a.query(`UPDATE recipients SET attempts = attempts + 1 WHERE campaign_id = $1`, [w.campaign]);
    await a.query(`UPDATE channel_members SET role = 'moderator' WHERE channel_cid = $1`, [w.cid]);
  });

  test('deleting rows applies the former ON DELETE actions', async () => {
    const w = await world();
    await a.query(`DELETE FROM users WHERE id = $1`, [w.user]);
    expect((await a.query(`SELECT 1 FROM channel_members WHERE user_id = $1`, [w.user])).rowCount).toBe(0);
    expect((await a.query(`SELECT user_id FROM messages WHERE id = $1`, [w.message])).rows).toEqual([{ user_id: null }]);
    expect((await a.query(`SELECT created_by_id FROM channels WHERE cid = $1`, [w.cid])).rows).toEqual([{ created_by_id: null }]);
    expect((await a.query(`SELECT user_id, message_id FROM recipients WHERE id = $1`, [w.recipient])).rows).toEqual([{ user_id: null, message_id: w.message }]);

    await a.query(`DELETE FROM channels WHERE cid = $1`, [w.cid]);
    expect((await a.query(`SELECT 1 FROM messages WHERE channel_cid = $1`, [w.cid])).rowCount).toBe(0);
    const recipients = await a.query(`SELECT id, channel_cid, message_id FROM recipients WHERE campaign_id = $1 ORDER BY id`, [w.campaign]);
    expect(recipients.rows).toEqual([
      { id: w.recipient, channel_cid: null, message_id: null },
      { id: w.channelRecipient, channel_cid: null, message_id: null },
    ]);

    await a.query(`DELETE FROM campaigns WHERE id = $1`, [w.campaign]);
    expect((await a.query(`SELECT 1 FROM recipients WHERE campaign_id = $1`, [w.campaign])).rowCount).toBe(0);
  });

  test('keys of referenced rows never change', async () => {
    const w = await world();
    const error = await failure(a.query(`UPDATE users SET id = 'renamed' WHERE id = $1`, [w.user]));
    expect(error).toMatchObject({ code: '0A000' });
    await a.query(`UPDATE users SET name = 'Renamed' WHERE id = $1`, [w.user]);
  });

  test('a delete waits for a writer in flight and then removes what it wrote', async () => {
    const w = await world();
    const other = (await world()).cid;
    await a.query('BEGIN');
    await a.query(`INSERT INTO channel_members (channel_cid, user_id) VALUES ($1, $2)`, [other, w.user]);
    let deleted = false;
    const deleting = b.query(`DELETE FROM users WHERE id = $1`, [w.user]).then(() => (deleted = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deleted).toBe(false);
    // A delete that finds nothing to delete waits for nobody.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      expect((await c.query(`DELETE FROM campaigns WHERE id = 'no-such-campaign'`)).rowCount).toBe(0);
    } finally {
      await c.end();
    }
    expect(deleted).toBe(false);
    await a.query('COMMIT');
    await deleting;
    expect((await a.query(`SELECT 1 FROM channel_members WHERE user_id = $1`, [w.user])).rowCount).toBe(0);
  });

  test('a writer that comes after a delete waits for it and then finds the row gone', async () => {
    const w = await world();
    const other = (await world()).cid;
    await b.query('BEGIN');
    await b.query(`DELETE FROM users WHERE id = $1`, [w.user]);
    let settled = false;
    const writing = failure(a.query(`INSERT INTO channel_members (channel_cid, user_id) VALUES ($1, $2)`, [other, w.user])).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    await b.query('COMMIT');
    expect(await writing).toMatchObject({ code: '23503', constraint: 'channel_members_user_id_fkey' });
    expect((await a.query(`SELECT 1 FROM channel_members WHERE user_id = $1`, [w.user])).rowCount).toBe(0);
  });
});
