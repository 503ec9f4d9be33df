/** `campaignPreview` and `templatePreview`: a message as one recipient would get it, sending nothing. */
import { builder } from '../graphql/builder.js';
import { SenderModeEnum } from './enums.js';
import { MAX_TEMPLATE_MEMBERS } from './input.js';
import { previewCampaign, previewTemplate, type MessagePreview } from './preview.js';
import { ChannelTemplateInput } from './schema.js';

const MessagePreviewRef = builder.objectRef<MessagePreview>('MessagePreview').implement({
  description: 'The message one recipient would get, rendered exactly as delivery renders it.',
  fields: (t) => ({
    text: t.exposeString('text', { description: 'The rendered text.' }),
    channelCid: t.exposeString('channelCid', { description: 'The channel delivery would post into (it may not exist yet: delivery would create it).' }),
    personalized: t.exposeBoolean('personalized', {
      description: 'Whether `user.*` tags rendered this recipient: true only in a conversation of its own. In channels several recipients may share, those tags render empty.',
    }),
  }),
});

const TemplatePreviewInput = builder.inputType('TemplatePreviewInput', {
  description: 'An unsaved campaign message (what an editor holds) and the recipient to preview it for: userId or channelCid.',
  fields: (t) => ({
    text: t.string({ required: true, description: 'Template of the text, as in MessageTemplateInput.text.' }),
    senderId: t.id({ required: true, description: 'The existing user who would send it.' }),
    channelTemplate: t.field({ type: ChannelTemplateInput, description: `The channel to post into, as in CreateCampaignInput (members: at most ${MAX_TEMPLATE_MEMBERS}).` }),
    createChannels: t.boolean({ description: 'Whether delivery would create a missing channel (default false: the channel must exist).' }),
    senderMode: t.field({ type: SenderModeEnum, description: 'Whether the sender joins target channels; null: new channels only.' }),
    userId: t.id({ description: 'The user to preview for (user campaigns).' }),
    channelCid: t.id({ description: 'The channel to preview for (channel campaigns).' }),
  }),
});

const previewErrors =
  'Sends and writes nothing. Failures are top-level errors with `extensions.code` and `extensions.path`: VALIDATION for a template error (at its field, naming the tag), ' +
  'an unknown recipient, neither or both of userId and channelCid, or a recipient delivery would fail for (e.g. no channel and createChannels false)';

builder.queryFields((t) => ({
  campaignPreview: t.field({
    type: MessagePreviewRef,
    description: `A saved campaign’s message as one recipient would get it: a user (user campaigns) or a channel (channel campaigns). ${previewErrors}; NOT_FOUND for an unknown campaign (path \`id\`).`,
    args: {
      id: t.arg.id({ required: true, description: 'The campaign.' }),
      userId: t.arg.id({ description: 'The user to preview for (user campaigns).' }),
      channelCid: t.arg.id({ description: 'The channel to preview for (channel campaigns).' }),
    },
    resolve: (_root, args, ctx) =>
      previewCampaign(ctx.prisma, String(args.id), {
        userId: args.userId == null ? null : String(args.userId),
        channelCid: args.channelCid == null ? null : String(args.channelCid),
      }),
  }),
  templatePreview: t.field({
    type: MessagePreviewRef,
    description: `An unsaved message template as one recipient would get it, so an editor can preview while typing. ${previewErrors}; paths start with \`input.\`.`,
    args: { input: t.arg({ type: TemplatePreviewInput, required: true, description: 'The draft and the recipient.' }) },
    resolve: (_root, args, ctx) =>
      previewTemplate(ctx.prisma, {
        ...args.input,
        senderId: String(args.input.senderId),
        userId: args.input.userId == null ? null : String(args.input.userId),
        channelCid: args.input.channelCid == null ? null : String(args.input.channelCid),
      }),
  }),
}));
