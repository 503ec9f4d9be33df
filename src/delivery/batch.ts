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
import { openChannelConversations, openUserConversations, type Conversation, type OpenedConversations } from './conversations.js';
import { isUniqueViolationOf, retryTransientConflicts } from '../db/errors.js';
import { pgDb, prepared, textArray, type Db } from './db.js';
import { insertMessagesSql, renderMessage, type OutgoingMessages } from './messages.js';
import type { DeliveryPlan } from './plan.js';

/**
 * A claimed recipient. Its receiver's template data are the row itself: `id` (the
 * recipient's user_id), `name`, `role`, `language`, `custom` of the user — templates read
 * only those, so no object is built per recipient. `role` (NOT NULL in users) is null for
 * channel recipients and deleted users.
 */
interface ClaimedRecipient extends Omit<TemplatePerson, 'id' | 'role'> {
  recipient_id: string;
  /** Whether the sender still exists (the same on every row). */
  sender_exists: boolean;
  /** The recipient's user_id. */
  id: string | null;
  channel_cid: string | null;
  role: string | null;
}

type Status = 'SENT' | 'ERRORED' | 'SKIPPED';

/**
 * What a batch writes, as the columns of its last statement (no object per recipient). A
 * SENT recipient's message id is campaignMessageId of its id, in SQL (`messages.idPrefix`).
 */
class Outcomes {
  readonly ids: string[] = [];
  readonly statuses: Status[] = [];
  readonly errors: (string | null)[] = [];
  readonly messages: OutgoingMessages;
  sent = 0;
  errored = 0;
  skipped = 0;

  constructor(campaignId: string) {
    this.messages = { idPrefix: campaignMessageId(campaignId, ''), ids: [], channelCids: [], texts: [] };
  }

  add(id: string, status: Status, error: string | null): void {
    this.ids.push(id);
    this.statuses.push(status);
    this.errors.push(error);
    if (status === 'SENT') this.sent += 1;
    else if (status === 'ERRORED') this.errored += 1;
    else this.skipped += 1;
  }
}

export interface BatchResult {
  /** Recipients claimed (0: nothing pending, or the campaign is not IN_PROGRESS). */
  claimed: number;
  sent: number;
  errored: number;
  skipped: number;
  /** False when the campaign left IN_PROGRESS meanwhile and the batch was rolled back. */
  committed: boolean;
  /** The last recipient claimed (in list order; null when none was): the lane's next cursor. */
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
 * Claims up to `size` PENDING recipients in list order — (created_at, id), the campaign's
 * (campaign_id, created_at, id) index, the order the audience was written in — after the
 * recipient `after` (the lane's cursor), or from the start when it is null. No index knows
 * the status (see schema.prisma: the batch's update stays HOT), so the walk checks it row
 * by row: without the cursor each claim would walk past every row already SENT, which
 * makes a campaign quadratic in its size; with it, a lane walks past the rows the other
 * lanes took meanwhile (SKIP LOCKED lets concurrent lanes take disjoint batches instead of
 * queueing behind each other). The lane decides when to walk from the start again (see
 * deliverStep in engine.ts). The receivers' template data come along as plain columns
 * (null for a deleted user). The statement runs in a batch's transaction (BEGIN_BATCH),
 * whose planner settings keep it on that index.
 */
export function claimSql(campaignId: string, senderId: string, size: number, after: string | null): Prisma.Sql {
  const cursor = after === null ? Prisma.empty : Prisma.sql` AND (created_at, id) > (SELECT a.created_at, a.id FROM recipients a WHERE a.id = ${after})`;
  return Prisma.sql`
    WITH claimed AS (
      SELECT id, user_id, channel_cid, created_at FROM recipients
      WHERE campaign_id = ${campaignId} AND status = 'PENDING'${cursor}
      ORDER BY created_at, id LIMIT ${size} FOR UPDATE SKIP LOCKED)
    SELECT c.id AS recipient_id, c.user_id AS id, c.channel_cid, EXISTS (SELECT 1 FROM users s WHERE s.id = ${senderId}) AS sender_exists,
      u.name, u.role, u.language, u.custom
    FROM claimed c LEFT JOIN users u ON u.id = c.user_id
    ORDER BY c.created_at, c.id`;
}

const claim = (db: Db, campaignId: string, senderId: string, size: number, after: string | null): PromiseLike<ClaimedRecipient[]> =>
  db.$queryRaw<ClaimedRecipient[]>(claimSql(campaignId, senderId, size, after));

/** The receiver's template data: the row itself (see ClaimedRecipient), or null. */
const receiverOf = (r: ClaimedRecipient): TemplatePerson | null => (r.role === null ? null : (r as TemplatePerson));

function decide(plan: DeliveryPlan, sender: TemplatePerson, claimed: readonly ClaimedRecipient[], users: OpenedConversations, channels: OpenedConversations): Outcomes {
  const outcomes = new Outcomes(plan.campaignId);
  const { messages } = outcomes;
  for (const r of claimed) {
    const receiver = receiverOf(r);
    const skip =
      r.id === null && r.channel_cid === null ? 'The user or channel was deleted'
      : r.id === sender.id ? 'The sender is never sent its own campaign'
      : r.id !== null && receiver === null ? 'The user was deleted'
      : null;
    if (skip !== null) {
      outcomes.add(r.recipient_id, 'SKIPPED', skip);
      continue;
    }
    const conversation = r.id !== null ? users.byKey.get(r.id)! : channels.byKey.get(r.channel_cid!)!;
    if (!conversation.ok) {
      outcomes.add(r.recipient_id, 'ERRORED', conversation.error);
      continue;
    }
    messages.ids.push(r.recipient_id);
    messages.channelCids.push(conversation.channel.cid);
    messages.texts.push(renderMessage(plan, sender, conversation, receiver));
    outcomes.add(r.recipient_id, 'SENT', null);
  }
  return outcomes;
}

/**
 * The batch's last statement, one round trip: inserts its messages, marks the claimed rows
 * (a HOT update: no index covers the columns it sets; a trigger adds its sends to
 * campaign_sends, the timeline's), and adds to the campaign counters guarded by
 * `status = 'IN_PROGRESS'` (data-modifying CTEs
 * all run, in one snapshot). Returns whether the campaign row moved (false: stopped
 * meanwhile, and the caller rolls back). The counter update locks the campaign row until
 * the commit that follows, so it runs last: its condition reads the messages' and marks'
 * RETURNING rows, which makes them run to completion before it (a modifying CTE the main
 * query does not read runs after it). When it ran first, every lane held the row through
 * its whole statement and the lanes' heaviest statement ran one at a time (sampled: over
 * half of its time waiting for another batch's commit).
 *
 * `channel_cid` stays the audience key (set for channel recipients only): several user
 * recipients may share one conversation (a constant channel id template), which the
 * (campaign_id, channel_cid) unique key would refuse. A user recipient's channel is its
 * message's channel.
 */
async function finish(db: Db, plan: DeliveryPlan, senderId: string, outcomes: Outcomes, channelsCreated: number, sentAt: Date): Promise<boolean> {
  const { messages } = outcomes;
  const rows = await db.$queryRaw<{ moved: number }[]>(prepared(Prisma.sql`
    WITH ${messages.ids.length ? Prisma.sql`sent AS (${insertMessagesSql(plan, senderId, messages, plan.campaignId)} RETURNING 1),` : Prisma.empty}
    marked AS (
      UPDATE recipients r SET status = o.status::recipient_status, error = o.error,
        message_id = CASE WHEN o.status = 'SENT' THEN ${messages.idPrefix}::text || o.id END,
        sent_at = CASE WHEN o.status = 'SENT' THEN ${sentAt}::timestamptz END, attempts = r.attempts + 1, updated_at = now()
      FROM unnest(${textArray(outcomes.ids)}::text[], ${textArray(outcomes.statuses)}::text[], ${textArray(outcomes.errors)}::text[]) AS o(id, status, error)
      WHERE r.id = o.id
      RETURNING 1),
    counted AS (
      UPDATE campaigns SET messages_sent = messages_sent + ${outcomes.sent},
        messages_errored = messages_errored + ${outcomes.errored},
        recipients_skipped = recipients_skipped + ${outcomes.skipped},
        channels_created = channels_created + ${channelsCreated},
        users_sent = users_sent + ${outcomes.sent}, updated_at = clock_timestamp()
      WHERE id = ${plan.campaignId} AND status = 'IN_PROGRESS'
        AND (SELECT count(*) FROM marked) ${messages.ids.length ? Prisma.sql`+ (SELECT count(*) FROM sent)` : Prisma.empty} >= 0
      RETURNING 1)
    SELECT count(*)::int AS moved FROM counted`));
  return rows[0]!.moved > 0;
}

/**
 * Every statement of a batch reads or writes its ≤N rows by key. PostgreSQL's planner
 * prices each key probe as a random read and, once N is a few percent of a table (1,000 of
 * 100,000 recipients or users), picks a whole-table scan feeding a hash join instead —
 * measured at 100,000 recipients: the recipient update scanned the table every batch (52 ms
 * instead of 21), the claim's users join likewise, with or without ANALYZE; a campaign's
 * delivery turned quadratic in its size. Bitmap scans likewise: without statistics on the
 * new rows, the claim read every row after its cursor through a bitmap and sorted them
 * (auto_explain of a 100,000 run: 36,944 index entries and 25,723 rows for a claim of 2,000,
 * 120–245 ms each) where the list-order index scan stops at its LIMIT. Both stay off for the
 * batch's transaction only.
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
export const BEGIN_BATCH = 'BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL beacon.references_proved = on; SELECT beacon_share_references()';

const NOTHING_CLAIMED: BatchResult = { claimed: 0, sent: 0, errored: 0, skipped: 0, committed: true, lastId: null };

/** BatchOptions with their defaults. */
type Run = Required<Omit<BatchOptions, 'onClaimed'>> & Pick<BatchOptions, 'onClaimed'>;

async function deliverIn(db: Db, plan: DeliveryPlan, sender: TemplatePerson, size: number, { after, sentAt, onClaimed }: Run): Promise<BatchResult> {
  const claimed = await claim(db, plan.campaignId, sender.id, size, after);
  if (claimed.length === 0) return NOTHING_CLAIMED;
  onClaimed?.(claimed[claimed.length - 1]!.recipient_id);
  if (!claimed[0]!.sender_exists) throw new SenderGone();
  const receivers: TemplatePerson[] = [];
  const cids: string[] = [];
  for (const r of claimed) {
    const receiver = receiverOf(r);
    if (receiver !== null && receiver.id !== sender.id) receivers.push(receiver);
    else if (r.id === null && r.channel_cid !== null) cids.push(r.channel_cid);
  }
  const users = await openUserConversations(db, plan, sender, receivers);
  const channels = cids.length ? await openChannelConversations(db, plan, sender, cids) : { byKey: new Map<string, Conversation>(), channelsCreated: 0 };
  const outcomes = decide(plan, sender, claimed, users, channels);
  if (!(await finish(db, plan, sender.id, outcomes, users.channelsCreated, sentAt))) throw new CampaignNotRunning();
  const lastId = claimed[claimed.length - 1]!.recipient_id;
  return { claimed: claimed.length, sent: outcomes.sent, errored: outcomes.errored, skipped: outcomes.skipped, committed: true, lastId };
}

/** Another transaction created one of the batch's new channels meanwhile (conversations.ts): run it again. */
const channelCreatedMeanwhile = (error: unknown) => isUniqueViolationOf(error, 'channels_pkey');

/** Where a batch claims from, and who hears what it claimed (see deliverBatch). */
export interface BatchOptions {
  /** The lane's cursor: the `lastId` of a previous batch, or null (default) to claim from the start. */
  after?: string | null;
  /**
   * Recorded as the recipients' `sent_at`: the rate limiter's grant time, so the rate can be
   * checked in the table (see rate-limit.ts); a batch begins right after its grant. Default: now.
   */
  sentAt?: Date;
  /** Hears the last recipient claimed as soon as the claim returns, before the batch's writes (the lanes' frontier, engine.ts). */
  onClaimed?: (lastId: string) => void;
}

/**
 * Delivers one batch on a connection of `pool`; see the module comment for the guarantees.
 * A batch that PostgreSQL aborts for a deadlock (e.g. with deleteUsers or membership changes
 * on the same channels), or for a channel another transaction created meanwhile, was rolled
 * back whole and runs again.
 */
export function deliverBatch(pool: pg.Pool, plan: DeliveryPlan, sender: TemplatePerson, size: number, options: BatchOptions = {}): Promise<BatchResult> {
  const run = { after: options.after ?? null, sentAt: options.sentAt ?? new Date(), onClaimed: options.onClaimed };
  return retryTransientConflicts(() => deliverBatchOnce(pool, plan, sender, size, run), { alsoTransient: channelCreatedMeanwhile });
}

async function deliverBatchOnce(pool: pg.Pool, plan: DeliveryPlan, sender: TemplatePerson, size: number, run: Run): Promise<BatchResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no pool listener: without this, a connection dropped mid-batch
  // (failover, terminate) would be an unhandled 'error' event and end the worker.
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    await client.query(BEGIN_BATCH);
    try {
      const result = await deliverIn(pgDb(client), plan, sender, size, run);
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
