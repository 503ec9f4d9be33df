/**
 * Finds or creates the channels a batch of campaign messages goes into, set-based. New
 * channels take one statement: it inserts the missing ones with their exact member_count
 * and their members, both computed here, and returns which it created (so nothing is read
 * back). Channels that already exist (or that another worker created meanwhile) take two
 * more: add the members, read back. Safe to run twice (ON CONFLICT DO NOTHING) and under
 * concurrency.
 *
 * Membership rules (spec §4 senderMode): new channels get the receiver, the template's
 * members and the sender unless EXCLUDE; existing channels get the receiver (a message
 * must reach its receiver) and, with INCLUDE, the sender.
 */
import { distinctChannelId } from '../chat/channels.service.js';
import type { TemplateChannel, TemplatePerson } from '../campaigns/templates.js';
import { ID_PATTERN } from '../validation.js';
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
  cid: string;
  type: string;
  id: string;
  custom: Record<string, unknown>;
  /** Member ids when the channel has at most two members, else null. */
  small_members: string[] | null;
}

interface Pair {
  cid: string;
  userId: string;
}

/** Computes the target cid of each receiver; an error string when the template renders a bad id. */
function targetCid(plan: DeliveryPlan, sender: TemplatePerson, receiver: TemplatePerson): string | { error: string } {
  const rule = plan.channel;
  const id = rule.id
    ? rule.id.render({ user: receiver, sender, channel: null })
    : distinctChannelId([sender.id, receiver.id, ...rule.members]);
  if (id.length === 0 || id.length > 128 || !ID_PATTERN.test(id)) {
    return { error: `channelTemplate.id rendered "${id.slice(0, 140)}", which is not a valid channel id` };
  }
  return `${rule.type}:${id}`;
}

/**
 * Inserts (cid, user) memberships of existing channels that do not exist yet and keeps
 * member_count exact. Channels and users deleted meanwhile are skipped, not an error.
 */
async function addMembers(db: Db, pairs: readonly Pair[]): Promise<void> {
  if (pairs.length === 0) return;
  await db.$executeRaw`
    WITH added AS (
      INSERT INTO channel_members (channel_cid, user_id)
      SELECT DISTINCT p.cid, p.uid FROM unnest(${pairs.map((p) => p.cid)}::text[], ${pairs.map((p) => p.userId)}::text[]) AS p(cid, uid)
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = p.uid) AND EXISTS (SELECT 1 FROM channels c WHERE c.cid = p.cid)
      ON CONFLICT DO NOTHING RETURNING channel_cid)
    UPDATE channels c SET member_count = c.member_count + a.n, updated_at = now()
    FROM (SELECT channel_cid, count(*)::int AS n FROM added GROUP BY channel_cid) a
    WHERE c.cid = a.channel_cid`;
}

/** Reads channels back after membership changes, with their members when there are ≤2. */
async function readChannels(db: Db, cids: readonly string[]): Promise<Map<string, ChannelState>> {
  if (cids.length === 0) return new Map();
  const rows = await db.$queryRaw<ChannelState[]>`
    SELECT c.cid, c.type, c.id, c.custom,
      CASE WHEN c.member_count <= 2 THEN
        (SELECT coalesce(array_agg(m.user_id), '{}') FROM channel_members m WHERE m.channel_cid = c.cid)
      END AS small_members
    FROM channels c WHERE c.cid = ANY(${[...cids]}::text[])`;
  return new Map(rows.map((row) => [row.cid, row]));
}

/**
 * Creates the channels of `membersOf` (cid → its members) that do not exist, in one
 * statement: each gets its members and a member_count equal to their number, both known
 * here, so the statement only writes (sorted inserts, so concurrent workers lock in one
 * order). Returns the state of the channels this call created. Receivers, the sender and
 * the template members (looked up in this batch) could be deleted right now: then the
 * foreign key fails the batch and the next attempt leaves them out.
 */
async function createChannels(db: Db, plan: DeliveryPlan, senderId: string, membersOf: ReadonlyMap<string, ReadonlySet<string>>): Promise<Map<string, ChannelState>> {
  const sorted = [...membersOf.keys()].sort();
  const idOf = (cid: string) => cid.slice(plan.channel.type.length + 1);
  const pairs = sorted.flatMap((cid) => [...membersOf.get(cid)!].map((userId) => ({ cid, userId })));
  const rows = await db.$queryRaw<{ cid: string }[]>`
    WITH created AS (
      INSERT INTO channels (cid, type, id, created_by_id, custom, member_count)
      SELECT w.cid, ${plan.channel.type}, w.id, ${senderId}, ${JSON.stringify(plan.channel.custom)}::jsonb, w.n
      FROM unnest(${sorted}::text[], ${sorted.map(idOf)}::text[], ${sorted.map((cid) => membersOf.get(cid)!.size)}::int[]) WITH ORDINALITY AS w(cid, id, n, i)
      ORDER BY w.i
      ON CONFLICT (cid) DO NOTHING RETURNING cid),
    joined AS (
      INSERT INTO channel_members (channel_cid, user_id)
      SELECT m.cid, m.uid FROM unnest(${pairs.map((p) => p.cid)}::text[], ${pairs.map((p) => p.userId)}::text[]) AS m(cid, uid)
      JOIN created c ON c.cid = m.cid
      ON CONFLICT DO NOTHING)
    SELECT cid FROM created`;
  const { type, custom } = plan.channel;
  return new Map(
    rows.map(({ cid }) => {
      const members = [...membersOf.get(cid)!];
      return [cid, { cid, type, id: idOf(cid), custom, small_members: members.length <= 2 ? members : null }];
    }),
  );
}

function asTemplateChannel(state: ChannelState): TemplateChannel {
  return { id: state.id, type: state.type, cid: state.cid, custom: state.custom };
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
  for (const receiver of receivers) {
    const target = targetCid(plan, sender, receiver);
    if (typeof target === 'string') cidOf.set(receiver.id, target);
    else byKey.set(receiver.id, { ok: false, ...target });
  }
  const wanted = [...new Set(cidOf.values())];

  let created = new Map<string, ChannelState>();
  if (wanted.length && plan.createChannels) {
    // Template members deleted since the campaign was saved are left out.
    const templateMembers = plan.channel.members.length ? [...(await loadPeople(db, plan.channel.members)).keys()] : [];
    const membersOf = new Map<string, Set<string>>();
    const add = (cid: string, userId: string) => {
      const members = membersOf.get(cid);
      if (members) members.add(userId);
      else membersOf.set(cid, new Set([userId]));
    };
    for (const [receiverId, cid] of cidOf) add(cid, receiverId);
    for (const cid of wanted) {
      for (const userId of templateMembers) add(cid, userId);
      if (plan.senderMode !== 'EXCLUDE') add(cid, sender.id);
    }
    created = await createChannels(db, plan, sender.id, membersOf);
  }

  // Channels that already existed (or are missing, without createChannels).
  const others = wanted.filter((cid) => !created.has(cid));
  if (others.length) {
    const pairs: Pair[] = [];
    for (const [receiverId, cid] of cidOf) if (!created.has(cid)) pairs.push({ cid, userId: receiverId });
    if (plan.senderMode === 'INCLUDE') pairs.push(...others.map((cid) => ({ cid, userId: sender.id })));
    await addMembers(db, pairs);
  }
  const states = await readChannels(db, others);

  for (const [receiverId, cid] of cidOf) {
    const state = created.get(cid) ?? states.get(cid);
    if (!state) {
      byKey.set(receiverId, {
        ok: false,
        error: plan.createChannels
          ? `Channel ${cid} could not be created`
          : `No channel ${cid} with ${receiverId}, and createChannels is false`,
      });
      continue;
    }
    const members = state.small_members;
    // Personal only in a channel that is this receiver's alone, now and later (perRecipient).
    const oneToOne =
      plan.channel.perRecipient && members !== null && members.includes(receiverId) && members.every((m) => m === receiverId || m === sender.id);
    byKey.set(receiverId, { ok: true, channel: asTemplateChannel(state), oneToOne });
  }
  return { byKey, channelsCreated: created.size };
}

/** Opens existing channels of a channel audience (keyed by cid); INCLUDE adds the sender. */
export async function openChannelConversations(
  db: Db,
  plan: DeliveryPlan,
  sender: TemplatePerson,
  cids: readonly string[],
): Promise<OpenedConversations> {
  if (plan.senderMode === 'INCLUDE') await addMembers(db, cids.map((cid) => ({ cid, userId: sender.id })));
  const states = await readChannels(db, [...cids]);
  const byKey = new Map<string, Conversation>();
  for (const cid of cids) {
    const state = states.get(cid);
    byKey.set(cid, state ? { ok: true, channel: asTemplateChannel(state), oneToOne: false } : { ok: false, error: `Channel ${cid} no longer exists` });
  }
  return { byKey, channelsCreated: 0 };
}
