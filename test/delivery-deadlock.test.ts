// deleteUsers while a campaign delivers to those very users, creating their channels: both
// sides lock recipients, channels and users rows. Neither may fail with a deadlock, and
// every recipient still gets exactly one message or none (deleted before its batch).
// (Before deleteUsers took the recipient rows first, this run deadlocked every time, in
// deleteUsers — INTERNAL — and in delivery batches.) Deadlocks that remain possible are
// retried; the last test makes one on purpose.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DeleteUsersDocument } from './generated/graphql.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createCampaign, seedUsers, startCampaign, waitForCampaign } from './helpers/delivery.js';
import { createSegment, pglite } from './helpers/delivery-extra.js';
import { pollUntil } from './helpers/delivery-checks.js';
import { distinctChannelId } from '../src/chat/channels.service.js';
import { isUniqueViolationOf, retryTransientConflicts } from '../src/db/errors.js';

let t: TestApp;
beforeAll(async () => {
  // Small batches on four lanes: many short transactions for deleteUsers to run into.
  t = await startTestApp({ env: { BEACON_JOB_POLL_MS: '100', BEACON_DELIVERY_BATCH_SIZE: '20', BEACON_DELIVERY_LANES: '4' } });
});
afterAll(() => t?.close());

describe.skipIf(pglite)('deleteUsers during delivery', () => {
  test('never deadlocks with channel creation, and delivery stays exactly-once', async () => {
    const users = await seedUsers(t, 'dl', 3000);
    const segment = await createSegment(t, { type: 'USER', name: 'dl', filter: { id: { $autocomplete: 'dl-' } } });
    const id = await createCampaign(t, {
      name: 'Deadlock',
      senderId: 'dl-sender',
      segmentIds: [segment],
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi {{user.name}}' },
    });
    await startCampaign(t, id);
    await waitForCampaign(t, id, (c) => c.stats.recipientsTotal > 0 && c.stats.messagesSent > 0);

    // Three callers at once, each deleting every 7th user of its own stride in chunks of
    // 25 spread over the audience, while the lanes deliver.
    const results: string[] = [];
    const deleted: string[] = [];
    await Promise.all(
      [0, 1, 2].map(async (offset) => {
        const mine = users.filter((_, i) => i % 7 === offset);
        for (let i = 0; i < mine.length; i += 25) {
          const chunk = mine.slice(i, i + 25);
          const result = await t.gql(DeleteUsersDocument, { ids: chunk });
          const payload = result.data?.deleteUsers;
          results.push(result.errors ? `error: ${JSON.stringify(result.errors)}` : payload!.__typename);
          if (payload?.__typename === 'DeleteUsersPayload') deleted.push(...payload.deletedIds);
        }
      }),
    );
    expect(results.filter((r) => r !== 'DeleteUsersPayload')).toEqual([]);
    expect(deleted.length).toBe(users.filter((_, i) => i % 7 <= 2).length);

    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED', 60_000);
    // Exactly once: each recipient row has at most one message (message ids derive from the
    // recipient), SENT rows have theirs, every other row has none, and no message is orphaned.
    const [counts] = await t.app.db.prisma.$queryRaw<{ sent: number; sent_with_message: number; unsent_with_message: number; messages: number; pending: number }[]>`
      SELECT
        count(*) FILTER (WHERE r.status = 'SENT')::int AS sent,
        count(*) FILTER (WHERE r.status = 'SENT' AND m.id IS NOT NULL)::int AS sent_with_message,
        count(*) FILTER (WHERE r.status <> 'SENT' AND m.id IS NOT NULL)::int AS unsent_with_message,
        (SELECT count(*)::int FROM messages WHERE campaign_id = ${id}) AS messages,
        count(*) FILTER (WHERE r.status = 'PENDING')::int AS pending
      FROM recipients r LEFT JOIN messages m ON m.id = 'campaign-' || r.campaign_id || '-' || r.id
      WHERE r.campaign_id = ${id}`;
    expect(counts).toEqual({
      sent: done.stats.messagesSent,
      sent_with_message: done.stats.messagesSent,
      unsent_with_message: 0,
      messages: done.stats.messagesSent,
      pending: 0,
    });
    // Users deleted before their batch were skipped, the rest were sent to.
    const statuses = await t.app.db.prisma.recipient.groupBy({ by: ['status'], where: { campaignId: id }, _count: true });
    const byStatus = Object.fromEntries(statuses.map((s) => [s.status, s._count]));
    expect(byStatus.SENT).toBe(done.stats.messagesSent);
    expect((byStatus.SENT ?? 0) + (byStatus.SKIPPED ?? 0)).toBe(3000);
  }, 120_000);

  test('lanes that run out while deleteUsers holds the last PENDING rows still complete the campaign', async () => {
    const count = 1000;
    await seedUsers(t, 'tail', count);
    const id = await createCampaign(t, {
      name: 'Tail',
      senderId: 'tail-sender',
      userIds: Array.from({ length: count }, (_, i) => `tail-${i + 1}`),
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi' },
    });
    await startCampaign(t, id);
    await waitForCampaign(t, id, (c) => c.stats.recipientsTotal === count);
    // What deleteUsers does, held open: lock the users' recipient rows first (delivery's lock
    // order), so the lanes skip them and run out of rows they can claim. The lanes claim in
    // id order, so the last ids are still PENDING here.
    const client = await t.app.db.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ user_id: string }>(
        `SELECT user_id FROM recipients WHERE campaign_id = $1 AND status = 'PENDING' ORDER BY id DESC LIMIT 3 FOR UPDATE SKIP LOCKED`,
        [id],
      );
      expect(rows).toHaveLength(3);
      await waitForCampaign(t, id, (c) => c.stats.messagesSent === count - 3);
      await new Promise((resolve) => setTimeout(resolve, 400)); // every lane has found nothing to claim by now
      await client.query('DELETE FROM users WHERE id = ANY($1::text[])', [rows.map((r) => r.user_id)]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    // Before, every lane had ended: the three rows stayed PENDING and the campaign IN_PROGRESS.
    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ messagesSent: count - 3, pending: 0 });
    expect(await t.app.db.prisma.recipient.count({ where: { campaignId: id, status: 'SKIPPED' } })).toBe(3);
  }, 60_000);

  test('a channel another transaction creates while a batch creates it: the batch runs again and uses it', async () => {
    await seedUsers(t, 'race', 5);
    const id = await createCampaign(t, {
      name: 'Race',
      senderId: 'race-sender',
      userIds: Array.from({ length: 5 }, (_, i) => `race-${i + 1}`),
      createChannels: true,
      channelTemplate: { type: 'messaging' },
      messageTemplate: { text: 'Hi' },
    });
    const cid = `messaging:${distinctChannelId(['race-sender', 'race-3'])}`;
    const client = await t.app.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO channels (cid, type, id, created_by_id) VALUES ($1, 'messaging', $2, 'race-sender')`, [cid, cid.slice('messaging:'.length)]);
      await startCampaign(t, id);
      // The batch's INSERT of that channel waits for this transaction's, then fails on the key
      // (read outside this transaction, whose view of pg_stat_activity is frozen).
      await pollUntil(
        () => t.app.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO channels%'`,
        (rows) => rows[0]!.n > 0,
        'the batch waiting for the channel',
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ messagesSent: 5, messagesErrored: 0, channelsCreated: 4 });
    expect(await t.app.db.prisma.message.count({ where: { campaignId: id, channelCid: cid } })).toBe(1);
    expect(await t.app.db.prisma.channelMember.findMany({ where: { channelCid: cid }, select: { userId: true } })).toEqual([{ userId: 'race-3' }]);
    // How the batch learns of it: the INSERT fails on the key, and deliverBatch runs it again.
    const failure = await t.app.db.pool
      .query(`INSERT INTO channels (cid, type, id, created_by_id) SELECT $1, 'messaging', $2, 'race-sender' WHERE NOT EXISTS (SELECT 1 FROM channels WHERE cid = 'none')`, [cid, cid.slice('messaging:'.length)])
      .then(() => null, (error: unknown) => error);
    expect(isUniqueViolationOf(failure, 'channels_pkey')).toBe(true);
    let runs = 0;
    const rerun = await retryTransientConflicts(
      async () => {
        runs += 1;
        if (runs === 1) throw failure;
        return 'ran again';
      },
      { alsoTransient: (error) => isUniqueViolationOf(error, 'channels_pkey'), baseDelayMs: 1 },
    );
    expect([rerun, runs]).toEqual(['ran again', 2]);
    await expect(retryTransientConflicts(() => Promise.reject(failure))).rejects.toBe(failure);
  }, 30_000);

  test('an interactive transaction aborted by a deadlock runs again and succeeds', async () => {
    await t.app.db.prisma.user.createMany({ data: [{ id: 'lock-a' }, { id: 'lock-b' }] });
    let attempts = 0;
    // Each transaction locks one row, waits until the other has locked its row, then asks
    // for the other's: PostgreSQL aborts one of them (deadlock_detected) after
    // deadlock_timeout, the survivor commits, and the victim's rerun finds no contention.
    let locked = 0;
    const bothLocked = async () => {
      locked += 1;
      while (locked < 2) await new Promise((r) => setTimeout(r, 10));
    };
    const crossing = (first: string, second: string) =>
      t.app.db.apiPrisma.$transaction(async (tx) => {
        attempts += 1;
        await tx.$executeRaw`UPDATE users SET name = 'locked' WHERE id = ${first}`;
        await bothLocked();
        await tx.$executeRaw`UPDATE users SET name = 'locked' WHERE id = ${second}`;
        return first;
      }, { timeout: 20_000 });
    expect(await Promise.all([crossing('lock-a', 'lock-b'), crossing('lock-b', 'lock-a')])).toEqual(['lock-a', 'lock-b']);
    expect(attempts).toBe(3);
  }, 30_000);
});
