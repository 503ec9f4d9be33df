// 1:1 channels named by their two members (migration 20261201060000_pair_channels_named_by_members):
// the JavaScript and SQL forms of distinctChannelId agree, and a database whose distinct
// channels of two members carry the former SHA-256 id is renamed in place, references and all.
import { createHash } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Prisma } from '../src/generated/prisma/client.js';
import { distinctChannelId, distinctPairIdSql } from '../src/chat/channels.service.js';
import { DEFAULT_MIGRATIONS_DIR, applyMigrations, readMigrationFolders } from '../src/db/migrations.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const MIGRATION = '20261201060000_pair_channels_named_by_members';
/** The id every distinct channel had before the migration. */
const hashed = (ids: string[]) => `!members-${createHash('sha256').update([...new Set(ids)].sort().join('\u0000')).digest('base64url').slice(0, 32)}`;

let db: TestDatabase;
let client: pg.Client;
let before: string;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  // Every migration before this one, from a copy of the folder without it and the later ones.
  before = await mkdtemp(path.join(tmpdir(), 'beacon-pairs-'));
  for (const folder of await readMigrationFolders()) {
    if (folder.name >= MIGRATION) continue;
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, folder.name), path.join(before, folder.name), { recursive: true });
  }
  await applyMigrations(db.url, { dir: before });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
  if (before) await rm(before, { recursive: true, force: true });
});

describe('distinctChannelId', () => {
  test('two members whose ids fit and hold no "!" name their channel, in C order; any other set keeps the hash', () => {
    expect(distinctChannelId(['boss', 'ann'])).toBe('!members-ann!boss');
    expect(distinctChannelId(['ann', 'boss'])).toBe('!members-ann!boss');
    expect(distinctChannelId(['Zed', 'abe'])).toBe('!members-Zed!abe');
    for (const ids of [['ann', 'ann'], ['x', 'y', 'x'], ['c', 'b', 'a'], ['a!b', 'c'], ['é', 'z'], ['a', 'a\u0000b'], ['a'.repeat(60), 'b'.repeat(59)]]) {
      expect(distinctChannelId(ids)).toBe(hashed(ids));
    }
    // The longest pair that fits: a channel id of 128 characters.
    const longest = distinctChannelId(['a'.repeat(60), 'b'.repeat(58)]);
    expect(longest).toHaveLength(128);
    expect(longest).toBe(`!members-${'a'.repeat(60)}!${'b'.repeat(58)}`);
  });

  test('the 1:1 channels of one sender sort like their receivers', () => {
    const receivers = ['a', 'a.b', 'ab', 'm', 'sender0', 'sendes', 'z', 'Z', '0', '-x', 'send'];
    const byChannel = [...receivers].sort((x, y) => {
      const [cx, cy] = [distinctChannelId(['sender', x]), distinctChannelId(['sender', y])];
      return cx < cy ? -1 : cx > cy ? 1 : 0;
    });
    expect(byChannel).toEqual([...receivers].sort());
  });

  test('SQL computes the same id as JavaScript', async () => {
    const pairs = [['order-1', 'order-sender'], ['order-sender', 'order-1'], ['Zed.9', 'zed_9'], ['x@y.z', '!-_'], ['a!b', 'c'], ['a'.repeat(60), 'b'.repeat(58)], ['a'.repeat(60), 'b'.repeat(59)]];
    for (const [a, b] of pairs) {
      const query = Prisma.sql`SELECT ${distinctPairIdSql(Prisma.sql`${a}::text`, Prisma.sql`${b}::text`)} AS id`;
      const { rows } = await client.query<{ id: string }>(query.text, query.values);
      expect({ a, b, id: rows[0]!.id }).toEqual({ a, b, id: distinctChannelId([a!, b!]) });
    }
  });
});

describe('migration pair_channels_named_by_members', () => {
  test('renames the distinct channels of two members, with every reference to them, and leaves the others', async () => {
    await client.query(`INSERT INTO users (id, name) SELECT id, id FROM unnest($1::text[]) AS id`, [['ann', 'bob', 'cat', 'dan', 'x!y']]);
    const channels: Record<string, [type: string, members: string[], idMembers?: string[]]> = {
      pair: ['messaging', ['ann', 'bob']],
      otherType: ['team', ['bob', 'ann']],
      grown: ['messaging', ['bob', 'cat', 'dan'], ['bob', 'cat']], // a 1:1 channel that was given a third member
      trio: ['messaging', ['ann', 'bob', 'cat']],
      bang: ['messaging', ['ann', 'x!y']],
      taken: ['messaging', ['cat', 'dan']], // its new cid was created by hand
    };
    const cidOf = (name: string) => `${channels[name]![0]}:${hashed(channels[name]![2] ?? channels[name]![1])}`;
    for (const [name, [type, members, idMembers]] of Object.entries(channels)) {
      const id = hashed(idMembers ?? members);
      await client.query(`INSERT INTO channels (cid, type, id, member_count) VALUES ($1, $2, $3, $4)`, [`${type}:${id}`, type, id, members.length]);
      await client.query(`INSERT INTO channel_members (channel_cid, user_id) SELECT $1, u FROM unnest($2::text[]) AS u`, [cidOf(name), members]);
    }
    await client.query(`INSERT INTO channels (cid, type, id) VALUES ('messaging:!members-cat!dan', 'messaging', '!members-cat!dan')`);
    await client.query(`INSERT INTO messages (id, channel_cid, user_id, text) VALUES ('m1', $1, 'ann', 'hi'), ('m2', $2, 'bob', 'yo')`, [cidOf('pair'), cidOf('otherType')]);
    await client.query(`INSERT INTO segments (id, type, name) VALUES ('s1', 'CHANNEL', 'pairs')`);
    await client.query(`INSERT INTO segment_targets (segment_id, target_id) VALUES ('s1', $1), ('s1', $2)`, [cidOf('pair'), cidOf('trio')]);
    await client.query(`INSERT INTO campaigns (id, name, message_template) VALUES ('c1', 'c', '{"text": "hi"}')`);
    await client.query(`INSERT INTO recipients (campaign_id, channel_cid) VALUES ('c1', $1), ('c1', $2)`, [cidOf('pair'), cidOf('bang')]);

    expect((await applyMigrations(db.url)).applied).toEqual([MIGRATION]);

    const renamed = {
      pair: 'messaging:!members-ann!bob',
      otherType: 'team:!members-ann!bob',
      grown: 'messaging:!members-bob!cat',
    };
    const { rows } = await client.query<{ cid: string; id: string; members: string[] }>(`
      SELECT c.cid, c.id, array_agg(m.user_id ORDER BY m.user_id) AS members
      FROM channels c JOIN channel_members m ON m.channel_cid = c.cid GROUP BY c.cid, c.id ORDER BY c.cid`);
    const expected = Object.entries(channels).map(([name, [, members]]) => {
      const cid = renamed[name as keyof typeof renamed] ?? cidOf(name);
      return { cid, id: cid.slice(cid.indexOf(':') + 1), members: [...members].sort() };
    });
    expect(rows).toEqual(expected.sort((x, y) => (x.cid < y.cid ? -1 : 1)));
    // The channel of a pair is where it was found before: the id distinctChannelId gives now.
    expect(renamed.pair).toBe(`messaging:${distinctChannelId(['bob', 'ann'])}`);
    expect(cidOf('bang')).toBe(`messaging:${distinctChannelId(['x!y', 'ann'])}`);

    const messages = await client.query(`SELECT id, channel_cid FROM messages ORDER BY id`);
    expect(messages.rows).toEqual([{ id: 'm1', channel_cid: renamed.pair }, { id: 'm2', channel_cid: renamed.otherType }]);
    const targets = await client.query(`SELECT target_id FROM segment_targets ORDER BY target_id`);
    expect(targets.rows.map((r) => r.target_id).sort()).toEqual([renamed.pair, cidOf('trio')].sort());
    const recipients = await client.query(`SELECT channel_cid FROM recipients ORDER BY channel_cid`);
    expect(recipients.rows.map((r) => r.channel_cid).sort()).toEqual([renamed.pair, cidOf('bang')].sort());

    // Nothing is left to rename, and keys are guarded again.
    expect((await client.query(`SELECT beacon_name_pair_channels_by_members() AS n`)).rows[0].n).toBe(0);
    await expect(client.query(`UPDATE channels SET cid = 'messaging:other', id = 'other' WHERE cid = $1`, [renamed.pair])).rejects.toThrow(/never changes/);
  });
});
