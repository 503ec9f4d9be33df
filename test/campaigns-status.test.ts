import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { InvalidStateError, NotFoundError } from '../src/errors.js';
import { CampaignStatus } from '../src/generated/prisma/enums.js';
import {
  ANNOUNCED,
  TRANSITIONS,
  assertTransition,
  canDelete,
  canTransition,
  canUpdate,
  requireTransition,
  startAction,
  transitionCampaign,
  type CampaignAction,
} from '../src/campaigns/status.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const STATUSES = Object.values(CampaignStatus);
const ACTIONS = Object.keys(TRANSITIONS) as CampaignAction[];

// The spec's lifecycle, written out independently of the table under test.
const ALLOWED: Record<string, CampaignStatus> = {
  'DRAFT start': 'IN_PROGRESS',
  'DRAFT schedule': 'SCHEDULED',
  'SCHEDULED begin': 'IN_PROGRESS',
  'IN_PROGRESS complete': 'COMPLETED',
  'IN_PROGRESS stop': 'STOPPED',
  'SCHEDULED stop': 'STOPPED',
  'IN_PROGRESS fail': 'FAILED',
  'SCHEDULED fail': 'FAILED',
  'STOPPED resume': 'IN_PROGRESS',
  'COMPLETED retry': 'IN_PROGRESS',
};

// One app for the file's database tests (the transition table needs none).
let t: TestApp;
let prisma: PrismaClient;
beforeAll(async () => {
  t = await startTestApp();
  prisma = t.app.db.prisma;
});
afterAll(() => t?.close());

describe('the transition table', () => {
  const cases = STATUSES.flatMap((from) => ACTIONS.map((action) => [from, action] as const));

  test.each(cases)('%s → %s is allowed exactly when the lifecycle allows it', (from, action) => {
    const expected = ALLOWED[`${from} ${action}`];
    expect(canTransition(from, action)).toBe(expected !== undefined);
    if (expected) {
      expect(assertTransition(from, action)).toBe(expected);
    } else {
      expect(() => assertTransition(from, action)).toThrow(InvalidStateError);
    }
  });

  test('a refused transition says what was tried, from where, and what is allowed', () => {
    let error: unknown;
    try {
      assertTransition('COMPLETED', 'resume', 'id');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as InvalidStateError).message).toBe('Cannot resume a campaign that is COMPLETED; resume is allowed only from STOPPED');
    expect((error as InvalidStateError).path).toEqual(['id']);
  });

  test('FAILED is final and COMPLETED only re-opens to retry', () => {
    for (const action of ACTIONS) {
      expect(canTransition('COMPLETED', action)).toBe(action === 'retry');
      expect(canTransition('FAILED', action)).toBe(false);
    }
  });

  test('campaigns are editable while DRAFT or SCHEDULED and deletable unless IN_PROGRESS', () => {
    expect(STATUSES.filter(canUpdate)).toEqual(['DRAFT', 'SCHEDULED']);
    expect(STATUSES.filter((s) => !canDelete(s))).toEqual(['IN_PROGRESS']);
  });

  test('start and begin announce campaign.started, complete campaign.completed, stop campaign.stopped; nothing else announces', () => {
    expect(ANNOUNCED).toEqual({ start: 'campaign.started', begin: 'campaign.started', complete: 'campaign.completed', stop: 'campaign.stopped' });
  });

  test('startAction schedules only a start time in the future', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    expect(startAction(null, now)).toBe('start');
    expect(startAction(new Date('2026-06-01T11:59:59Z'), now)).toBe('start');
    expect(startAction(now, now)).toBe('start');
    expect(startAction(new Date('2026-06-01T12:00:01Z'), now)).toBe('schedule');
  });
});

describe('guarded transitions in the database', () => {
  const make = (id: string, status: CampaignStatus) =>
    prisma.campaign.create({ data: { id, name: id, status, messageTemplate: { text: 'hi' } } });
  const statusOf = async (id: string) => (await prisma.campaign.findUniqueOrThrow({ where: { id } })).status;

  test('transitionCampaign moves an allowed campaign and writes the extra columns with it', async () => {
    await make('g-1', 'IN_PROGRESS');
    const completedAt = new Date('2026-05-01T00:00:00Z');
    expect(await transitionCampaign(prisma, 'g-1', 'complete', { completedAt })).toBe(true);
    const row = await prisma.campaign.findUniqueOrThrow({ where: { id: 'g-1' } });
    expect(row).toMatchObject({ status: 'COMPLETED', completedAt });
  });

  test('transitionCampaign leaves a campaign in another status untouched and says so', async () => {
    await make('g-2', 'DRAFT');
    expect(await transitionCampaign(prisma, 'g-2', 'complete', { completedAt: new Date() })).toBe(false);
    const row = await prisma.campaign.findUniqueOrThrow({ where: { id: 'g-2' } });
    expect(row).toMatchObject({ status: 'DRAFT', completedAt: null });
    expect(await transitionCampaign(prisma, 'missing', 'start')).toBe(false);
  });

  test('of two racing transitions from one status, exactly one wins', async () => {
    await make('g-3', 'IN_PROGRESS');
    const results = await Promise.all([
      transitionCampaign(prisma, 'g-3', 'stop'),
      transitionCampaign(prisma, 'g-3', 'complete'),
      transitionCampaign(prisma, 'g-3', 'fail', { failureReason: 'x' }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(['STOPPED', 'COMPLETED', 'FAILED']).toContain(await statusOf('g-3'));
  });

  test('transitionCampaign works inside a transaction and rolls back with it', async () => {
    await make('g-4', 'STOPPED');
    await expect(
      prisma.$transaction(async (tx) => {
        expect(await transitionCampaign(tx, 'g-4', 'resume')).toBe(true);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await statusOf('g-4')).toBe('STOPPED');
  });

  test('requireTransition returns the new status, or NOT_FOUND / INVALID_STATE naming the current one', async () => {
    await make('g-5', 'SCHEDULED');
    expect(await requireTransition(prisma, 'g-5', 'begin')).toBe('IN_PROGRESS');
    await expect(requireTransition(prisma, 'g-5', 'begin')).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: 'Cannot begin a campaign that is IN_PROGRESS; begin is allowed only from SCHEDULED',
      path: ['id'],
    });
    await expect(requireTransition(prisma, 'nope', 'stop')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('the webhook event a transition writes with it', () => {
  const make = (id: string, status: CampaignStatus, extra: { skipWebhook?: boolean } = {}) =>
    prisma.campaign.create({ data: { id, name: id, status, messageTemplate: { text: 'hi' }, ...extra } });
  const events = (campaignId: string) => prisma.webhookOutbox.findMany({ where: { campaignId }, orderBy: { seq: 'asc' } });

  test('an announcing transition writes exactly one event, with the campaign as the transition left it', async () => {
    await make('w-1', 'IN_PROGRESS');
    const completedAt = new Date('2026-05-01T00:00:00Z');
    expect(await transitionCampaign(prisma, 'w-1', 'complete', { completedAt }, {}, true)).toBe(true);
    const [event, ...more] = await events('w-1');
    expect(more).toEqual([]);
    expect(event).toMatchObject({ type: 'campaign.completed', attempts: 0, deliveredAt: null, nextAttemptAt: expect.any(Date) });
    expect(event!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(event!.payload).toMatchObject({ id: 'w-1', status: 'COMPLETED', completed_at: completedAt.toISOString(), segment_ids: [], stats: { progress: 1 } });
    // A later change to the campaign does not change the event already written.
    await prisma.campaign.update({ where: { id: 'w-1' }, data: { name: 'renamed' } });
    expect((await events('w-1'))[0]!.payload).toMatchObject({ name: 'w-1' });
  });

  test('a transition whose guard fails writes nothing; nor does one without webhooks, a silent action, or a skipWebhook campaign', async () => {
    await make('w-2', 'DRAFT');
    expect(await transitionCampaign(prisma, 'w-2', 'complete', {}, {}, true)).toBe(false);
    await expect(requireTransition(prisma, 'w-2', 'stop', {}, true)).rejects.toBeInstanceOf(InvalidStateError);
    expect(await events('w-2')).toEqual([]);
    expect(await transitionCampaign(prisma, 'w-2', 'start')).toBe(true);
    expect(await transitionCampaign(prisma, 'w-2', 'fail', {}, {}, true)).toBe(true);
    await make('w-3', 'STOPPED');
    expect(await transitionCampaign(prisma, 'w-3', 'resume', {}, {}, true)).toBe(true);
    await make('w-4', 'IN_PROGRESS', { skipWebhook: true });
    expect(await transitionCampaign(prisma, 'w-4', 'complete', {}, {}, true)).toBe(true);
    expect(await prisma.webhookOutbox.count({ where: { campaignId: { in: ['w-2', 'w-3', 'w-4'] } } })).toBe(0);
  });

  test('of racing transitions, only the winner writes its event', async () => {
    await make('w-5', 'IN_PROGRESS');
    const results = await Promise.all([
      transitionCampaign(prisma, 'w-5', 'stop', {}, {}, true),
      transitionCampaign(prisma, 'w-5', 'complete', {}, {}, true),
      transitionCampaign(prisma, 'w-5', 'complete', {}, {}, true),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const status = (await prisma.campaign.findUniqueOrThrow({ where: { id: 'w-5' } })).status;
    expect((await events('w-5')).map((e) => e.type)).toEqual([status === 'STOPPED' ? 'campaign.stopped' : 'campaign.completed']);
  });

  test('inside a transaction the event commits or rolls back with it', async () => {
    await make('w-6', 'IN_PROGRESS');
    await expect(
      prisma.$transaction(async (tx) => {
        expect(await transitionCampaign(tx, 'w-6', 'stop', { stoppedAt: new Date() }, {}, true)).toBe(true);
        expect(await tx.webhookOutbox.count({ where: { campaignId: 'w-6' } })).toBe(1);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await prisma.campaign.findUniqueOrThrow({ where: { id: 'w-6' } })).status).toBe('IN_PROGRESS');
    expect(await events('w-6')).toEqual([]);
    await prisma.$transaction((tx) => transitionCampaign(tx, 'w-6', 'stop', { stoppedAt: new Date() }, {}, true));
    expect((await events('w-6')).map((e) => e.type)).toEqual(['campaign.stopped']);
  });

  test('a failed event write rolls the transition back', async () => {
    await make('w-7', 'IN_PROGRESS');
    // A trigger that refuses the insert stands in for any failure after the UPDATE.
    await prisma.$executeRawUnsafe(`
      CREATE FUNCTION refuse_w7() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.campaign_id = 'w-7' THEN RAISE EXCEPTION 'outbox refused'; END IF; RETURN NEW; END $$`);
    await prisma.$executeRawUnsafe('CREATE TRIGGER refuse_w7 BEFORE INSERT ON webhook_outbox FOR EACH ROW EXECUTE FUNCTION refuse_w7()');
    try {
      await expect(transitionCampaign(prisma, 'w-7', 'complete', {}, {}, true)).rejects.toThrow(/outbox refused/);
      expect((await prisma.campaign.findUniqueOrThrow({ where: { id: 'w-7' } })).status).toBe('IN_PROGRESS');
    } finally {
      await prisma.$executeRawUnsafe('DROP TRIGGER refuse_w7 ON webhook_outbox');
      await prisma.$executeRawUnsafe('DROP FUNCTION refuse_w7()');
    }
  });
});
