/**
 * The campaign state machine — the one transition table every path that changes a
 * campaign's status goes through (mutations, delivery jobs, stop-at timers).
 *
 *   DRAFT ──start──────────────────────────▶ IN_PROGRESS ──complete──▶ COMPLETED
 *   DRAFT ──schedule──▶ SCHEDULED ──begin──▶ IN_PROGRESS ──stop──────▶ STOPPED
 *                       SCHEDULED ──stop───▶ STOPPED     ──resume────▶ IN_PROGRESS
 *                       SCHEDULED ──fail───▶ FAILED ◀──fail── IN_PROGRESS
 *                       COMPLETED ──retry──▶ IN_PROGRESS (retryFailedRecipients)
 *
 * `start` and `schedule` are the two outcomes of startCampaign (`scheduledFor` now or in the
 * future; see `startAction`). FAILED is final; COMPLETED only re-opens to retry its
 * ERRORED recipients; STOPPED only resumes. Any
 * other move is INVALID_STATE. A campaign is editable while DRAFT or SCHEDULED, and
 * deletable unless IN_PROGRESS (deleting a SCHEDULED one leaves its stale job a no-op).
 *
 * The database is the source of truth: `transitionCampaign` moves a row only if its
 * current status allows the action, in one UPDATE, so two workers (or a stop racing a
 * completion) cannot both win. The actions in ANNOUNCED also write their webhook to the
 * outbox in the same transaction (./webhook-event.ts) when webhooks are configured.
 */
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { CampaignStatus } from '../generated/prisma/enums.js';
import { recordWebhook, type CampaignWebhookType } from './webhook-event.js';

/** What can happen to a campaign. */
export type CampaignAction = 'start' | 'schedule' | 'begin' | 'complete' | 'stop' | 'resume' | 'retry' | 'fail';

interface Transition {
  readonly from: readonly CampaignStatus[];
  readonly to: CampaignStatus;
}

const { DRAFT, SCHEDULED, IN_PROGRESS, COMPLETED, STOPPED, FAILED } = CampaignStatus;

/** The transition table: each action, the statuses it may leave, the status it enters. */
export const TRANSITIONS: Readonly<Record<CampaignAction, Transition>> = {
  start: { from: [DRAFT], to: IN_PROGRESS },
  schedule: { from: [DRAFT], to: SCHEDULED },
  begin: { from: [SCHEDULED], to: IN_PROGRESS },
  complete: { from: [IN_PROGRESS], to: COMPLETED },
  stop: { from: [SCHEDULED, IN_PROGRESS], to: STOPPED },
  resume: { from: [STOPPED], to: IN_PROGRESS },
  retry: { from: [COMPLETED], to: IN_PROGRESS },
  fail: { from: [SCHEDULED, IN_PROGRESS], to: FAILED },
};

/**
 * Where a committed transition is reported (live events and the webhook sender; wired in
 * src/delivery/hooks.ts). Every path that changes a campaign's status — mutations and
 * delivery jobs alike — reports through `reportTransition`.
 */
export interface TransitionHooks {
  /** After any committed status or counter change. */
  changed(campaignId: string, status: CampaignStatus): void;
  /** After a committed transition that webhooks announce: wakes the outbox sender. */
  announce(type: CampaignWebhookType, campaignId: string): void;
  /** Whether announced transitions write their webhook to the outbox (BEACON_WEBHOOK_URL is set). */
  readonly webhooks: boolean;
}

/** Reports a committed transition: a live event, and the webhook the action announces. */
export function reportTransition(hooks: TransitionHooks, campaignId: string, action: CampaignAction): void {
  hooks.changed(campaignId, TRANSITIONS[action].to);
  const type = ANNOUNCED[action];
  if (type && hooks.webhooks) hooks.announce(type, campaignId);
}

/** The webhook each announcing action sends (spec §7); the other actions send none. */
export const ANNOUNCED: Readonly<Partial<Record<CampaignAction, CampaignWebhookType>>> = {
  start: 'campaign.started',
  begin: 'campaign.started',
  complete: 'campaign.completed',
  stop: 'campaign.stopped',
};

/** Statuses in which a campaign's settings may still change. */
export const UPDATABLE_STATUSES: readonly CampaignStatus[] = [DRAFT, SCHEDULED];
/** Statuses in which a campaign may not be deleted (delivery is running). */
export const UNDELETABLE_STATUSES: readonly CampaignStatus[] = [IN_PROGRESS];

/** Whether updateCampaign may change a campaign in this status. */
export function canUpdate(status: CampaignStatus): boolean {
  return UPDATABLE_STATUSES.includes(status);
}

/** Whether deleteCampaign may remove a campaign in this status. */
export function canDelete(status: CampaignStatus): boolean {
  return !UNDELETABLE_STATUSES.includes(status);
}

/** Whether `action` is allowed from `from`. */
export function canTransition(from: CampaignStatus, action: CampaignAction): boolean {
  return TRANSITIONS[action].from.includes(from);
}

/** The status `action` leads to from `from`, or an InvalidStateError saying why not. */
export function assertTransition(from: CampaignStatus, action: CampaignAction, path?: string): CampaignStatus {
  const transition = TRANSITIONS[action];
  if (!transition.from.includes(from)) {
    throw new InvalidStateError(
      `Cannot ${action} a campaign that is ${from}; ${action} is allowed only from ${transition.from.join(' or ')}`,
      path,
    );
  }
  return transition.to;
}

/** Which start action applies: `schedule` when `scheduledFor` is in the future, else `start`. */
export function startAction(scheduledFor: Date | null | undefined, now: Date = new Date()): 'start' | 'schedule' {
  return scheduledFor && scheduledFor.getTime() > now.getTime() ? 'schedule' : 'start';
}

type CampaignDb = PrismaClient | Prisma.TransactionClient;

/**
 * Guarded transition in one UPDATE: moves campaign `id` to the action's status only if its
 * current status allows the action, writing `extra` (timestamps, failureReason) alongside.
 * With `webhooks` (BEACON_WEBHOOK_URL is set), an action in ANNOUNCED also writes its
 * webhook to the outbox, in one transaction with the UPDATE (inside `db`'s when `db` is a
 * transaction): the event commits exactly when the transition does.
 * Returns whether it moved; false means the campaign is missing or in another status.
 */
export async function transitionCampaign(
  db: CampaignDb,
  id: string,
  action: CampaignAction,
  extra: Omit<Prisma.CampaignUpdateManyMutationInput, 'status'> = {},
  /** A further condition the row must meet (e.g. no PENDING recipients left, to complete). */
  condition: Prisma.CampaignWhereInput = {},
  webhooks = false,
): Promise<boolean> {
  const { from, to } = TRANSITIONS[action];
  const announced = webhooks ? ANNOUNCED[action] : undefined;
  const move = async (tx: Prisma.TransactionClient) => {
    const { count } = await tx.campaign.updateMany({ where: { ...condition, id, status: { in: [...from] } }, data: { ...extra, status: to } });
    if (count === 1 && announced) await recordWebhook(tx, announced, id);
    return count === 1;
  };
  // Nothing to write with it, or already inside the caller's transaction. A transaction
  // client still answers to `$transaction` (Prisma forwards the root client's own properties,
  // and src/db/database.ts installs its retrying one there), but never has `$connect`.
  if (!announced || !('$connect' in db)) return move(db as Prisma.TransactionClient);
  // The UPDATE may wait on the campaign's row lock as long as a plain one would (e.g. for a
  // lock held by another client), so Prisma's 2 s / 5 s defaults do not apply.
  return (db as PrismaClient).$transaction(move, { maxWait: 30_000, timeout: 600_000 });
}

/**
 * Like transitionCampaign, but throws: NOT_FOUND when the campaign does not exist,
 * INVALID_STATE (naming its current status) when the action is not allowed from it.
 * Returns the new status.
 */
export async function requireTransition(
  db: CampaignDb,
  id: string,
  action: CampaignAction,
  extra: Omit<Prisma.CampaignUpdateManyMutationInput, 'status'> = {},
  webhooks = false,
  path = 'id',
): Promise<CampaignStatus> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await transitionCampaign(db, id, action, extra, {}, webhooks)) return TRANSITIONS[action].to;
    const current = await db.campaign.findUnique({ where: { id }, select: { status: true } });
    if (!current) throw new NotFoundError(`Campaign ${id} does not exist`, path);
    assertTransition(current.status, action, path);
    // Allowed now: the status changed between the UPDATE and the read; try again.
  }
  throw new InvalidStateError(`Campaign ${id} keeps changing status; try ${action} again`, path);
}
