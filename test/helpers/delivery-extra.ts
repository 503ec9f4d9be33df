/**
 * Fixtures for the delivery variant tests: segments and channels through the API, a whole
 * campaign run (create → start → COMPLETED), table readers (recipients, members,
 * messages), and `holdConversations`, which pauses delivery deterministically.
 */
import pg from 'pg';
import { distinctChannelId } from '../../src/chat/channels.service.js';
import type { TestApp } from './app.js';
import { createCampaign, startCampaign, waitForCampaign } from './delivery.js';
import { pollUntil } from './delivery-checks.js';
import { CreateChannelDocument, CreateSegmentDocument, type CreateCampaignInput, type CreateSegmentInput } from '../generated/graphql.js';

/** Lock-based tests need a real server too: PGlite is one session, where a held lock blocks everything. */
export { pglite } from './delivery-checks.js';

/** Creates a segment through the API; returns its id. */
export async function createSegment(t: TestApp, input: CreateSegmentInput): Promise<string> {
  const { createSegment } = await t.ok(CreateSegmentDocument, { input });
  if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(JSON.stringify(createSegment));
  return createSegment.segment.id;
}

/** Creates a channel through the API; returns its cid. */
export async function createChannel(
  t: TestApp,
  input: { type: string; id?: string; members: string[]; custom?: Record<string, unknown>; createdById?: string },
): Promise<string> {
  const { createChannel } = await t.ok(CreateChannelDocument, { input });
  if (createChannel.__typename !== 'CreateChannelPayload') throw new Error(JSON.stringify(createChannel));
  return createChannel.channel.cid;
}

/** Creates and starts a campaign, waits until it is COMPLETED; returns its id and final stats. */
export async function runCampaign(t: TestApp, input: CreateCampaignInput) {
  const id = await createCampaign(t, input);
  await startCampaign(t, id);
  const done = await waitForCampaign(t, id, (c) => c.status === 'COMPLETED');
  return { id, stats: done.stats };
}

/** The campaign's recipient rows, by user id then channel cid. */
export function recipientRows(t: TestApp, campaignId: string) {
  return t.app.db.prisma.recipient.findMany({ where: { campaignId }, orderBy: [{ userId: 'asc' }, { channelCid: 'asc' }] });
}

/** The campaign's message rows, by channel cid. */
export function messageRows(t: TestApp, campaignId: string) {
  return t.app.db.prisma.message.findMany({ where: { campaignId }, orderBy: { channelCid: 'asc' } });
}

/** A channel's member ids (sorted) and its stored member_count. */
export async function membersOf(t: TestApp, cid: string): Promise<{ members: string[]; memberCount: number }> {
  const channel = await t.app.db.prisma.channel.findUniqueOrThrow({ where: { cid }, include: { members: { orderBy: { userId: 'asc' } } } });
  return { members: channel.members.map((m) => m.userId), memberCount: channel.memberCount };
}

/** A pg client on the test app's database (close it with `end()`). */
export async function connect(t: TestApp): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: t.app.db.url });
  await client.connect();
  return client;
}

/**
 * Pauses delivery of a 1:1 campaign (createChannels, type messaging) between `senderId` and
 * `userIds` deterministically: inserts, uncommitted, the channels its batches are about to
 * create. A batch that reaches them waits for this transaction — after claiming its
 * recipients, before anything commits — until `release()` rolls it back; then the batch
 * creates them itself. Starting, materializing and status changes do not touch them.
 * (A deletion of users waits for batches in flight: delete before they start, not here.)
 */
export async function holdConversations(t: TestApp, senderId: string, userIds: readonly string[]): Promise<{ release(): Promise<void> }> {
  const client = await connect(t);
  await client.query('BEGIN');
  const ids = userIds.map((userId) => distinctChannelId([senderId, userId]));
  await client.query(
    `INSERT INTO channels (cid, type, id) SELECT 'messaging:' || id, 'messaging', id FROM unnest($1::text[]) AS id ORDER BY id`,
    [ids],
  );
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Polls `check` until it returns a value other than undefined (or fails after `timeoutMs`). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  return (await pollUntil(async () => check(), (value) => value !== undefined, what, timeoutMs, 50)) as T;
}
