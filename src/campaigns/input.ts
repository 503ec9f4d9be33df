/**
 * Validation of createCampaign / updateCampaign input. Every rule throws a ValidationError
 * naming the input at fault (`input.segmentIds`, `input.messageTemplate.text`) before
 * anything is written. Shape checks run first, then the database lookups (sender, users,
 * segments, channel members), each one set query.
 *
 * Update is partial: a key left out keeps its value, an explicit null clears a nullable
 * field (description, channelTemplate, senderMode, segmentIds, userIds) or resets a flag
 * to false. Rules spanning several fields (one audience kind, a channelTemplate when
 * createChannels) are checked on the campaign as it will be after the change.
 *
 * A campaign may be saved with no audience (a draft being written); starting it requires
 * one. `senderId` is required on create and cannot be cleared.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SenderMode } from '../generated/prisma/enums.js';
import { ValidationError } from '../errors.js';
import { listIds, requireUsers } from '../chat/users.service.js';
import { MAX_MESSAGE_TEXT } from '../chat/messages.service.js';
import { CHANNEL_TYPE_PATTERN, ID_PATTERN, checkJsonObject, checkJsonObjectList, checkList, checkString } from '../validation.js';
import { validateTemplate } from './templates.js';

export const MAX_NAME = 128;
export const MAX_DESCRIPTION = 256;
export const MAX_SEGMENTS = 25;
export const MAX_USER_IDS = 10_000;
export const MAX_TEMPLATE_MEMBERS = 100;
export const MAX_CHANNEL_ID_TEMPLATE = 256;

export interface MessageTemplateInput {
  text: string;
  attachments?: unknown;
  custom?: unknown;
}

export interface ChannelTemplateInput {
  type: string;
  id?: string | null;
  members?: readonly string[] | null;
  custom?: unknown;
}

/** The fields of CreateCampaignInput / UpdateCampaignInput (all optional here; create checks the required ones). */
export interface CampaignInput {
  id?: string | null;
  name?: string | null;
  description?: string | null;
  senderId?: string | null;
  segmentIds?: readonly string[] | null;
  userIds?: readonly string[] | null;
  messageTemplate?: MessageTemplateInput | null;
  channelTemplate?: ChannelTemplateInput | null;
  createChannels?: boolean | null;
  skipPush?: boolean | null;
  skipWebhook?: boolean | null;
  senderMode?: SenderMode | null;
}

/** `messageTemplate` as stored (JSON column). */
export interface MessageTemplate {
  text: string;
  attachments: Record<string, unknown>[];
  custom: Record<string, unknown>;
}

/** `channelTemplate` as stored (JSON column). */
export interface ChannelTemplate {
  type: string;
  id: string | null;
  members: string[];
  custom: Record<string, unknown>;
}

/** Validated changes: only the keys the input gave, normalized. */
export interface CampaignChanges {
  name?: string;
  description?: string | null;
  senderId?: string;
  segmentIds?: string[];
  userIds?: string[];
  messageTemplate?: MessageTemplate;
  channelTemplate?: ChannelTemplate | null;
  createChannels?: boolean;
  skipPush?: boolean;
  skipWebhook?: boolean;
  senderMode?: SenderMode | null;
}

/** What the cross-field rules need of the campaign before the change (defaults on create). */
export interface CampaignAudience {
  segmentIds: readonly string[];
  userIds: readonly string[];
  createChannels: boolean;
  hasChannelTemplate: boolean;
}

const NEW_CAMPAIGN: CampaignAudience = { segmentIds: [], userIds: [], createChannels: false, hasChannelTemplate: false };

type Db = Pick<PrismaClient, '$queryRaw' | 'segment'>;

const has = <K extends keyof CampaignInput>(input: CampaignInput, key: K): boolean => input[key] !== undefined;

/** Checks a client-chosen campaign id. */
export function checkCampaignId(id: string, path: string): string {
  return checkString(id, path, 128, ID_PATTERN);
}

function required<T>(value: T | null | undefined, path: string, what: string): T {
  if (value == null) throw new ValidationError(`${path} is required${what}`, path);
  return value;
}

/** Checks a message template (text parses as a template), paths under `path`. */
export function checkMessageTemplate(input: MessageTemplateInput, path: string): MessageTemplate {
  const textPath = `${path}.text`;
  const text = checkString(required(input.text, textPath, ''), textPath, MAX_MESSAGE_TEXT);
  validateTemplate(text, textPath);
  return {
    text,
    attachments: checkJsonObjectList(input.attachments, `${path}.attachments`),
    custom: checkJsonObject(input.custom, `${path}.custom`),
  };
}

/** Checks a channel template (id parses as a template of id characters), paths under `path`. */
export function checkChannelTemplate(input: ChannelTemplateInput, path: string): ChannelTemplate {
  const type = checkString(required(input.type, `${path}.type`, ''), `${path}.type`, 64, CHANNEL_TYPE_PATTERN, 'lower-case letters, digits, _ and -');
  let id: string | null = null;
  if (input.id != null) {
    const idPath = `${path}.id`;
    id = checkString(input.id, idPath, MAX_CHANNEL_ID_TEMPLATE);
    validateTemplate(id, idPath);
    // The tags render to whatever the data holds; the text around them must already be id characters.
    const literal = id.replace(/\{\{[\s\S]*?\}\}/g, '');
    if (literal && !ID_PATTERN.test(literal)) {
      throw new ValidationError(`${idPath} may only contain letters, digits, @ . _ - ! outside its {{ }} tags`, idPath);
    }
  }
  const members = [...(input.members ?? [])];
  checkList(members, `${path}.members`, MAX_TEMPLATE_MEMBERS);
  return { type, id, members, custom: checkJsonObject(input.custom, `${path}.custom`) };
}

/** Shape checks of every given field; no database access. */
function checkShapes(input: CampaignInput, path: string, creating: boolean): CampaignChanges {
  const at = (key: string) => `${path}.${key}`;
  const changes: CampaignChanges = {};
  if (creating || has(input, 'name')) {
    changes.name = checkString(required(input.name, at('name'), creating ? '' : ' (it cannot be cleared)'), at('name'), MAX_NAME);
  }
  if (has(input, 'description')) {
    const description = input.description ?? null;
    if (description !== null && description.length > MAX_DESCRIPTION) {
      throw new ValidationError(`${at('description')} must be at most ${MAX_DESCRIPTION} characters`, at('description'));
    }
    changes.description = description;
  }
  if (creating || has(input, 'senderId')) {
    const senderId = required(input.senderId, at('senderId'), creating ? '' : ' (it cannot be cleared)');
    changes.senderId = checkString(senderId, at('senderId'), 128, ID_PATTERN);
  }
  if (has(input, 'segmentIds')) {
    changes.segmentIds = [...checkList(input.segmentIds ?? [], at('segmentIds'), MAX_SEGMENTS)];
  }
  if (has(input, 'userIds')) {
    changes.userIds = [...checkList(input.userIds ?? [], at('userIds'), MAX_USER_IDS)];
  }
  if (creating || has(input, 'messageTemplate')) {
    const template = required(input.messageTemplate, at('messageTemplate'), creating ? '' : ' (it cannot be cleared)');
    changes.messageTemplate = checkMessageTemplate(template, at('messageTemplate'));
  }
  if (has(input, 'channelTemplate')) {
    changes.channelTemplate = input.channelTemplate == null ? null : checkChannelTemplate(input.channelTemplate, at('channelTemplate'));
  }
  for (const flag of ['createChannels', 'skipPush', 'skipWebhook'] as const) {
    if (has(input, flag)) changes[flag] = input[flag] ?? false;
  }
  if (has(input, 'senderMode')) changes.senderMode = input.senderMode ?? null;
  return changes;
}

/** Rules over several fields, on the campaign as it will be after the change. */
function checkCombination(changes: CampaignChanges, before: CampaignAudience, path: string): void {
  const segmentIds = changes.segmentIds ?? before.segmentIds;
  const userIds = changes.userIds ?? before.userIds;
  if (segmentIds.length > 0 && userIds.length > 0) {
    const at = changes.userIds?.length ? `${path}.userIds` : `${path}.segmentIds`;
    throw new ValidationError('A campaign targets segmentIds or userIds, not both', at);
  }
  const createChannels = changes.createChannels ?? before.createChannels;
  const hasChannelTemplate = changes.channelTemplate !== undefined ? changes.channelTemplate !== null : before.hasChannelTemplate;
  if (createChannels && !hasChannelTemplate) {
    throw new ValidationError('channelTemplate is required when createChannels is true', `${path}.channelTemplate`);
  }
}

/** Segments must exist and share one type. */
async function checkSegments(db: Db, segmentIds: readonly string[], path: string): Promise<void> {
  if (segmentIds.length === 0) return;
  const found = await db.segment.findMany({ where: { id: { in: [...segmentIds] } }, select: { id: true, type: true } });
  const known = new Set(found.map((s) => s.id));
  const missing = segmentIds.filter((id) => !known.has(id));
  if (missing.length) throw new ValidationError(`Unknown segment ids: ${listIds(missing)}`, path);
  const types = new Set(found.map((s) => s.type));
  if (types.size > 1) {
    throw new ValidationError('The segments of a campaign must all be of one type (all USER or all CHANNEL)', path);
  }
}

/**
 * Validates campaign input; `before` is the campaign being updated (omit on create, which
 * then requires name, senderId and messageTemplate). Returns the normalized changes.
 */
export async function validateCampaignInput(db: Db, input: CampaignInput, before?: CampaignAudience, path = 'input'): Promise<CampaignChanges> {
  const changes = checkShapes(input, path, before === undefined);
  checkCombination(changes, before ?? NEW_CAMPAIGN, path);
  if (changes.senderId !== undefined) await requireUsers(db, [changes.senderId], `${path}.senderId`);
  if (changes.segmentIds) await checkSegments(db, changes.segmentIds, `${path}.segmentIds`);
  if (changes.userIds?.length) await requireUsers(db, changes.userIds, `${path}.userIds`);
  if (changes.channelTemplate?.members.length) await requireUsers(db, changes.channelTemplate.members, `${path}.channelTemplate.members`);
  return changes;
}
