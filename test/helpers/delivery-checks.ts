/**
 * Fixtures and checks for delivery across processes: a campaign to fresh users, polling
 * the tables while other processes deliver, and the exactly-once check read from the
 * tables themselves (messages, recipients), not from the counters alone.
 */
import { expect, inject } from 'vitest';
import type { TestApp } from './app.js';
import { campaignMessages, createCampaign, waitForCampaign } from './delivery.js';
import type { CreateCampaignInput } from '../generated/graphql.js';

/** Process tests need a real server: PGlite is one session and cannot NOTIFY across connections. */
export const pglite = inject('databaseMode') === 'pglite';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A DRAFT campaign from `<prefix>-sender` to `count` fresh users `<prefix>-<n>`, each in a
 * 1:1 channel the campaign creates. Returns its id.
 */
export async function userCampaign(t: TestApp, prefix: string, count: number, input: Partial<CreateCampaignInput> = {}): Promise<string> {
  // One INSERT … SELECT: the same users as seedUsers, without its slow first createMany.
  await t.app.db.prisma.$executeRaw`
    INSERT INTO users (id, name)
    SELECT ${prefix}::text || '-' || n, 'User ' || n FROM generate_series(1, ${count}::int) AS n
    UNION ALL SELECT ${prefix}::text || '-sender', 'Sender'`;
  const users = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  return createCampaign(t, {
    name: `Campaign ${prefix}`,
    senderId: `${prefix}-sender`,
    userIds: users,
    createChannels: true,
    channelTemplate: { type: 'messaging' },
    messageTemplate: { text: 'Hi {{ user.name }}, from {{ sender.name }}' },
    ...input,
  });
}

/** How many messages of the campaign are in the messages table now. */
export function messageCount(t: TestApp, campaignId: string): Promise<number> {
  return t.app.db.prisma.message.count({ where: { campaignId } });
}

/** Polls `read` every `everyMs` until `done` holds; fails after `timeoutMs` naming `what`. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) expect.fail(`${what}: not reached in ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(everyMs);
  }
}

/** Jobs of one campaign in Agenda's table: which are locked, and by which worker. */
export function campaignJobs(t: TestApp, campaignId: string) {
  return t.app.db.prisma.$queryRaw<{ name: string; locked: boolean; worker: string | null }[]>`
    SELECT name, locked_at IS NOT NULL AS locked, last_modified_by AS worker FROM agenda_jobs WHERE data->>'campaignId' = ${campaignId}`;
}

/** Recipients of a campaign by status and attempts, e.g. `{ 'SENT/1': 1000 }`. */
export async function recipientTally(t: TestApp, campaignId: string): Promise<Record<string, number>> {
  const rows = await t.app.db.prisma.$queryRaw<{ key: string; n: number }[]>`
    SELECT status::text || '/' || attempts AS key, count(*)::int AS n FROM recipients WHERE campaign_id = ${campaignId} GROUP BY 1`;
  return Object.fromEntries(rows.map((r) => [r.key, r.n]));
}

/**
 * Waits for COMPLETED, then checks exactly-once delivery from the tables: `count` messages,
 * one per 1:1 channel, every recipient SENT after exactly one committed attempt, and the
 * counters agreeing.
 */
export async function expectDeliveredOnce(t: TestApp, campaignId: string, count: number, timeoutMs = 30_000): Promise<void> {
  const done = await waitForCampaign(t, campaignId, (c) => c.status === 'COMPLETED', timeoutMs);
  expect(await campaignMessages(t, campaignId)).toEqual({ total: count, channels: count, duplicated: 0 });
  expect(await recipientTally(t, campaignId)).toEqual({ 'SENT/1': count });
  expect(done.stats).toMatchObject({ recipientsTotal: count, messagesSent: count, messagesErrored: 0, pending: 0, progress: 1 });
}
