/**
 * Campaign management: create, update, delete and list (stats: ./stats.ts).
 * Status changes go through ./status.ts; delivery lives elsewhere.
 * Writes re-check the status in the same statement that writes (`updateMany`/`deleteMany`
 * guarded by status), so a campaign that starts meanwhile is never edited or deleted.
 */
import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { ConflictError, InvalidStateError, NotFoundError } from '../errors.js';
import { checkCampaignId, validateCampaignInput, type CampaignChanges, type CampaignInput } from './input.js';
import { UNDELETABLE_STATUSES, UPDATABLE_STATUSES, canUpdate } from './status.js';

type Db = Pick<PrismaClient, 'campaign'>;

/** Throws NOT_FOUND when the campaign is missing, else INVALID_STATE with `why`. */
async function refuse(db: Db, id: string, why: string): Promise<never> {
  const row = await db.campaign.findUnique({ where: { id }, select: { status: true } });
  if (!row) throw new NotFoundError(`Campaign ${id} does not exist`, 'id');
  throw new InvalidStateError(`Campaign ${id} is ${row.status}; ${why}`, 'id');
}

const UPDATE_RULE = `only ${UPDATABLE_STATUSES.join(' or ')} campaigns can be updated`;
const DELETE_RULE = `${UNDELETABLE_STATUSES.join(' or ')} campaigns cannot be deleted; stop them first`;

/** Validated changes as Prisma column data (only the given keys). */
function columns(changes: CampaignChanges) {
  const { segmentIds: _segments, messageTemplate, channelTemplate, ...plain } = changes;
  return {
    ...plain,
    ...(messageTemplate !== undefined ? { messageTemplate: messageTemplate as unknown as Prisma.InputJsonObject } : {}),
    ...(channelTemplate !== undefined ? { channelTemplate: channelTemplate === null ? Prisma.DbNull : (channelTemplate as unknown as Prisma.InputJsonObject) } : {}),
  };
}

const segmentRows = (campaignId: string, segmentIds: readonly string[]) =>
  segmentIds.map((segmentId, position) => ({ campaignId, segmentId, position }));

/** Creates a DRAFT campaign and its segment links in one transaction; returns its id. */
export async function createCampaign(prisma: PrismaClient, input: CampaignInput): Promise<string> {
  const id = input.id == null ? randomUUID() : checkCampaignId(input.id, 'input.id');
  const changes = await validateCampaignInput(prisma, input);
  const data = { id, ...columns(changes) } as Prisma.CampaignCreateManyInput;
  await prisma.$transaction(async (tx) => {
    // ON CONFLICT DO NOTHING (skipDuplicates): a taken id is a CONFLICT, even when two creations race.
    const { count } = await tx.campaign.createMany({ data: [data], skipDuplicates: true });
    if (count === 0) throw new ConflictError(`Campaign id ${id} is already taken`, 'input.id');
    if (changes.segmentIds?.length) await tx.campaignSegment.createMany({ data: segmentRows(id, changes.segmentIds) });
  });
  return id;
}

/** Applies a partial update to a DRAFT or SCHEDULED campaign; returns its id. */
export async function updateCampaign(prisma: PrismaClient, id: string, input: CampaignInput): Promise<string> {
  const current = await prisma.campaign.findUnique({
    where: { id },
    select: { status: true, userIds: true, createChannels: true, channelTemplate: true, segments: { select: { segmentId: true } } },
  });
  if (!current || !canUpdate(current.status)) return refuse(prisma, id, UPDATE_RULE);
  const changes = await validateCampaignInput(prisma, input, {
    segmentIds: current.segments.map((s) => s.segmentId),
    userIds: current.userIds,
    createChannels: current.createChannels,
    hasChannelTemplate: current.channelTemplate !== null,
  });
  await prisma.$transaction(async (tx) => {
    // The guarded UPDATE comes first: it locks the row, so concurrent updates of one
    // campaign (and their segment replacements) run one after the other.
    const { count } = await tx.campaign.updateMany({
      where: { id, status: { in: [...UPDATABLE_STATUSES] } },
      data: { ...columns(changes), updatedAt: new Date() } as Prisma.CampaignUncheckedUpdateManyInput,
    });
    if (count === 0) await refuse(tx, id, UPDATE_RULE);
    if (changes.segmentIds) {
      await tx.campaignSegment.deleteMany({ where: { campaignId: id } });
      await tx.campaignSegment.createMany({ data: segmentRows(id, changes.segmentIds) });
    }
  });
  return id;
}

/** Deletes a campaign that is not IN_PROGRESS, with its recipients (cascade); returns its id. */
export async function deleteCampaign(prisma: PrismaClient, id: string): Promise<string> {
  const { count } = await prisma.campaign.deleteMany({ where: { id, status: { notIn: [...UNDELETABLE_STATUSES] } } });
  if (count === 0) return refuse(prisma, id, DELETE_RULE);
  return id;
}
