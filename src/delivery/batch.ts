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
 * The counter update is the batch's last statement, so the campaign row is locked only
 * for the commit; a concurrent stopCampaign waits for it and returns after it.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { TemplatePerson } from '../campaigns/templates.js';
import { openChannelConversations, openUserConversations, type Conversation } from './conversations.js';
import { insertMessages, renderMessage, type OutgoingMessage } from './messages.js';
import { loadPeople, type Db, type DeliveryPlan } from './plan.js';

interface ClaimedRecipient {
  id: string;
  user_id: string | null;
  channel_cid: string | null;
}

interface Outcome {
  id: string;
  status: 'SENT' | 'ERRORED' | 'SKIPPED';
  messageId: string | null;
  channelCid: string | null;
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
}

class CampaignNotRunning extends Error {}

/** The message id of a recipient: the same on every attempt, so no attempt inserts twice. */
export function campaignMessageId(campaignId: string, recipientId: string): string {
  return `campaign-${campaignId}-${recipientId}`;
}

async function claim(db: Db, campaignId: string, size: number): Promise<ClaimedRecipient[]> {
  // Ordered by id so batches walk the (campaign_id, status, id) index; SKIP LOCKED lets
  // concurrent workers take disjoint batches instead of queueing behind each other.
  return db.$queryRaw<ClaimedRecipient[]>`
    SELECT id, user_id, channel_cid FROM recipients
    WHERE campaign_id = ${campaignId} AND status = 'PENDING'
    ORDER BY id LIMIT ${size} FOR UPDATE SKIP LOCKED`;
}

function decide(
  plan: DeliveryPlan,
  sender: TemplatePerson,
  claimed: ClaimedRecipient[],
  people: Map<string, TemplatePerson>,
  conversations: Map<string, Conversation>,
): { outcomes: Outcome[]; messages: OutgoingMessage[] } {
  const outcomes: Outcome[] = [];
  const messages: OutgoingMessage[] = [];
  for (const r of claimed) {
    const key = r.user_id ?? r.channel_cid;
    const receiver = r.user_id ? (people.get(r.user_id) ?? null) : null;
    const skip =
      key === null ? 'The user or channel was deleted'
      : r.user_id === sender.id ? 'The sender is never sent its own campaign'
      : r.user_id !== null && receiver === null ? 'The user was deleted'
      : null;
    if (skip !== null || key === null) {
      outcomes.push({ id: r.id, status: 'SKIPPED', messageId: null, channelCid: r.channel_cid, error: skip });
      continue;
    }
    const conversation = conversations.get(key)!;
    if (!conversation.ok) {
      outcomes.push({ id: r.id, status: 'ERRORED', messageId: null, channelCid: r.channel_cid, error: conversation.error });
      continue;
    }
    const id = campaignMessageId(plan.campaignId, r.id);
    messages.push({ id, channelCid: conversation.channel.cid, text: renderMessage(plan, sender, conversation, receiver) });
    outcomes.push({ id: r.id, status: 'SENT', messageId: id, channelCid: conversation.channel.cid, error: null });
  }
  return { outcomes, messages };
}

async function recordOutcomes(db: Db, outcomes: Outcome[]): Promise<void> {
  await db.$executeRaw`
    UPDATE recipients r SET status = o.status::recipient_status, message_id = o.message_id,
      channel_cid = coalesce(o.channel_cid, r.channel_cid), error = o.error,
      sent_at = CASE WHEN o.status = 'SENT' THEN now() END, attempts = r.attempts + 1, updated_at = now()
    FROM unnest(${outcomes.map((o) => o.id)}::text[], ${outcomes.map((o) => o.status)}::text[],
      ${outcomes.map((o) => o.messageId)}::text[], ${outcomes.map((o) => o.channelCid)}::text[],
      ${outcomes.map((o) => o.error)}::text[]) AS o(id, status, message_id, channel_cid, error)
    WHERE r.id = o.id`;
}

/** Delivers one batch; see the module comment for the guarantees. */
export async function deliverBatch(prisma: PrismaClient, plan: DeliveryPlan, sender: TemplatePerson, size: number): Promise<BatchResult> {
  try {
    return await prisma.$transaction(
      async (tx) => {
        const claimed = await claim(tx, plan.campaignId, size);
        if (claimed.length === 0) return { claimed: 0, sent: 0, errored: 0, skipped: 0, committed: true };
        const userIds = claimed.flatMap((r) => (r.user_id ? [r.user_id] : []));
        const people = await loadPeople(tx, userIds);
        const receivers = userIds.flatMap((id) => (id !== sender.id && people.has(id) ? [people.get(id)!] : []));
        const cids = claimed.flatMap((r) => (r.user_id === null && r.channel_cid ? [r.channel_cid] : []));
        const users = await openUserConversations(tx, plan, sender, receivers);
        const channels = await openChannelConversations(tx, plan, sender, cids);
        const conversations = new Map([...users.byKey, ...channels.byKey]);
        const { outcomes, messages } = decide(plan, sender, claimed, people, conversations);
        await insertMessages(tx, plan, sender.id, messages, plan.campaignId);
        await recordOutcomes(tx, outcomes);
        const count = (status: Outcome['status']) => outcomes.filter((o) => o.status === status).length;
        const moved = await tx.$executeRaw`
          UPDATE campaigns SET messages_sent = messages_sent + ${count('SENT')},
            messages_errored = messages_errored + ${count('ERRORED')},
            recipients_skipped = recipients_skipped + ${count('SKIPPED')},
            channels_created = channels_created + ${users.channelsCreated},
            users_sent = users_sent + ${count('SENT')}, updated_at = now()
          WHERE id = ${plan.campaignId} AND status = 'IN_PROGRESS'`;
        if (moved === 0) throw new CampaignNotRunning();
        return { claimed: claimed.length, sent: count('SENT'), errored: count('ERRORED'), skipped: count('SKIPPED'), committed: true };
      },
      { timeout: 120_000, maxWait: 30_000 },
    );
  } catch (error) {
    if (error instanceof CampaignNotRunning) return { claimed: 0, sent: 0, errored: 0, skipped: 0, committed: false };
    throw error;
  }
}
