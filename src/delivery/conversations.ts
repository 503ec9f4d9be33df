/**
 * Finds or creates the channels a batch of campaign messages goes into, set-based: one
 * query finds the existing channels, one inserts the missing ones, one adds the members,
 * one reads back what each channel looks like. Safe to run twice (ON CONFLICT DO NOTHING)
 * and under concurrency (a channel created by another worker is simply found).
 *
 * Membership rules (spec §4 senderMode): new channels get the receiver, the template's
 * members and the sender unless EXCLUDE; existing channels get the receiver (a message
 * must reach its receiver) and, with INCLUDE, the sender.
 */
import { distinctChannelId } from '../chat/channels.service.js';
import type { TemplateChannel, TemplatePerson } from '../campaigns/templates.js';
import { ID_PATTERN } from '../validation.js';
import type { Db, DeliveryPlan } from './plan.js';

/** Where one recipient's message goes, or why it cannot go anywhere. */
export type Conversation =
  | { ok: true; channel: TemplateChannel; created: boolean; /** true when user.* may render */ oneToOne: boolean }
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

/** Inserts (cid, user) memberships that do not exist yet and keeps member_count exact. */
async function addMembers(db: Db, pairs: { cid: string; userId: string }[]): Promise<void> {
  if (pairs.length === 0) return;
  // Users deleted since the campaign was saved are skipped rather than failing the batch.
  await db.$executeRaw`
    WITH added AS (
      INSERT INTO channel_members (channel_cid, user_id)
      SELECT p.cid, p.uid FROM unnest(${pairs.map((p) => p.cid)}::text[], ${pairs.map((p) => p.userId)}::text[]) AS p(cid, uid)
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = p.uid)
      ON CONFLICT DO NOTHING RETURNING channel_cid)
    UPDATE channels c SET member_count = c.member_count + a.n, updated_at = now()
    FROM (SELECT channel_cid, count(*)::int AS n FROM added GROUP BY channel_cid) a
    WHERE c.cid = a.channel_cid`;
}

/** Reads channels back after membership changes, with their members when there are ≤2. */
async function readChannels(db: Db, cids: string[]): Promise<Map<string, ChannelState>> {
  if (cids.length === 0) return new Map();
  const rows = await db.$queryRaw<ChannelState[]>`
    SELECT c.cid, c.type, c.id, c.custom,
      CASE WHEN c.member_count <= 2 THEN
        (SELECT coalesce(array_agg(m.user_id), '{}') FROM channel_members m WHERE m.channel_cid = c.cid)
      END AS small_members
    FROM channels c WHERE c.cid = ANY(${cids}::text[])`;
  return new Map(rows.map((row) => [row.cid, row]));
}

function asTemplateChannel(state: ChannelState): TemplateChannel {
  return { id: state.id, type: state.type, cid: state.cid, custom: state.custom };
}

function dedupe(pairs: { cid: string; userId: string }[]): { cid: string; userId: string }[] {
  const seen = new Set<string>();
  return pairs.filter((p) => {
    const key = `${p.cid}\u0000${p.userId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
  const existing = wanted.length
    ? new Set((await db.$queryRaw<{ cid: string }[]>`SELECT cid FROM channels WHERE cid = ANY(${wanted}::text[])`).map((r) => r.cid))
    : new Set<string>();
  const missing = wanted.filter((cid) => !existing.has(cid));

  let created = new Set<string>();
  if (missing.length && plan.createChannels) {
    const split = missing.map((cid) => cid.slice(cid.indexOf(':') + 1));
    const inserted = await db.$queryRaw<{ cid: string }[]>`
      INSERT INTO channels (cid, type, id, created_by_id, custom, member_count)
      SELECT m.cid, ${plan.channel.type}, m.id, ${sender.id}, ${JSON.stringify(plan.channel.custom)}::jsonb, 0
      FROM unnest(${missing}::text[], ${split}::text[]) AS m(cid, id)
      ON CONFLICT (cid) DO NOTHING RETURNING cid`;
    created = new Set(inserted.map((r) => r.cid));
  }

  const pairs: { cid: string; userId: string }[] = [];
  for (const [receiverId, cid] of cidOf) {
    if (!existing.has(cid) && !created.has(cid) && !plan.createChannels) continue;
    pairs.push({ cid, userId: receiverId });
    const isNew = created.has(cid);
    if (isNew) pairs.push(...plan.channel.members.map((userId) => ({ cid, userId })));
    if (plan.senderMode === 'INCLUDE' || (isNew && plan.senderMode !== 'EXCLUDE')) pairs.push({ cid, userId: sender.id });
  }
  await addMembers(db, dedupe(pairs));

  const states = await readChannels(db, wanted);
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
    const members = state.small_members;
    const oneToOne = members !== null && members.includes(receiverId) && members.every((m) => m === receiverId || m === sender.id);
    byKey.set(receiverId, { ok: true, channel: asTemplateChannel(state), created: created.has(cid), oneToOne });
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
    byKey.set(cid, state ? { ok: true, channel: asTemplateChannel(state), created: false, oneToOne: false } : { ok: false, error: `Channel ${cid} no longer exists` });
  }
  return { byKey, channelsCreated: 0 };
}
