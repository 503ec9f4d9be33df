/**
 * The campaign editor's form as plain data: what a saved campaign fills in, the input a save
 * sends, and where each API error is shown. Kept apart from the components so the mapping of
 * error paths to fields lives in one table.
 */
import type { CreateCampaignInput, EditorCampaignFragment, SaveErrorFragment, SenderMode, TemplatePreviewInput } from '../generated/graphql';

export type AudienceKind = 'users' | 'segments';

export interface EditorForm {
  name: string;
  description: string;
  sender: { id: string; name: string | null } | null;
  audienceKind: AudienceKind;
  segmentIds: string[];
  /** The pasted ids as typed (one per line or comma-separated). */
  userIdsText: string;
  message: string;
  createChannels: boolean;
  channelType: string;
  channelIdTemplate: string;
  /** '' is the API's null: the sender joins the channels the campaign creates only. */
  senderMode: '' | SenderMode;
  skipPush: boolean;
  skipWebhook: boolean;
  /** Parts of the templates the form does not edit, sent back unchanged. */
  kept: { attachments: unknown; custom: unknown; channelMembers: string[]; channelCustom: unknown };
}

export type FieldKey =
  | 'name'
  | 'description'
  | 'sender'
  | 'audience'
  | 'message'
  | 'createChannels'
  | 'channelType'
  | 'channelIdTemplate'
  | 'senderMode'
  | 'skipPush'
  | 'skipWebhook';

/** The visible label of each field; API messages name the field by it instead of its path. */
export const FIELD_LABELS: Record<FieldKey, string> = {
  name: 'Name',
  description: 'Description',
  sender: 'Sender',
  audience: 'Audience',
  message: 'Message',
  createChannels: 'Create channels',
  channelType: 'Channel type',
  channelIdTemplate: 'Channel id template',
  senderMode: 'Sender mode',
  skipPush: 'Skip push',
  skipWebhook: 'Skip webhooks',
};

/** Input paths (as ValidationError.path names them, after `input.`) to fields; longest prefix wins. */
const PATH_FIELDS: [string, FieldKey][] = [
  ['name', 'name'],
  ['description', 'description'],
  ['senderId', 'sender'],
  ['segmentIds', 'audience'],
  ['userIds', 'audience'],
  ['messageTemplate', 'message'],
  ['createChannels', 'createChannels'],
  ['channelTemplate.id', 'channelIdTemplate'],
  ['channelTemplate', 'channelType'],
  ['senderMode', 'senderMode'],
  ['skipPush', 'skipPush'],
  ['skipWebhook', 'skipWebhook'],
];

/** The same for TemplatePreviewInput, whose paths name the preview's own fields. */
const PREVIEW_PATH_FIELDS: [string, FieldKey][] = [
  ['text', 'message'],
  ['senderId', 'sender'],
  ['createChannels', 'createChannels'],
  ['channelTemplate.id', 'channelIdTemplate'],
  ['channelTemplate', 'channelType'],
  ['senderMode', 'senderMode'],
];

export const EMPTY_FORM: EditorForm = {
  name: '',
  description: '',
  sender: null,
  audienceKind: 'users',
  segmentIds: [],
  userIdsText: '',
  message: '',
  createChannels: false,
  channelType: '',
  channelIdTemplate: '',
  senderMode: '',
  skipPush: false,
  skipWebhook: false,
  kept: { attachments: [], custom: {}, channelMembers: [], channelCustom: {} },
};

export function formFromCampaign(campaign: EditorCampaignFragment): EditorForm {
  return {
    name: campaign.name,
    description: campaign.description ?? '',
    sender: campaign.senderId ? { id: campaign.senderId, name: campaign.sender?.name ?? null } : null,
    audienceKind: campaign.segmentIds.length > 0 ? 'segments' : 'users',
    segmentIds: campaign.segmentIds,
    userIdsText: campaign.userIds.join('\n'),
    message: campaign.messageTemplate.text,
    createChannels: campaign.createChannels,
    channelType: campaign.channelTemplate?.type ?? '',
    channelIdTemplate: campaign.channelTemplate?.id ?? '',
    senderMode: campaign.senderMode ?? '',
    skipPush: campaign.skipPush,
    skipWebhook: campaign.skipWebhook,
    kept: {
      attachments: campaign.messageTemplate.attachments,
      custom: campaign.messageTemplate.custom,
      channelMembers: campaign.channelTemplate?.members ?? [],
      channelCustom: campaign.channelTemplate?.custom ?? {},
    },
  };
}

/** Ids pasted one per line or comma-separated (a CSV column reads the same), duplicates dropped. */
export function parseUserIds(text: string): string[] {
  const ids = text
    .split(/[\n\r,;]+/)
    .map((id) => id.trim().replace(/^"(.*)"$/, '$1').trim())
    .filter(Boolean);
  return [...new Set(ids)];
}

/**
 * The input of a save; the same for create and update (update replaces every field the form
 * shows). Both audience lists are sent so switching kind clears the other one. Nothing is
 * checked here: the API's errors are shown at their fields, in its words.
 */
export function inputFromForm(form: EditorForm): CreateCampaignInput {
  const useSegments = form.audienceKind === 'segments';
  const channelType = form.channelType.trim();
  const channelId = form.channelIdTemplate.trim();
  // A checked Create channels without a type still sends the template, so the API names Channel type.
  const wantsChannel = channelType !== '' || channelId !== '' || form.createChannels;
  return {
    name: form.name,
    description: form.description.trim() === '' ? null : form.description,
    senderId: form.sender?.id ?? '',
    segmentIds: useSegments ? form.segmentIds : [],
    userIds: useSegments ? [] : parseUserIds(form.userIdsText),
    messageTemplate: { text: form.message, attachments: form.kept.attachments, custom: form.kept.custom },
    createChannels: form.createChannels,
    channelTemplate: wantsChannel
      ? { type: channelType, id: channelId === '' ? null : channelId, members: form.kept.channelMembers, custom: form.kept.channelCustom }
      : null,
    senderMode: form.senderMode === '' ? null : form.senderMode,
    skipPush: form.skipPush,
    skipWebhook: form.skipWebhook,
  };
}

export interface SaveErrors {
  fields: Partial<Record<FieldKey, string[]>>;
  /** Errors no field is named for (conflicts, state, paths the form has no field for). */
  general: string[];
}

function fieldOfPath(path: string, table = PATH_FIELDS): FieldKey | null {
  const rest = path.replace(/^input\./, '');
  for (const [prefix, field] of table) {
    if (rest === prefix || rest.startsWith(`${prefix}.`) || rest.startsWith(`${prefix}[`)) return field;
  }
  return null;
}

/** Puts an API error next to the field its path names, with the path replaced by the field's label. */
export function placeError(error: SaveErrorFragment, table = PATH_FIELDS): SaveErrors {
  const paths = 'path' in error ? (error.path ?? []) : [];
  const fields: SaveErrors['fields'] = {};
  let placed = false;
  for (const path of paths) {
    const field = fieldOfPath(path, table);
    if (!field) continue;
    placed = true;
    const words = error.message.split(path).join(FIELD_LABELS[field]);
    fields[field] = [...(fields[field] ?? []), words];
  }
  return { fields, general: placed ? [] : [error.message] };
}

/**
 * What Preview asks the API to render: the form's current message, sender and channel
 * settings (exactly what a save would send) for one recipient.
 */
export function previewInputFromForm(form: EditorForm, recipient: { userId: string } | { channelCid: string }): TemplatePreviewInput {
  const input = inputFromForm(form);
  return {
    text: input.messageTemplate.text,
    senderId: input.senderId,
    createChannels: input.createChannels,
    channelTemplate: input.channelTemplate,
    senderMode: input.senderMode,
    ...recipient,
  };
}

/**
 * A refused preview (a top-level error: `extensions.path` lists its input paths, comma-separated)
 * at the editor's fields; what names no field (the recipient) stays general, for the preview to show.
 */
export function placePreviewError(message: string, path: unknown): SaveErrors {
  const paths = typeof path === 'string' && path !== '' ? path.split(', ') : [];
  return placeError({ code: 'VALIDATION', message, path: paths }, PREVIEW_PATH_FIELDS);
}
