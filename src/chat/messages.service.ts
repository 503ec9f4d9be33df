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

/** Sets the member's lastReadAt to now; NOT_FOUND unless the user is a member. */
export async function markChannelRead(prisma: PrismaClient, channelCid: string, userId: string): Promise<Date> {
  parseCid(channelCid, 'channelCid');
  checkString(userId, 'userId', 128, ID_PATTERN);
  const rows = await prisma.$queryRaw<{ last_read_at: Date }[]>`
    UPDATE channel_members SET last_read_at = now()
    WHERE channel_cid = ${channelCid} AND user_id = ${userId} RETURNING last_read_at`;
  if (rows.length === 0) throw new NotFoundError(`User ${userId} is not a member of ${channelCid}`, 'userId');
  return rows[0]!.last_read_at;
}
