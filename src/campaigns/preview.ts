/**
 * Message previews: the text one recipient would get, rendered exactly as delivery renders
 * it, for a saved campaign or for an unsaved template an editor is typing. Exactness comes
 * from running delivery's own code — the plan, the conversation (which channel, and whether
 * it is the recipient's own, so `user.*` may render: plan.ts `perRecipient`), renderMessage —
 * inside a transaction that is always rolled back: channels it would create or join are
 * never committed, and no message is written (nothing is inserted at all). A second,
 * read-only copy of the membership rules could drift from delivery; this cannot.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { openChannelConversations, openUserConversations, type OpenedConversations } from '../delivery/conversations.js';
import { renderMessage } from '../delivery/messages.js';
import { buildDeliveryPlan, loadDeliveryPlan, loadPeople, type DeliveryPlan } from '../delivery/plan.js';
import { checkChannelTemplate, checkMessageTemplate, type ChannelTemplateInput } from './input.js';

/** What a recipient would read. */
export interface MessagePreview {
  text: string;
  channelCid: string;
  /** Whether `user.*` rendered the recipient (a conversation of its own); else those tags rendered ''. */
  personalized: boolean;
}

/** Who the preview is for: a user (user campaigns) or a channel cid (channel campaigns). */
export interface PreviewTarget {
  userId?: string | null;
  channelCid?: string | null;
}

/** An unsaved campaign message: what the editor holds. */
export interface TemplateDraft extends PreviewTarget {
  text: string;
  senderId: string;
  channelTemplate?: ChannelTemplateInput | null;
  createChannels?: boolean | null;
  senderMode?: 'EXCLUDE' | 'INCLUDE' | null;
}

/** Thrown to roll the preview transaction back, carrying its result out. */
class RolledBack {
  constructor(readonly preview: MessagePreview) {}
}

/** One of userId / channelCid, at `<path>userId` / `<path>channelCid`. */
function checkTarget(target: PreviewTarget, path: string): { kind: 'user' | 'channel'; id: string } {
  const { userId, channelCid } = target;
  if ((userId == null) === (channelCid == null)) {
    throw new ValidationError('Give exactly one of userId (user campaigns) and channelCid (channel campaigns)', [`${path}userId`, `${path}channelCid`]);
  }
  return userId != null ? { kind: 'user', id: userId } : { kind: 'channel', id: channelCid! };
}

/** Renders for the target inside a transaction that never commits. */
async function render(prisma: PrismaClient, plan: DeliveryPlan, target: { kind: 'user' | 'channel'; id: string }, path: string): Promise<MessagePreview> {
  const sender = plan.sender!;
  const at = `${path}${target.kind === 'user' ? 'userId' : 'channelCid'}`;
  try {
    await prisma.$transaction(async (tx) => {
      let opened: OpenedConversations;
      let receiver = null;
      if (target.kind === 'user') {
        receiver = (await loadPeople(tx, [target.id])).get(target.id) ?? null;
        if (!receiver) throw new ValidationError(`User ${target.id} does not exist`, at);
        if (receiver.id === sender.id) throw new ValidationError('The sender is never sent its own campaign', at);
        opened = await openUserConversations(tx, plan, sender, [receiver]);
      } else {
        opened = await openChannelConversations(tx, plan, sender, [target.id]);
      }
      const conversation = opened.byKey.get(target.id)!;
      if (!conversation.ok) throw new ValidationError(`Delivery would fail for ${target.id}: ${conversation.error}`, at);
      const text = renderMessage(plan, sender, conversation, receiver);
      throw new RolledBack({ text, channelCid: conversation.channel.cid, personalized: conversation.oneToOne });
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.preview;
    throw error;
  }
  throw new Error('unreachable: the preview transaction always rolls back');
}

/** Whether the campaign's audience is channels (CHANNEL segments), users, or not chosen yet. */
async function audienceKind(prisma: PrismaClient, campaignId: string): Promise<'user' | 'channel' | null> {
  const campaign = await prisma.campaign.findUnique({
    where: { id: campaignId },
    select: { userIds: true, segments: { select: { segment: { select: { type: true } } }, take: 1 } },
  });
  const type = campaign?.segments[0]?.segment.type;
  if (type) return type === 'CHANNEL' ? 'channel' : 'user';
  return campaign?.userIds.length ? 'user' : null;
}

/** Previews a saved campaign's message for one recipient; sends and writes nothing. */
export async function previewCampaign(prisma: PrismaClient, campaignId: string, target: PreviewTarget): Promise<MessagePreview> {
  const wanted = checkTarget(target, '');
  const plan = await loadDeliveryPlan(prisma, campaignId);
  if (!plan) throw new NotFoundError(`Campaign ${campaignId} does not exist`, 'id');
  if (!plan.sender) throw new InvalidStateError(`Campaign ${campaignId} has no sender (it was deleted)`, 'id');
  const kind = await audienceKind(prisma, campaignId);
  if (kind !== null && kind !== wanted.kind) {
    const field = wanted.kind === 'user' ? 'userId' : 'channelCid';
    throw new ValidationError(`Campaign ${campaignId} targets ${kind === 'user' ? 'users: give userId' : 'channels: give channelCid'}`, field);
  }
  return render(prisma, plan, wanted, '');
}

/** Previews an unsaved message template (errors at `input.…`); sends and writes nothing. */
export async function previewTemplate(prisma: PrismaClient, draft: TemplateDraft): Promise<MessagePreview> {
  const path = 'input.';
  const messageTemplate = checkMessageTemplate({ text: draft.text }, 'input');
  const channelTemplate = draft.channelTemplate == null ? null : checkChannelTemplate(draft.channelTemplate, `${path}channelTemplate`);
  const createChannels = draft.createChannels ?? false;
  if (createChannels && !channelTemplate) {
    throw new ValidationError('channelTemplate is required when createChannels is true', `${path}channelTemplate`);
  }
  const wanted = checkTarget(draft, path);
  const sender = (await loadPeople(prisma, [draft.senderId])).get(draft.senderId);
  if (!sender) throw new ValidationError(`User ${draft.senderId} does not exist`, `${path}senderId`);
  const plan = buildDeliveryPlan(
    { campaignId: 'preview', sender, senderMode: draft.senderMode ?? null, createChannels, messageTemplate, channelTemplate },
    'input',
  );
  return render(prisma, plan, wanted, path);
}
