/**
 * Channels and memberships. A channel created without an id is a *distinct* channel
 * identified by its members: its id is derived from the sorted member ids, so finding the
 * 1:1 channel of two users is one primary-key lookup and creating it twice is a no-op.
 */
import * as crypto from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { CHANNEL_TYPE_PATTERN, ID_PATTERN, checkJsonObject, checkList, checkString } from '../validation.js';
import { requireUsers } from './users.service.js';

export const MAX_MEMBERS_PER_CALL = 1000;

export interface CreateChannelInput {
  type: string;
  id?: string | null;
  createdById?: string | null;
  members?: readonly string[] | null;
  custom?: unknown;
}

/** base64url of SHA-256: one call without a Hash object where Node has `crypto.hash` (20.12+). */
const sha256 = typeof crypto.hash === 'function'
  ? (text: string) => crypto.hash('sha256', text, 'base64url')
  : (text: string) => crypto.createHash('sha256').update(text).digest('base64url');

/**
 * The id of the distinct channel of exactly these members (order and repeats do not matter):
 * SHA-256 of the sorted distinct ids joined by NUL. Delivery calls it once per 1:1 recipient,
 * so two members (the common case) skip the Set, the array and the sort.
 */
export function distinctChannelId(memberIds: readonly string[]): string {
  const a = memberIds[0]!;
  const b = memberIds[1]!;
  const key = memberIds.length !== 2 ? [...new Set(memberIds)].sort().join('\u0000')
    : a === b ? a
    : a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
  return `!members-${sha256(key).slice(0, 32)}`;
}

/**
 * A key that sorts pairs of two different members (`a`, `b`: SQL text expressions) near where
 * distinctChannelId puts their channel: SHA-256 of the same bytes, without the base64url
 * text (twice the cost). Its order is not the ids' (base64url's alphabet is not in ASCII
 * order) but a run of it is a few runs of theirs, which is what index locality needs.
 */
export function distinctPairKeySql(a: Prisma.Sql, b: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`sha256(convert_to(least(${a} COLLATE "C", ${b} COLLATE "C"), 'UTF8') || '\\x00'::bytea || convert_to(greatest(${a} COLLATE "C", ${b} COLLATE "C"), 'UTF8'))`;
}

/** distinctChannelId of two different members in SQL: the same string, from distinctPairKeySql. */
export function distinctPairIdSql(a: Prisma.Sql, b: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`('!members-' || translate(left(encode(${distinctPairKeySql(a, b)}, 'base64'), 32), '+/', '-_'))`;
}

/** `type:id`. */
export function channelCid(type: string, id: string): string {
  return `${type}:${id}`;
}

/** Splits and checks a cid given by a client. */
export function parseCid(cid: string, path: string): { type: string; id: string } {
  const at = cid.indexOf(':');
  if (at <= 0 || at === cid.length - 1) throw new ValidationError(`${path} must look like type:id`, path);
  const type = cid.slice(0, at);
  const id = cid.slice(at + 1);
  checkString(type, path, 64, CHANNEL_TYPE_PATTERN, 'a type of lower-case letters, digits, _ and -, then :id');
  checkString(id, path, 128, ID_PATTERN, 'an id of letters, digits and @ . _ - ! after the colon');
  return { type, id };
}

/** Creates the channel, or returns the existing one; `created` says which. */
export async function createChannel(
  prisma: PrismaClient,
  input: CreateChannelInput,
): Promise<{ cid: string; created: boolean }> {
  const type = checkString(input.type, 'input.type', 64, CHANNEL_TYPE_PATTERN, 'lower-case letters, digits, _ and -');
  const members = [...(input.members ?? [])];
  checkList(members, 'input.members', MAX_MEMBERS_PER_CALL);
  members.forEach((m, i) => checkString(m, `input.members[${i}]`, 128, ID_PATTERN));
  let id: string;
  if (input.id == null) {
    if (members.length < 2) {
      throw new ValidationError('A channel without an id needs at least two members, which identify it', 'input.members');
    }
    id = distinctChannelId(members);
  } else {
    id = checkString(input.id, 'input.id', 128, ID_PATTERN);
  }
  const custom = checkJsonObject(input.custom, 'input.custom');
  const createdById = input.createdById == null ? null : checkString(input.createdById, 'input.createdById', 128, ID_PATTERN);
  if (createdById) await requireUsers(prisma, [createdById], 'input.createdById');
  await requireUsers(prisma, members, 'input.members');

  const cid = channelCid(type, id);
  return prisma.$transaction(async (tx) => {
    // ON CONFLICT DO NOTHING makes concurrent creations of the same channel agree:
    // exactly one inserts, every caller then sees the same row.
    const inserted = await tx.$queryRaw<{ cid: string }[]>`
      INSERT INTO channels (cid, type, id, created_by_id, custom, member_count)
      VALUES (${cid}, ${type}, ${id}, ${createdById}, ${JSON.stringify(custom)}::jsonb, 0)
      ON CONFLICT (cid) DO NOTHING RETURNING cid`;
    if (inserted.length === 0) return { cid, created: false };
    await insertMembers(tx, cid, members);
    return { cid, created: true };
  });
}

/** Adds members (existing ones are left as they are) and keeps member_count exact. */
async function insertMembers(db: Pick<PrismaClient, '$executeRaw'>, cid: string, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  // One statement: insert what is new, and add exactly the number inserted to the count.
  await db.$executeRaw`
    WITH added AS (
      INSERT INTO channel_members (channel_cid, user_id)
      SELECT ${cid}, u FROM unnest(${[...userIds]}::text[]) AS u
      ON CONFLICT DO NOTHING RETURNING 1)
    UPDATE channels SET member_count = member_count + (SELECT count(*) FROM added)::int, updated_at = now()
    WHERE cid = ${cid} AND (SELECT count(*) FROM added) > 0`;
}

/** Adds existing users to an existing channel. */
export async function addChannelMembers(prisma: PrismaClient, cid: string, userIds: readonly string[]): Promise<void> {
  parseCid(cid, 'cid');
  checkList(userIds, 'userIds', MAX_MEMBERS_PER_CALL, { min: 1 });
  userIds.forEach((m, i) => checkString(m, `userIds[${i}]`, 128, ID_PATTERN));
  await requireChannel(prisma, cid, 'cid');
  await requireUsers(prisma, userIds, 'userIds');
  await insertMembers(prisma, cid, userIds);
}

/** Throws NOT_FOUND unless the channel exists. */
export async function requireChannel(db: Pick<PrismaClient, '$queryRaw'>, cid: string, path: string): Promise<void> {
  const rows = await db.$queryRaw<{ cid: string }[]>`SELECT cid FROM channels WHERE cid = ${cid}`;
  if (rows.length === 0) throw new NotFoundError(`Channel ${cid} does not exist`, path);
}
