import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { CampaignTimelineDefaultDocument, CampaignTimelineDocument } from './generated/graphql.js';

let t: TestApp;
const prisma = () => t.app.db.prisma;
const T0 = Date.parse('2026-11-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

beforeAll(async () => {
  t = await startTestApp();
  await prisma().user.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ id: `u${i}` })) });
});
afterAll(() => t?.close());

let seq = 0;
/** A campaign with one recipient per entry of `sent` (seconds after T0, or null: not sent). */
async function campaign(fields: Record<string, unknown>, sent: (number | null)[]): Promise<string> {
  const id = `timeline-${++seq}`;
  await prisma().campaign.create({ data: { id, name: id, messageTemplate: { text: 'hi' }, ...fields } });
  await prisma().recipient.createMany({
    data: sent.map((s, i) => ({ campaignId: id, userId: `u${i}`, status: s === null ? 'PENDING' : 'SENT', sentAt: s === null ? null : at(s) })),
  });
  return id;
}

async function timeline(id: string, buckets: number) {
  const { campaign } = await t.ok(CampaignTimelineDocument, { id, buckets });
  return campaign!.timeline;
}

describe('Campaign.timeline', () => {
  test('counts sends per bucket between startedAt and completedAt; the upper bound falls in the last bucket', async () => {
    const id = await campaign({ status: 'COMPLETED', startedAt: at(0), completedAt: at(100) }, [0, 5, 24.999, 25, 60, 99, 100, null]);
    const buckets = await timeline(id, 4);
    expect(buckets).toEqual([
      { start: at(0).toISOString(), end: at(25).toISOString(), sent: 3 },
      { start: at(25).toISOString(), end: at(50).toISOString(), sent: 1 },
      { start: at(50).toISOString(), end: at(75).toISOString(), sent: 1 },
      { start: at(75).toISOString(), end: at(100).toISOString(), sent: 2 },
    ]);
  });

  test('the default is 60 buckets; their sum is every send', async () => {
    const id = await campaign({ status: 'COMPLETED', startedAt: at(0), completedAt: at(600) }, [1, 2, 3, 300, 599]);
    const { campaign: c } = await t.ok(CampaignTimelineDefaultDocument, { id });
    expect(c!.timeline).toHaveLength(60);
    expect(c!.timeline.reduce((sum, b) => sum + b.sent, 0)).toBe(5);
  });

  test('a running campaign runs to now; a stopped one to stoppedAt; never before the last send', async () => {
    const running = await campaign({ status: 'IN_PROGRESS', startedAt: new Date(Date.now() - 60_000) }, [null]);
    const live = await timeline(running, 3);
    expect(Date.parse(live[2]!.end)).toBeGreaterThan(Date.now() - 5_000);
    const stopped = await campaign({ status: 'STOPPED', startedAt: at(0), stoppedAt: at(10) }, [1, 30]);
    const buckets = await timeline(stopped, 2);
    expect(buckets.map((b) => [b.end, b.sent])).toEqual([
      [at(15).toISOString(), 1],
      [at(30).toISOString(), 1],
    ]);
  });

  test('empty before the campaign starts', async () => {
    const id = await campaign({}, [null, null]);
    expect(await timeline(id, 10)).toEqual([]);
  });

  test.each([0, 501, -3])('buckets %i is VALIDATION at path buckets', async (buckets) => {
    const id = await campaign({ status: 'COMPLETED', startedAt: at(0), completedAt: at(1) }, []);
    const response = await t.gql(CampaignTimelineDocument, { id, buckets });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', path: 'buckets' });
  });

  test('500 buckets are allowed', async () => {
    const id = await campaign({ status: 'COMPLETED', startedAt: at(0), completedAt: at(1000) }, [999.9]);
    const buckets = await timeline(id, 500);
    expect(buckets).toHaveLength(500);
    expect(buckets[499]!.sent).toBe(1);
  });
});
