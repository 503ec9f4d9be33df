/**
 * Renders and writes campaign messages in one statement per batch. Message ids are given
 * by the caller and are new: delivery derives them from campaign × recipient, and writes a
 * recipient's message in the transaction that marks it SENT (a batch that ran before either
 * committed both or nothing, and a SENT recipient is never claimed again); test sends draw
 * random UUIDs; no API takes a message id from a client. So the INSERT has no ON CONFLICT
 * clause, whose speculative insertion costs a probe and a confirmation record per row: a
 * duplicate would be a bug, and fails its batch (unique_violation) instead of hiding.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { TemplatePerson } from '../campaigns/templates.js';
import type { Conversation } from './conversations.js';
import { textArray } from './db.js';
import type { Db, DeliveryPlan } from './plan.js';

/**
 * Messages to insert, as columns: the i-th message is (idPrefix + ids[i], channelCids[i],
 * texts[i]). A delivery batch's ids are its recipients' ids after the campaign's prefix
 * (campaignMessageId), so they go to PostgreSQL once, in the recipients' column.
 */
export interface OutgoingMessages {
  idPrefix: string;
  ids: string[];
  channelCids: string[];
  texts: string[];
}

/** Renders the message for one open conversation; `receiver` is dropped outside 1:1 ones. */
export function renderMessage(
  plan: DeliveryPlan,
  sender: TemplatePerson,
  conversation: Extract<Conversation, { ok: true }>,
  receiver: TemplatePerson | null,
): string {
  return plan.text.render({ user: conversation.oneToOne ? receiver : null, sender, channel: conversation.channel });
}

/**
 * The INSERT of messages sent by the plan's sender (new ids, see above); `campaignId` is
 * null for test sends (they are not campaign deliveries). A statement of its own, or a
 * data-modifying CTE of a larger one (a delivery batch's last statement).
 */
export function insertMessagesSql(plan: DeliveryPlan, senderId: string, messages: OutgoingMessages, campaignId: string | null): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO messages (id, channel_cid, user_id, text, attachments, custom, campaign_id)
    SELECT ${messages.idPrefix}::text || m.id, m.cid, ${senderId}, m.text, ${JSON.stringify(plan.attachments)}::jsonb,
      ${JSON.stringify(plan.custom)}::jsonb, ${campaignId}
    FROM unnest(${textArray(messages.ids)}::text[], ${textArray(messages.channelCids)}::text[],
      ${textArray(messages.texts)}::text[]) AS m(id, cid, text)`;
}

/** Inserts messages (see insertMessagesSql); returns how many it inserted. */
export async function insertMessages(
  db: Db,
  plan: DeliveryPlan,
  senderId: string,
  messages: OutgoingMessages,
  campaignId: string | null,
): Promise<number> {
  if (messages.ids.length === 0) return 0;
  return db.$executeRaw(insertMessagesSql(plan, senderId, messages, campaignId));
}
