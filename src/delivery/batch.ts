/**
 * One delivery batch of one campaign, in one transaction:
 *   claim ≤N PENDING recipients (FOR UPDATE SKIP LOCKED, so workers never share a row)
 *   → open their conversations (find/create channels and memberships)
 *   → render and insert messages (ids derived from campaign × recipient)
 *   → mark each recipient SENT / ERRORED / SKIPPED
 *   → add to the campaign counters, guarded by `status = 'IN_PROGRESS'`.
 * When the guard finds the campaign no longer IN_PROGRESS (stopped meanwhile) the whole
 * transaction rolls back: nothing of the batch is sent. A crash anywhere rolls back too,
 * and the rows stay PENDING for the next run — so each recipient gets exactly one message.
 * The counter update is in the batch's last statement, so the campaign row is locked only
 * for the commit; a concurrent stopCampaign waits for it and returns after it.
 *
 * Round trips for a batch of new 1:1 conversations: BEGIN (with the settings and the lock on
 * references), claim (with the receivers' template data), channels + memberships,
 * messages + recipients + counters, COMMIT. Each round trip waits for an event loop that
 * the other lanes share. The transaction runs on a raw `pg` client (see db.ts); rendering
 * stays in Node.
 */
import type pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';
import type { TemplatePerson } from '../campaigns/templates.js';
import { openChannelConversations, openUserConversations, type Conversation } from './conversations.js';
import { retryTransientConflicts } from '../db/errors.js';
import { pgDb, type Db } from './db.js';
import { insertMessagesSql, renderMessage, type OutgoingMessage } from './messages.js';
import type { DeliveryPlan } from './plan.js';

interface ClaimedRecipient {
  id: string;
  /** Whether the sender still exists (the same on every row). */
  sender_exists: boolean;
  user_id: string | null;
  channel_cid: string | null;
  /** The user's template data; null for channel recipients and deleted users. */
  person: TemplatePerson | null;
}

interface Outcome {
  id: string;
  status: 'SENT' | 'ERRORED' | 'SKIPPED';
  messageId: string | null;
  error: string | null;
}

export interface BatchResult {
  /** Recipients claimed (0: nothing pending, or the campaign is not IN_PROGRESS). */
  claimed: number;
  sent: number;
  errored: number;
  skipped: number;
  /** False when the campaign left IN_PROGRESS meanwhile and the batch was rolled back. */
  committed: boolean;
  /** The highest recipient id claimed: pass it as `after` to the lane's next batch. */
  lastId: string | null;
  /** True when the sender was deleted before the batch began: nothing was written. */
  senderGone?: boolean;
}

class CampaignNotRunning extends Error {}
class SenderGone extends Error {}

/** The message id of a recipient: the same on every attempt, so no attempt inserts twice. */
export function campaignMessageId(campaignId: string, recipientId: string): string {
  return `campaign-${campaignId}-${recipientId}`;
}

/**
 * Claims up to `size` PENDING recipients, in id order after `after` (the lane's cursor),
 * wrapping around to the start once when nothing is left after it. Without the cursor each
 * claim would walk past every row already SENT (the planner picks the primary key for
 * `ORDER BY id`, filtering on status), which makes a campaign quadratic in its size.
 * SKIP LOCKED lets concurrent lanes take disjoint batches instead of queueing behind each
 * other. The receivers' template data comes along (a deleted user joins as null).
 */
async function claim(db: Db, campaignId: string, senderId: string, size: number, after: string | null): Promise<ClaimedRecipient[]> {
  const rows = await db.$queryRaw<ClaimedRecipient[]>`
    WITH claimed AS (
      SELECT id, user_id, channel_cid FROM recipients
      WHERE campaign_id = ${campaignId} AND status = 'PENDING'${after === null ? Prisma.empty : Prisma.sql` AND id > ${after}`}
      ORDER BY id LIMIT ${size} FOR UPDATE SKIP LOCKED)
    SELECT c.id, c.user_id, c.channel_cid, EXISTS (SELECT 1 FROM users s WHERE s.id = ${senderId}) AS sender_exists,
      CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'name', u.name, 'role', u.role, 'language', u.language, 'custom', u.custom) END AS person
    FROM claimed c LEFT JOIN users u ON u.id = c.user_id
    ORDER BY c.id`;
  return rows.length === 0 && after !== null ? claim(db, campaignId, senderId, size, null) : rows;
}

function decide(
  plan: DeliveryPlan,
  sender: TemplatePerson,
  claimed: ClaimedRecipient[],
  conversations: Map<string, Conversation>,
): { outcomes: Outcome[]; messages: OutgoingMessage[] } {
  const outcomes: Outcome[] = [];
  const messages: OutgoingMessage[] = [];
  for (const r of claimed) {
    const key = r.user_id ?? r.channel_cid;
    const receiver = r.person;
    const skip =
      key === null ? 'The user or channel was deleted'
      : r.user_id === sender.id ? 'The sender is never sent its own campaign'
      : r.user_id !== null && receiver === null ? 'The user was deleted'
      : null;
    if (skip !== null || key === null) {
      outcomes.push({ id: r.id, status: 'SKIPPED', messageId: null, error: skip });
      continue;
    }
    const conversation = conversations.get(key)!;
    if (!conversation.ok) {
      outcomes.push({ id: r.id, status: 'ERRORED', messageId: null, error: conversation.error });
      continue;
    }
    const id = campaignMessageId(plan.campaignId, r.id);
    messages.push({ id, channelCid: conversation.channel.cid, text: renderMessage(plan, sender, conversation, receiver) });
    outcomes.push({ id: r.id, status: 'SENT', messageId: id, error: null });
  }
  return { outcomes, messages };
}

const tally = (outcomes: readonly Outcome[], status: Outcome['status']) => outcomes.filter((o) => o.status === status).length;

/**
 * The batch's last statement, one round trip: inserts its messages, marks the claimed rows,
 * and adds to the campaign counters guarded by `status = 'IN_PROGRESS'` (data-modifying CTEs
 * all run, in one snapshot). Returns whether the campaign row moved (false: stopped
 * meanwhile, and the caller rolls back). The counter update locks the campaign row only
 * until the commit that follows.
 *
 * `channel_cid` stays the audience key (set for channel recipients only): several user
 * recipients may share one conversation (a constant channel id template), which the
 * (campaign_id, channel_cid) unique key would refuse. A user recipient's channel is its
 * message's channel.
 */
async function finish(db: Db, plan: DeliveryPlan, senderId: string, messages: OutgoingMessage[], outcomes: Outcome[], channelsCreated: number, sentAt: Date): Promise<boolean> {
  const count = (status: Outcome['status']) => tally(outcomes, status);
  const rows = await db.$queryRaw<{ moved: number }[]>`
    WITH ${messages.length ? Prisma.sql`sent AS (${insertMessagesSql(plan, senderId, messages, plan.campaignId)}),` : Prisma.empty}
    marked AS (
      UPDATE recipients r SET status = o.status::recipient_status, message_id = o.message_id, error = o.error,
        sent_at = CASE WHEN o.status = 'SENT' THEN ${sentAt}::timestamptz END, attempts = r.attempts + 1, updated_at = now()
      FROM unnest(${outcomes.map((o) => o.id)}::text[], ${outcomes.map((o) => o.status)}::text[],
        ${outcomes.map((o) => o.messageId)}::text[], ${outcomes.map((o) => o.error)}::text[]) AS o(id, status, message_id, error)
      WHERE r.id = o.id),
    counted AS (
      UPDATE campaigns SET messages_sent = messages_sent + ${count('SENT')},
        messages_errored = messages_errored + ${count('ERRORED')},
        recipients_skipped = recipients_skipped + ${count('SKIPPED')},
        channels_created = channels_created + ${channelsCreated},
        users_sent = users_sent + ${count('SENT')}, updated_at = clock_timestamp()
      WHERE id = ${plan.campaignId} AND status = 'IN_PROGRESS'
      RETURNING 1)
    SELECT count(*)::int AS moved FROM counted`;
  return rows[0]!.moved > 0;
}

/**
 * Every statement of a batch reads or writes its ≤N rows by key. PostgreSQL's planner
 * prices each key probe as a random read and, once N is a few percent of a table (1,000 of
 * 100,000 recipients or users), picks a whole-table scan feeding a hash join instead —
 * measured at 100,000 recipients: the recipient update scanned the table every batch (52 ms
 * instead of 21), the claim's users join likewise, with or without ANALYZE; a campaign's
 * delivery turned quadratic in its size. Scans stay off for the batch's transaction only.
 *
 * The batch also takes the shared lock on references (see the migration
 * references_checked_per_statement) before its first statement: deletions of users,
 * channels, messages or campaigns wait for it, and every statement after it reads them as
 * they stay until it commits. A deletion of users takes the exclusive lock before it locks
 * their recipient rows, so the two never wait for each other in opposite orders.
 * Each reference the batch writes is one it read or wrote itself in this transaction — the
 * claimed recipients and their users, the channels it created or read back, the template
 * members it loaded, the messages it inserted, the campaign its last statement updates
 * (or rolls back without) — and the sender, whose existence the claim reads: so it marks
 * them proved (`beacon.references_proved`), and the per-statement checks are skipped.
 */
const BEGIN_BATCH = 'BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL beacon.references_proved = on; SELECT beacon_share_references()';

const NOTHING_CLAIMED: BatchResult = { claimed: 0, sent: 0, errored: 0, skipped: 0, committed: true, lastId: null };

async function deliverIn(db: Db, plan: DeliveryPlan, sender: TemplatePerson, size: number, after: string | null, sentAt: Date): Promise<BatchResult> {
  const claimed = await claim(db, plan.campaignId, sender.id, size, after);
  if (claimed.length === 0) return NOTHING_CLAIMED;
  if (!claimed[0]!.sender_exists) throw new SenderGone();
  const receivers = claimed.flatMap((r) => (r.person && r.person.id !== sender.id ? [r.person] : []));
  const cids = claimed.flatMap((r) => (r.user_id === null && r.channel_cid ? [r.channel_cid] : []));
  const users = await openUserConversations(db, plan, sender, receivers);
  const channels = cids.length ? await openChannelConversations(db, plan, sender, cids) : { byKey: new Map<string, Conversation>(), channelsCreated: 0 };
  const conversations = new Map([...users.byKey, ...channels.byKey]);
  const { outcomes, messages } = decide(plan, sender, claimed, conversations);
  if (!(await finish(db, plan, sender.id, messages, outcomes, users.channelsCreated, sentAt))) throw new CampaignNotRunning();
  const count = (status: Outcome['status']) => tally(outcomes, status);
  const lastId = claimed[claimed.length - 1]!.id;
  return { claimed: claimed.length, sent: count('SENT'), errored: count('ERRORED'), skipped: count('SKIPPED'), committed: true, lastId };
}

/**
 * Delivers one batch on a connection of `pool`; see the module comment for the guarantees.
 * `after` is the `lastId` of the lane's previous batch (null for its first). `sentAt` is
 * recorded as the recipients' `sent_at`: the rate limiter's grant time, so the rate can be
 * checked in the table (see rate-limit.ts); a batch begins right after its grant. A batch
 * that PostgreSQL aborts for a deadlock (e.g. with deleteUsers or membership changes on the
 * same channels) was rolled back whole and runs again.
 */
export function deliverBatch(
  pool: pg.Pool,
  plan: DeliveryPlan,
  sender: TemplatePerson,
  size: number,
  after: string | null = null,
  sentAt: Date = new Date(),
): Promise<BatchResult> {
  return retryTransientConflicts(() => deliverBatchOnce(pool, plan, sender, size, after, sentAt));
}

async function deliverBatchOnce(pool: pg.Pool, plan: DeliveryPlan, sender: TemplatePerson, size: number, after: string | null, sentAt: Date): Promise<BatchResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no pool listener: without this, a connection dropped mid-batch
  // (failover, terminate) would be an unhandled 'error' event and end the worker.
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    await client.query(BEGIN_BATCH);
    try {
      const result = await deliverIn(pgDb(client), plan, sender, size, after, sentAt);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      if (error instanceof CampaignNotRunning) return { ...NOTHING_CLAIMED, committed: false };
      if (error instanceof SenderGone) return { ...NOTHING_CLAIMED, committed: false, senderGone: true };
      throw error;
    }
  } finally {
    // A connection that could not roll back is discarded rather than reused mid-transaction.
    client.removeListener('error', onError);
    client.release(broken);
  }
}
