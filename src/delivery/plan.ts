/**
 * What delivery needs to know about a campaign, loaded once per job run (or test send):
 * the sender as template data, the templates compiled once, and the channel rules.
 * The database is the truth: a plan is built from the current row, never from a payload.
 */
import { compileTemplate, type CompiledTemplate, type TemplatePerson } from '../campaigns/templates.js';
import type { Db } from './db.js';

export type { Db } from './db.js';

export interface ChannelRule {
  type: string;
  /** Compiled `channelTemplate.id`, or null: the distinct channel of sender, receiver and members. */
  id: CompiledTemplate | null;
  /**
   * Whether each user recipient gets a conversation of its own: the distinct channel of its
   * members, or an id template naming the receiver (`{{user.id}}`). Otherwise several
   * recipients may share one channel, and a message personalized with `user.*` would be read
   * by all of them, so `user.*` renders empty there (see messages.ts).
   */
  perRecipient: boolean;
  /** `channelTemplate.members`, without the sender when senderMode is EXCLUDE (it is never added then). */
  members: string[];
  custom: Record<string, unknown>;
}

export interface DeliveryPlan {
  campaignId: string;
  sender: TemplatePerson | null;
  senderMode: 'EXCLUDE' | 'INCLUDE' | null;
  createChannels: boolean;
  /** From `channelTemplate`; without one, 1:1 channels of type `messaging`. */
  channel: ChannelRule;
  text: CompiledTemplate;
  attachments: unknown[];
  custom: Record<string, unknown>;
}

/** The type of the 1:1 channels a campaign without a channelTemplate posts into. */
export const DEFAULT_CHANNEL_TYPE = 'messaging';

interface CampaignRow {
  id: string;
  sender_id: string | null;
  sender_mode: 'EXCLUDE' | 'INCLUDE' | null;
  create_channels: boolean;
  message_template: { text: string; attachments?: unknown[]; custom?: Record<string, unknown> };
  channel_template: { type: string; id?: string | null; members?: string[] | null; custom?: Record<string, unknown> | null } | null;
}

/** Loads the users of `ids` as template data, keyed by id. */
export async function loadPeople(db: Db, ids: readonly string[]): Promise<Map<string, TemplatePerson>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRaw<TemplatePerson[]>`
    SELECT id, name, role, language, custom FROM users WHERE id = ANY(${[...ids]}::text[])`;
  return new Map(rows.map((row) => [row.id, row]));
}

/** What a plan is built from: a saved campaign row, or an unsaved draft (previews). */
export interface PlanSource {
  campaignId: string;
  sender: TemplatePerson | null;
  senderMode: 'EXCLUDE' | 'INCLUDE' | null;
  createChannels: boolean;
  messageTemplate: CampaignRow['message_template'];
  channelTemplate: CampaignRow['channel_template'];
}

/** Compiles a plan (template errors are VALIDATION at `messageTemplate.text` / `channelTemplate.id` under `path`). */
export function buildDeliveryPlan(source: PlanSource, path = ''): DeliveryPlan {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const template = source.channelTemplate;
  const channelId = template?.id ? compileTemplate(template.id, at('channelTemplate.id')) : null;
  return {
    campaignId: source.campaignId,
    sender: source.sender,
    senderMode: source.senderMode,
    createChannels: source.createChannels,
    channel: {
      type: template?.type ?? DEFAULT_CHANNEL_TYPE,
      id: channelId,
      perRecipient: channelId === null || channelId.paths.some((p) => p === 'user.id' || p === 'receiver.id'),
      members: (template?.members ?? []).filter((m) => source.senderMode !== 'EXCLUDE' || m !== source.sender?.id),
      custom: template?.custom ?? {},
    },
    text: compileTemplate(source.messageTemplate.text, at('messageTemplate.text')),
    attachments: source.messageTemplate.attachments ?? [],
    custom: source.messageTemplate.custom ?? {},
  };
}

/** Builds the plan of one campaign, or null when it does not exist. */
export async function loadDeliveryPlan(db: Db, campaignId: string): Promise<DeliveryPlan | null> {
  const rows = await db.$queryRaw<CampaignRow[]>`
    SELECT id, sender_id, sender_mode::text AS sender_mode, create_channels, message_template, channel_template
    FROM campaigns WHERE id = ${campaignId}`;
  const row = rows[0];
  if (!row) return null;
  const sender = row.sender_id ? ((await loadPeople(db, [row.sender_id])).get(row.sender_id) ?? null) : null;
  return buildDeliveryPlan({
    campaignId: row.id,
    sender,
    senderMode: row.sender_mode,
    createChannels: row.create_channels,
    messageTemplate: row.message_template,
    channelTemplate: row.channel_template,
  });
}
