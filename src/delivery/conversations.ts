/**
 * Finds or creates the channels a batch of campaign messages goes into, set-based. New
 * channels take one statement: it inserts the missing ones with their exact member_count
 * and their members, both computed here, and returns how many it created: all of them, and
 * nothing is read back. Otherwise (some already existed) two more statements add the
 * members and read the channels back. Safe to run twice and under concurrency (a channel
 * created by another transaction meanwhile makes the batch run again).
 *
 * Membership rules (spec §4 senderMode): new channels get the receiver, the template's
 * members and the sender unless EXCLUDE; existing channels get the receiver (a message
 * must reach its receiver) and, with INCLUDE, the sender.
 */
import { distinctChannelId } from '../chat/channels.service.js';
import type { TemplateChannel, TemplatePerson } from '../campaigns/templates.js';
import { ID_PATTERN } from '../validation.js';
import { Prisma } from '../generated/prisma/client.js';
import { prepared, textArray } from './db.js';
import { loadPeople, type Db, type DeliveryPlan } from './plan.js';

/** Where one recipient's message goes, or why it cannot go anywhere. */
export type Conversation =
  | { ok: true; channel: TemplateChannel; /** true when user.* may render */ oneToOne: boolean }
  | { ok: false; error: string };

export interface OpenedConversations {
  byKey: Map<string, Conversation>;
  channelsCreated: number;
}

interface ChannelState {
  channel: TemplateChannel;
  /** Member ids when the channel has at most two members, else null. */
  smallMembers: string[] | null;
}

/**
 * Computes the target cid of each receiver; an error string when the template renders a bad
 * id (a distinct channel's id is valid by construction).
 */
function targetCid(plan: DeliveryPlan, sender: TemplatePerson, receiver: TemplatePerson): string | { error: string } {
  const rule = plan.channel;
  if (!rule.id) return `${rule.type}:${distinctChannelId(rule.members.length ? [sender.id, receiver.id, ...rule.members] : [sender.id, receiver.id])}`;
  const id = rule.id.render({ user: receiver, sender, channel: null });
  if (id.length === 0 || id.length > 128 || !ID_PATTERN.test(id)) {
    return { error: `channelTemplate.id rendered "${id.slice(0, 140)}", which is not a valid channel id` };
  }
  return `${rule.type}:${id}`;
}

/**
 * Inserts (cid, user) memberships of existing channels that do not exist yet and keeps
 * member_count exact. Channels and users deleted meanwhile are skipped, not an error.
 */
async function addMembers(db: Db, cids: readonly string[], userIds: readonly string[]): Promise<void> {
  if (cids.length === 0) return;
  await db.$executeRaw(prepared(Prisma.sql`
    WITH added AS (
      INSERT INTO channel_members (channel_cid, user_id)
      SELECT DISTINCT p.cid, p.uid FROM unnest(${textArray(cids)}::text[], ${textArray(userIds)}::text[]) AS p(cid, uid)
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = p.uid) AND EXISTS (SELECT 1 FROM channels c WHERE c.cid = p.cid)
      ON CONFLICT DO NOTHING RETURNING channel_cid)
    UPDATE channels c SET member_count = c.member_count + a.n, updated_at = now()
    FROM (SELECT channel_cid, count(*)::int AS n FROM added GROUP BY channel_cid) a
    WHERE c.cid = a.channel_cid`));
}

/** Reads channels back after membership changes, with their members when there are ≤2. */
async function readChannels(db: Db, cids: readonly string[]): Promise<Map<string, ChannelState>> {
  if (cids.length === 0) return new Map();
  const rows = await db.$queryRaw<(TemplateChannel & { small_members: string[] | null })[]>`
    SELECT c.cid, c.type, c.id, c.custom,
      CASE WHEN c.member_count <= 2 THEN
        (SELECT coalesce(array_agg(m.user_id), '{}') FROM channel_members m WHERE m.channel_cid = c.cid)
      END AS small_members
    FROM channels c WHERE c.cid = ANY(${textArray(cids)}::text[])`;
  return new Map(rows.map(({ small_members, ...channel }) => [channel.cid, { channel, smallMembers: small_members }]));
}

/**
 * Creates the channels of `receiversOf` (cid → its receivers) with the receivers and
 * `others` (the template members and the sender) as members, in one statement, unless a
 * channel of that cid exists: each gets a member_count equal to its number of members, known
 * here, so the statement only writes (sorted inserts, so concurrent workers lock in one
 * order). Channels that exist are left out by NOT EXISTS rather than ON CONFLICT, whose
 * speculative insertion takes a lock-manager lock and writes a confirmation record per row:
 * a channel another transaction creates meanwhile fails the statement (unique_violation on
 * channels_pkey) and the batch runs again (deliverBatch), finding it. The members go only
 * into channels this statement created, which had none, and each (channel, member) pair is
 * listed once: a plain INSERT, without ON CONFLICT's speculative insertion (a probe and a
 * confirmation record more per row). Returns how many it created: when that is all of
 * them, the caller knows their state without reading it back. Receivers, the sender and the template members (looked up in
 * this batch) could be deleted right now: then the foreign key fails the batch and the next
 * attempt leaves them out.
 */
async function createChannels(db: Db, plan: DeliveryPlan, senderId: string, receiversOf: ReadonlyMap<string, readonly string[]>, others: readonly string[]): Promise<number> {
  const cids = [...receiversOf.keys()].sort();
  const counts: number[] = [];
  const memberCids: string[] = [];
  const memberIds: string[] = [];
  for (const cid of cids) {
    const receivers = receiversOf.get(cid)!;
    const before = memberIds.length;
    for (const userId of receivers) memberIds.push(userId);
    for (const userId of others) if (!receivers.includes(userId)) memberIds.push(userId);
    for (let i = before; i < memberIds.length; i += 1) memberCids.push(cid);
    counts.push(memberIds.length - before);
  }
  const rows = await db.$queryRaw<{ created: number }[]>(prepared(Prisma.sql`
    WITH created AS (
      INSERT INTO channels (cid, type, id, created_by_id, custom, member_count)
      SELECT w.cid, ${plan.channel.type}, substr(w.cid, ${plan.channel.type.length + 2}::int), ${senderId}, ${JSON.stringify(plan.channel.custom)}::jsonb, w.n
      FROM unnest(${textArray(cids)}::text[], ${textArray(counts)}::int[]) WITH ORDINALITY AS w(cid, n, i)
      WHERE NOT EXISTS (SELECT 1 FROM channels e WHERE e.cid = w.cid)
      ORDER BY w.i
      RETURNING cid),
    joined AS (
      INSERT INTO channel_members (channel_cid, user_id)
      SELECT m.cid, m.uid FROM unnest(${textArray(memberCids)}::text[], ${textArray(memberIds)}::text[]) AS m(cid, uid)
      JOIN created c ON c.cid = m.cid)
    SELECT count(*)::int AS created FROM created`));
  return rows[0]!.created;
}

/**
 * Opens the conversation of each user receiver (keyed by receiver id): the 1:1 channel with
 * the sender, or the channel named by `channelTemplate`, created when allowed.
 */
export async function openUserConversations(
  db: Db,
  plan: DeliveryPlan,
  sender: TemplatePerson,
  receivers: readonly TemplatePerson[],
): Promise<OpenedConversations> {
  const byKey = new Map<string, Conversation>();
  const cidOf = new Map<string, string>();
  /** cid → its receivers (each once). */
  const receiversOf = new Map<string, string[]>();
  for (const receiver of receivers) {
    if (cidOf.has(receiver.id) || byKey.has(receiver.id)) continue;
    const target = targetCid(plan, sender, receiver);
    if (typeof target !== 'string') {
      byKey.set(receiver.id, { ok: false, ...target });
      continue;
    }
    cidOf.set(receiver.id, target);
    const list = receiversOf.get(target);
    if (list) list.push(receiver.id);
    else receiversOf.set(target, [receiver.id]);
  }

  let channelsCreated = 0;
  if (receiversOf.size && plan.createChannels) {
    // Template members deleted since the campaign was saved are left out.
    const templateMembers = plan.channel.members.length ? [...(await loadPeople(db, plan.channel.members)).keys()] : [];
    const others = plan.senderMode === 'EXCLUDE' || templateMembers.includes(sender.id) ? templateMembers : [...templateMembers, sender.id];
    channelsCreated = await createChannels(db, plan, sender.id, receiversOf, others);
    if (channelsCreated === receiversOf.size) {
      openCreated(byKey, plan, sender, receiversOf, others);
      return { byKey, channelsCreated };
    }
  }

  // Channels that existed (or another worker created meanwhile), missing ones without
  // createChannels, and with them any this batch created: reading back is exact for all.
  const cids: string[] = [];
  const userIds: string[] = [];
  for (const [receiverId, cid] of cidOf) {
    cids.push(cid);
    userIds.push(receiverId);
  }
  if (plan.senderMode === 'INCLUDE') for (const cid of receiversOf.keys()) { cids.push(cid); userIds.push(sender.id); }
  await addMembers(db, cids, userIds);
  const states = await readChannels(db, [...receiversOf.keys()]);
  for (const [receiverId, cid] of cidOf) {
    const state = states.get(cid);
    if (!state) {
      byKey.set(receiverId, {
        ok: false,
        error: plan.createChannels
          ? `Channel ${cid} could not be created`
          : `No channel ${cid} with ${receiverId}, and createChannels is false`,
      });
      continue;
    }
    const oneToOne = state.smallMembers !== null && personal(plan, receiverId, sender.id, state.smallMembers);
    byKey.set(receiverId, { ok: true, channel: state.channel, oneToOne });
  }
  return { byKey, channelsCreated };
}

/**
 * Whether `receiverId`'s conversation is personal (user.* renders): only with perRecipient,
 * in a channel that is the receiver's alone, now and later — its members (`members`, and
 * `more` when given in two lists) are the receiver and at most the sender.
 */
function personal(plan: DeliveryPlan, receiverId: string, senderId: string, members: readonly string[], more: readonly string[] = []): boolean {
  const mine = (m: string) => m === receiverId || m === senderId;
  return plan.channel.perRecipient && (members.includes(receiverId) || more.includes(receiverId)) && members.every(mine) && more.every(mine);
}

/**
 * The conversations in channels createChannels has just created, whose members are their
 * receivers and `others`: one per channel, shared by its receivers. Personal (oneToOne) as
 * in a channel read back: the receiver's alone, with the sender at most.
 */
function openCreated(
  byKey: Map<string, Conversation>,
  plan: DeliveryPlan,
  sender: TemplatePerson,
  receiversOf: ReadonlyMap<string, readonly string[]>,
  others: readonly string[],
): void {
  const { type, custom } = plan.channel;
  for (const [cid, receivers] of receiversOf) {
    const oneToOne = personal(plan, receivers[0]!, sender.id, receivers, others);
    const conversation: Conversation = { ok: true, channel: { id: cid.slice(type.length + 1), type, cid, custom }, oneToOne };
    for (const id of receivers) byKey.set(id, conversation);
  }
}

/** Opens existing channels of a channel audience (keyed by cid); INCLUDE adds the sender. */
export async function openChannelConversations(
  db: Db,
  plan: DeliveryPlan,
  sender: TemplatePerson,
  cids: readonly string[],
): Promise<OpenedConversations> {
  if (plan.senderMode === 'INCLUDE') await addMembers(db, cids, cids.map(() => sender.id));
  const states = await readChannels(db, cids);
  const byKey = new Map<string, Conversation>();
  for (const cid of cids) {
    const state = states.get(cid);
    byKey.set(cid, state ? { ok: true, channel: state.channel, oneToOne: false } : { ok: false, error: `Channel ${cid} no longer exists` });
  }
  return { byKey, channelsCreated: 0 };
}
