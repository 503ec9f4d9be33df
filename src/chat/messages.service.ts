/** Messages and read state of the chat store. */
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.js';
import { NotFoundError } from '../errors.js';
import { ID_PATTERN, checkJsonObject, checkJsonObjectList, checkString } from '../validation.js';
import { parseCid, requireChannel } from './channels.service.js';
import { requireUsers } from './users.service.js';

export const MAX_MESSAGE_TEXT = 5000;

export interface SendMessageInput {
  channelCid: string;
  userId: string;
  text: string;
  attachments?: unknown;
  custom?: unknown;
}

/** Posts a message by an existing user into an existing channel; returns its id. */
export async function sendMessage(prisma: PrismaClient, input: SendMessageInput): Promise<string> {
  parseCid(input.channelCid, 'input.channelCid');
  checkString(input.userId, 'input.userId', 128, ID_PATTERN);
  checkString(input.text, 'input.text', MAX_MESSAGE_TEXT);
  const attachments = checkJsonObjectList(input.attachments, 'input.attachments');
  const custom = checkJsonObject(input.custom, 'input.custom');
  await requireChannel(prisma, input.channelCid, 'input.channelCid');
  await requireUsers(prisma, [input.userId], 'input.userId');
  const message = await prisma.message.create({
    data: { id: randomUUID(), channelCid: input.channelCid, userId: input.userId, text: input.text, attachments: attachments as object[], custom: custom as object },
    select: { id: true },
  });
  return message.id;
}

/**
 * Sets the member's lastReadAt to now (NOT_FOUND unless the user is a member) and, in the
 * same transaction, marks read the campaign recipients whose message in this channel it
 * now covers — the user's own recipient rows, or a channel recipient when a member other
 * than the campaign's sender reads — counting each in `users_read` once (read_at is set
 * only where it was null). Returns the read mark and the campaigns whose counters moved.
 */
export async function markChannelRead(
  prisma: PrismaClient,
  channelCid: string,
  userId: string,
): Promise<{ lastReadAt: Date; campaignIds: string[] }> {
  parseCid(channelCid, 'channelCid');
  checkString(userId, 'userId', 128, ID_PATTERN);
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ last_read_at: Date }[]>`
      UPDATE channel_members SET last_read_at = now()
      WHERE channel_cid = ${channelCid} AND user_id = ${userId} RETURNING last_read_at`;
    if (rows.length === 0) throw new NotFoundError(`User ${userId} is not a member of ${channelCid}`, 'userId');
    const lastReadAt = rows[0]!.last_read_at;
    // Two index-driven branches (an OR across them would defeat the indexes): the user's own
    // recipient rows through recipients(user_id), kept when their message is in this
    // channel; and channel recipients through recipients(channel_cid), unless the reader is
    // that campaign's sender.
    const moved = await tx.$queryRaw<{ id: string }[]>`
      WITH target AS (
        SELECT r.id FROM recipients r JOIN messages m ON m.id = r.message_id
        WHERE r.user_id = ${userId} AND m.channel_cid = ${channelCid}
        UNION ALL
        SELECT r.id FROM recipients r JOIN campaigns c ON c.id = r.campaign_id
        WHERE r.user_id IS NULL AND r.channel_cid = ${channelCid} AND c.sender_id IS DISTINCT FROM ${userId}),
      read AS (
        UPDATE recipients r SET read_at = ${lastReadAt}, updated_at = now()
        FROM target t
        WHERE r.id = t.id AND r.status = 'SENT' AND r.read_at IS NULL AND r.sent_at <= ${lastReadAt}
        RETURNING r.campaign_id)
      UPDATE campaigns c SET users_read = c.users_read + n.n, updated_at = now()
      FROM (SELECT campaign_id, count(*)::int AS n FROM read GROUP BY campaign_id) n
      WHERE c.id = n.campaign_id RETURNING c.id`;
    return { lastReadAt, campaignIds: moved.map((m) => m.id) };
  });
}
