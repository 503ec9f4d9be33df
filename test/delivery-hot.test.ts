/**
 * A delivery batch's update of its recipients is HOT (heap only): no index of recipients
 * covers a column the batch sets, and the table keeps room on its pages (fillfactor). What
 * the dropped status and sent_at indexes served comes from elsewhere, checked here:
 * completion from the campaign's counters (src/delivery/completion.ts, with a fallback to
 * the rows should the counters drift), and the timeline's sends from campaign_sends, kept by
 * a trigger in every statement that writes recipients.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BEGIN_BATCH, claimSql } from '../src/delivery/batch.js';
import { completeByRows, completeIfDelivered } from '../src/delivery/completion.js';
import { createLogger } from '../src/logger.js';
import type { TransitionHooks } from '../src/campaigns/status.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startCampaign, waitForCampaign } from './helpers/delivery.js';
import { expectDeliveredOnce, pollUntil, userCampaign } from './helpers/delivery-checks.js';
import { RetryFailedRecipientsDocument } from './generated/graphql.js';

/** The columns the batch's last statement sets (src/delivery/batch.ts, finish). */
const BATCH_SETS = ['status', 'error', 'message_id', 'sent_at', 'attempts', 'updated_at'];

let t: TestApp;
const prisma = () => t.app.db.prisma;
const changed: string[] = [];
const hooks: TransitionHooks = { webhooks: false, changed: (id, status) => changed.push(`${id}:${status}`), announce: () => {} };
const deps = () => ({ prisma: prisma(), hooks, logger: createLogger('silent') });

beforeAll(async () => {
  // The rate spreads the 400-recipient campaign below over more than a second.
  t = await startTestApp({ env: { BEACON_JOB_POLL_MS: '100', BEACON_DELIVERY_BATCH_SIZE: '7', BEACON_DELIVERY_LANES: '3', BEACON_DELIVERY_RATE: '300' } });
  await prisma().user.createMany({ data: Array.from({ length: 6 }, (_, i) => ({ id: `hot-u${i}` })) });
});
afterAll(() => t?.close());

let seq = 0;
/** An IN_PROGRESS campaign with a complete audience of `statuses` (one user each) and the given counters. */
async function running(statuses: ('PENDING' | 'SENT')[], counters: { recipientsTotal: number; messagesSent: number }): Promise<string> {
  const id = `hot-${++seq}`;
  await prisma().campaign.create({
    data: { id, name: id, messageTemplate: { text: 'hi' }, status: 'IN_PROGRESS', startedAt: new Date(), materializedAt: new Date(), ...counters },
  });
  await prisma().recipient.createMany({
    data: statuses.map((status, i) => ({ campaignId: id, userId: `hot-u${i}`, status, sentAt: status === 'SENT' ? new Date() : null })),
  });
  return id;
}

const statusOf = async (id: string) => (await prisma().campaign.findUniqueOrThrow({ where: { id }, select: { status: true } })).status;

describe('recipients are updated in place', () => {
  test('no index covers a column a delivery batch sets (keys, expressions or predicates), and pages keep room', async () => {
    const covered = await prisma().$queryRaw<{ index: string; columns: string[] }[]>`
      SELECT i.indexrelid::regclass::text AS index,
        array(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = i.indrelid AND a.attnum > 0
                AND (a.attnum = ANY(i.indkey)
                     OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M')
                     OR pg_get_expr(i.indpred, i.indrelid) ~ ('\\m' || a.attname || '\\M'))) AS columns
      FROM pg_index i WHERE i.indrelid = 'recipients'::regclass`;
    expect(covered.length).toBeGreaterThanOrEqual(4);
    for (const { index, columns } of covered) {
      expect({ index, blocking: columns.filter((c) => BATCH_SETS.includes(c)) }).toEqual({ index, blocking: [] });
    }
    const [table] = await prisma().$queryRaw<{ options: string[] }[]>`SELECT reloptions AS options FROM pg_class WHERE oid = 'recipients'::regclass`;
    const fillfactor = Number(table!.options.find((o) => o.startsWith('fillfactor='))?.split('=')[1]);
    expect(fillfactor).toBeLessThanOrEqual(50);
  });

  test('three lanes in batches of 7 deliver every recipient once, complete, and the sends add up', async () => {
    const id = await userCampaign(t, 'hot-delivered', 100);
    await startCampaign(t, id);
    await expectDeliveredOnce(t, id, 100);
    const sends = await prisma().campaignSend.findMany({ where: { campaignId: id } });
    expect(sends.reduce((sum, s) => sum + s.sent, 0)).toBe(100);
    expect(sends.length).toBeGreaterThanOrEqual(Math.ceil(100 / 7));
  });
});

describe('rows behind the lanes’ cursors', () => {
  test('recipients put back to PENDING behind every lane while it delivers are claimed again before it completes', async () => {
    // Every recipient errors (a channel id with a space); the retry puts the ones already
    // done back to PENDING while the lanes' cursors are past them.
    const id = await userCampaign(t, 'hot-behind', 400, { channelTemplate: { type: 'messaging', id: '{{ user.name }}' } });
    await startCampaign(t, id);
    const errored = () => prisma().campaign.findUniqueOrThrow({ where: { id }, select: { status: true, messagesErrored: true } });
    await pollUntil(errored, (c) => c.messagesErrored >= 60, 'first recipients errored');
    const { retryFailedRecipients } = await t.ok(RetryFailedRecipientsDocument, { id });
    if (retryFailedRecipients.__typename !== 'RetryFailedRecipientsPayload') throw new Error(JSON.stringify(retryFailedRecipients));
    expect(retryFailedRecipients.campaign.status).toBe('IN_PROGRESS');
    expect(retryFailedRecipients.retried).toBeGreaterThanOrEqual(60);
    const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED', 30_000);
    expect(done.stats).toMatchObject({ recipientsTotal: 400, messagesErrored: 400, pending: 0 });
    const attempts = await prisma().recipient.groupBy({ by: ['attempts'], where: { campaignId: id }, _count: true });
    expect(Object.fromEntries(attempts.map((a) => [a.attempts, a._count]))).toEqual({ 1: 400 - retryFailedRecipients.retried, 2: retryFailedRecipients.retried });
  });
});

describe('completion from the counters', () => {
  test('completes only when the counters leave nothing PENDING, and only if they did not move meanwhile', async () => {
    const pending = await running(['SENT', 'PENDING'], { recipientsTotal: 2, messagesSent: 1 });
    expect(await completeIfDelivered(deps(), pending)).toBe('pending');
    expect(await statusOf(pending)).toBe('IN_PROGRESS');

    const done = await running(['SENT', 'SENT'], { recipientsTotal: 2, messagesSent: 2 });
    expect(await completeIfDelivered(deps(), done)).toBe('completed');
    expect(await statusOf(done)).toBe('COMPLETED');
    expect(changed).toContain(`${done}:COMPLETED`);
    expect(await completeIfDelivered(deps(), done)).toBe('not-running');
  });

  test('an audience still being written is never complete', async () => {
    const id = await running(['SENT'], { recipientsTotal: 1, messagesSent: 1 });
    await prisma().campaign.update({ where: { id }, data: { materializedAt: null } });
    expect(await completeIfDelivered(deps(), id)).toBe('pending');
  });

  test('counters that drifted: the rows decide, and a PENDING row keeps the campaign running', async () => {
    const drifted = await running(['SENT', 'SENT'], { recipientsTotal: 3, messagesSent: 2 });
    expect(await completeIfDelivered(deps(), drifted)).toBe('pending');
    expect(await completeByRows(deps(), drifted)).toBe(true);
    expect(await statusOf(drifted)).toBe('COMPLETED');

    const unsent = await running(['SENT', 'PENDING'], { recipientsTotal: 3, messagesSent: 1 });
    expect(await completeByRows(deps(), unsent)).toBe(false);
    expect(await statusOf(unsent)).toBe('IN_PROGRESS');
  });
});

describe('campaign_sends', () => {
  const sendsOf = async (id: string) =>
    (await prisma().campaignSend.findMany({ where: { campaignId: id }, orderBy: { sentAt: 'asc' } })).map((s) => [s.sentAt.toISOString(), s.sent]);

  test('follows every statement that writes recipients: inserts, status changes, read tracking and deletions', async () => {
    const id = `hot-sends-${++seq}`;
    const t1 = new Date('2026-11-01T10:00:00.000Z');
    const t2 = new Date('2026-11-01T10:00:01.000Z');
    await prisma().campaign.create({ data: { id, name: id, messageTemplate: { text: 'hi' } } });
    await prisma().recipient.createMany({
      data: [
        { campaignId: id, userId: 'hot-u0', status: 'SENT', sentAt: t1 },
        { campaignId: id, userId: 'hot-u1', status: 'SENT', sentAt: t1 },
        { campaignId: id, userId: 'hot-u2', status: 'PENDING' },
        { campaignId: id, userId: 'hot-u3', status: 'ERRORED' },
      ],
    });
    expect(await sendsOf(id)).toEqual([[t1.toISOString(), 2]]);

    await prisma().recipient.updateMany({ where: { campaignId: id, userId: 'hot-u2' }, data: { status: 'SENT', sentAt: t2 } });
    await prisma().recipient.updateMany({ where: { campaignId: id, status: 'SENT' }, data: { readAt: new Date() } });
    expect(await sendsOf(id)).toEqual([[t1.toISOString(), 2], [t2.toISOString(), 1]]);

    await prisma().recipient.deleteMany({ where: { campaignId: id, userId: { in: ['hot-u0', 'hot-u3'] } } });
    expect(await sendsOf(id)).toEqual([[t1.toISOString(), 1], [t2.toISOString(), 1]]);

    await prisma().campaign.delete({ where: { id } });
    expect(await sendsOf(id)).toEqual([]);
  });
});

describe('claims', () => {
  test("a batch's claim walks the list-order index and stops at its LIMIT, with no statistics on the new rows", async () => {
    // A campaign whose 20,000 recipients were just written (no ANALYZE since), as after an import.
    const id = `hot-claims-${++seq}`;
    await prisma().$executeRaw`INSERT INTO users (id) SELECT 'hot-c' || n FROM generate_series(1, 20000) AS n`;
    await prisma().campaign.create({ data: { id, name: id, messageTemplate: { text: 'hi' }, status: 'IN_PROGRESS' } });
    await prisma().$executeRaw`INSERT INTO recipients (campaign_id, user_id) SELECT ${id}, 'hot-c' || n FROM generate_series(1, 20000) AS n`;
    const [{ after }] = await prisma().$queryRaw<{ after: string }[]>`
      SELECT id AS after FROM recipients WHERE campaign_id = ${id} ORDER BY created_at, id OFFSET 5000 LIMIT 1` as [{ after: string }];
    const client = await t.app.db.pool.connect();
    try {
      await client.query(BEGIN_BATCH);
      const claim = claimSql(id, 'hot-u0', 2000, after);
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>({ text: `EXPLAIN (ANALYZE, FORMAT JSON) ${claim.text}`, values: claim.values });
      const scans: { type: string; index?: string; rows: number }[] = [];
      const walk = (node: Record<string, unknown>) => {
        if (String(node['Node Type']).includes('Scan')) scans.push({ type: String(node['Node Type']), index: node['Index Name'] as string | undefined, rows: Number(node['Actual Rows']) });
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((rows[0]!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
      const list = scans.filter((s) => s.index === 'recipients_campaign_id_created_at_id_idx');
      // One ordered index scan that reads the 2,000 rows it claims, not the 15,000 after the cursor.
      expect(list).toEqual([{ type: 'Index Scan', index: 'recipients_campaign_id_created_at_id_idx', rows: 2000 }]);
      expect(scans.filter((s) => /Bitmap|Seq/.test(s.type))).toEqual([]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
