/**
 * `testCampaign`: really sends the rendered message to a few users, in the channel the
 * campaign would use for each of them (created per `channelTemplate` when
 * `createChannels`), through the same conversation and message code as delivery — but
 * writes no recipients, touches no counters, and leaves `campaignId` off the messages so
 * they never count as deliveries.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import { checkList } from '../validation.js';
import { openUserConversations } from '../delivery/conversations.js';
import { insertMessages, renderMessage } from '../delivery/messages.js';
import { loadDeliveryPlan, loadPeople } from '../delivery/plan.js';

export const MAX_TEST_USERS = 100;

export interface TestSendResult {
  userId: string;
  status: 'SENT' | 'ERRORED';
  messageId: string | null;
  /** The channel the message was posted in, when SENT. */
  channelCid: string | null;
  error: string | null;
}

const failed = (userId: string, error: string): TestSendResult => ({
  userId,
  status: 'ERRORED',
  messageId: null,
  channelCid: null,
  error,
});

/** Sends the campaign's message to each listed user; unknown users come back as per-user errors. */
export async function testCampaign(prisma: PrismaClient, campaignId: string, userIds: readonly string[]): Promise<TestSendResult[]> {
  checkList(userIds, 'userIds', MAX_TEST_USERS, { min: 1 });
  return prisma.$transaction(async (tx) => {
    const plan = await loadDeliveryPlan(tx, campaignId);
    if (!plan) throw new NotFoundError(`Campaign ${campaignId} does not exist`, 'id');
    const sender = plan.sender;
    if (!sender) throw new InvalidStateError(`Campaign ${campaignId} has no sender (it was deleted)`, 'id');
    const people = await loadPeople(tx, userIds);
    const receivers = userIds.flatMap((id) => (id !== sender.id && people.has(id) ? [people.get(id)!] : []));
    const { byKey } = await openUserConversations(tx, plan, sender, receivers);

    const outgoing = new Map<string, { id: string; channelCid: string; text: string }>();
    for (const receiver of receivers) {
      const conversation = byKey.get(receiver.id)!;
      if (!conversation.ok) continue;
      const text = renderMessage(plan, sender, conversation, receiver);
      outgoing.set(receiver.id, { id: randomUUID(), channelCid: conversation.channel.cid, text });
    }
    const messages = [...outgoing.values()];
    await insertMessages(tx, plan, sender.id, { idPrefix: '', ids: messages.map((m) => m.id), channelCids: messages.map((m) => m.channelCid), texts: messages.map((m) => m.text) }, null);

    return userIds.map((userId): TestSendResult => {
      if (userId === sender.id) return failed(userId, 'The sender is never sent its own campaign');
      if (!people.has(userId)) return failed(userId, `User ${userId} does not exist`);
      const conversation = byKey.get(userId)!;
      if (!conversation.ok) return failed(userId, conversation.error);
      const message = outgoing.get(userId)!;
      return { userId, status: 'SENT', messageId: message.id, channelCid: message.channelCid, error: null };
    });
  });
}
