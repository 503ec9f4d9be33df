/**
 * Channels and memberships. A channel created without an id is a *distinct* channel
 * identified by its members: its id is derived from the member ids (distinctChannelId), so
 * finding the 1:1 channel of two users is one primary-key lookup and creating it twice is a
 * no-op.
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

const DISTINCT_PREFIX = '!members-';
/** Ids that may appear as they are in a pair's channel id: ID_PATTERN without `!`, the separator. */
const PAIR_MEMBER = /^[A-Za-z0-9@._-]+$/;
/** The longest two ids that fit a channel id (128) with the prefix and the separator. */
const PAIR_MEMBERS_MAX_LENGTH = 128 - DISTINCT_PREFIX.length - 1;

/**
 * The id of the distinct channel of exactly these members (order and repeats do not matter).
 * Two members (every 1:1 conversation) whose ids fit and hold no `!`: `!members-<lo>!<hi>`,
 * the two ids in C order, so the 1:1 channels of one sender sort like their receivers
 * (delivery then appends to the channel and message indexes instead of writing all over
 * them, see DELIVERY_ORDER in src/delivery/materialize.ts). Any other set: `!members-` and the
 * base64url SHA-256 (32 characters, never a `!`) of the sorted distinct ids joined by NUL.
 * Both forms are one-to-one: only the readable one holds a second `!`, and the ids hold none.
 */
export function distinctChannelId(memberIds: readonly string[]): string {
  const a = memberIds[0]!;
  const b = memberIds[1]!;
  if (memberIds.length !== 2 || a === b) {
    const key = memberIds.length === 2 ? a : [...new Set(memberIds)].sort().join('\u0000');
    return `${DISTINCT_PREFIX}${sha256(key).slice(0, 32)}`;
  }
  const [lo, hi] = a < b ? [a, b] : [b, a];
  if (lo.length + hi.length <= PAIR_MEMBERS_MAX_LENGTH && PAIR_MEMBER.test(lo) && PAIR_MEMBER.test(hi)) {
    return `${DISTINCT_PREFIX}${lo}!${hi}`;
  }
  return `${DISTINCT_PREFIX}${sha256(`${lo}\u0000${hi}`).slice(0, 32)}`;
}

/**
 * distinctChannelId of two different members in SQL (`a`, `b`: text expressions): the same
 * string. The migration pair_channels_named_by_members holds the same rule.
 */
export function distinctPairIdSql(a: Prisma.Sql, b: Prisma.Sql): Prisma.Sql {
  const lo = Prisma.sql`least(${a} COLLATE "C", ${b} COLLATE "C")`;
  const hi = Prisma.sql`greatest(${a} COLLATE "C", ${b} COLLATE "C")`;
  const member = Prisma.raw(`'${PAIR_MEMBER.source}'`); // the same regular expression in PostgreSQL's syntax
  const readable = Prisma.sql`length(${a}) + length(${b}) <= ${Prisma.raw(String(PAIR_MEMBERS_MAX_LENGTH))} AND ${a} ~ ${member} AND ${b} ~ ${member}`;
  const hash = Prisma.sql`translate(left(encode(sha256(convert_to(${lo}, 'UTF8') || '\\x00'::bytea || convert_to(${hi}, 'UTF8')), 'base64'), 32), '+/', '-_')`;
  return Prisma.sql`('!members-' || CASE WHEN ${readable} THEN ${lo} || '!' || ${hi} ELSE ${hash} END)`;
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
