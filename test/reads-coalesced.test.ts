/**
 * Identical reads in flight at once run once (src/graphql/single-flight.ts), a read several
 * clients poll is answered again for BEACON_READ_REUSE_MS, and neither ever hands a request
 * a result read before a write this process completed. A lock on `segments` holds a
 * campaign read between its campaign row and its segments, so what is in flight is known.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { subscribeWs } from './helpers/subscriptions.js';
import { CampaignUpdatedDocument } from './generated/graphql.js';

let t: TestApp;
beforeAll(async () => {
  // No statement timeout: the reads held by a test's lock must wait for as long as it takes.
  // A reuse window far longer than any test: only a write, never its end, makes a kept answer too old.
  t = await startTestApp({ logs: 'debug', recordQueries: true, env: { BEACON_QUERY_TIMEOUT_MS: '0', BEACON_READ_REUSE_MS: '60000' } });
});
afterAll(() => t?.close());

const READ = `query ($id: ID!) { campaign(id: $id) { id name segments { id name } } }`;
let seq = 0;

/** A DRAFT campaign over one segment, by Prisma; returns its id. */
async function newCampaign(): Promise<string> {
  const id = `flight-${process.pid}-${++seq}`;
  const prisma = t.app.db.prisma;
  await prisma.segment.create({ data: { id: `${id}-segment`, type: 'USER', name: 'Everyone', allUsers: true } });
  await prisma.campaign.create({ data: { id, name: 'Before', messageTemplate: { text: 'Hi' }, segments: { create: [{ segmentId: `${id}-segment`, position: 0 }] } } });
  // Once without a lock: the API's client has compiled its queries before a test holds one.
  expect((await t.raw(READ, { id })).data.campaign.name).toBe('Before');
  return id;
}

/** Holds every read of `segments` until `release()`; `blocked(n)` resolves once n reads wait on it. */
async function lockSegments() {
  const client = new pg.Client({ connectionString: t.app.db.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE segments IN ACCESS EXCLUSIVE MODE');
  return {
    async blocked(n: number) {
      for (;;) {
        // pg_locks, not pg_stat_activity: a statement blocked while it is parsed still shows the previous one there.
        const { rows } = await client.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_locks
           WHERE NOT granted AND relation = 'segments'::regclass AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        if (rows[0]!.waiting >= n) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async release() {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

const joined = () => t.logs.filter((entry) => entry.msg === 'read joined an identical one in flight').length;

async function until(check: () => boolean) {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** READ of `id`, held by a lock on segments while three identical requests join it; all four responses. */
async function threeJoinOne(id: string) {
  const lock = await lockSegments();
  const first = t.raw(READ, { id });
  await lock.blocked(1);
  const before = joined();
  const others = [t.raw(READ, { id }), t.raw(READ, { id }), t.raw(READ, { id })];
  await until(() => joined() === before + 3);
  await lock.release();
  return Promise.all([first, ...others]);
}

describe('identical reads in flight', () => {
  test('run once: requests arriving while the first runs get its result', async () => {
    const id = await newCampaign();
    const { result, queries } = await t.queriesDuring(() => threeJoinOne(id));
    for (const response of result) expect(response).toEqual({ data: { campaign: { id, name: 'Before', segments: [{ id: `${id}-segment`, name: 'Everyone' }] } } });
    // One campaign read, one of its segment links, one of the segments: the first request's.
    expect(queries.filter((q) => /FROM "public"\."campaigns"/.test(q))).toHaveLength(1);
    expect(queries.filter((q) => /FROM "public"\."segments"/.test(q))).toHaveLength(1);
  });

  test('a read that arrives after a mutation completed does not get a result read before it', async () => {
    const id = await newCampaign();
    const lock = await lockSegments();
    const first = t.raw(READ, { id });
    await lock.blocked(1); // its campaign row (name Before) is read; its segments wait
    const renamed = await t.raw(`mutation ($id: ID!) { updateCampaign(id: $id, input: { name: "After" }) { __typename } }`, { id });
    expect(renamed.data).toEqual({ updateCampaign: { __typename: 'UpdateCampaignPayload' } });
    const before = joined();
    const second = t.raw(READ, { id });
    await lock.blocked(2); // ran on its own: it waits on the lock too
    await lock.release();
    expect((await first).data.campaign.name).toBe('Before');
    expect((await second).data.campaign.name).toBe('After');
    expect(joined()).toBe(before);
  });

  test('a read that arrives after a campaign change its subscribers were told of does not get a result read before it', async () => {
    const id = await newCampaign();
    const feed = subscribeWs(t, CampaignUpdatedDocument, { id });
    try {
      await feed.next(); // the initial state
      const lock = await lockSegments();
      const first = t.raw(READ, { id });
      await lock.blocked(1);
      // What delivery does: commit, then report the change; the live hub reads it and tells the subscriber.
      await t.app.db.prisma.campaign.update({ where: { id }, data: { name: 'After' } });
      t.app.events.campaignChanged(id);
      expect((await feed.next()).data?.campaignUpdated?.name).toBe('After');
      const before = joined();
      const second = t.raw(READ, { id });
      await lock.blocked(2);
      await lock.release();
      expect((await first).data.campaign.name).toBe('Before');
      expect((await second).data.campaign.name).toBe('After');
      expect(joined()).toBe(before);
    } finally {
      await feed.close();
    }
  });

  test('a read that fails is not shared: the requests that joined it run on their own', async () => {
    const id = await newCampaign();
    const lock = await lockSegments();
    // `other` fails (VALIDATION) while `campaign` waits on the lock: the result holds an error.
    const failing = `query ($id: ID!) { campaign(id: $id) { id segments { id } } other: campaign(id: $id) { recipients(first: -1) { totalCount } } }`;
    const { result, queries } = await t.queriesDuring(async () => {
      const first = t.raw(failing, { id });
      await lock.blocked(1);
      const before = joined();
      const second = t.raw(failing, { id });
      await until(() => joined() === before + 1);
      await lock.release();
      return Promise.all([first, second]);
    });
    for (const response of result) {
      expect(response.data.campaign).toEqual({ id, segments: [{ id: `${id}-segment` }] });
      expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    }
    // The second ran on its own once the first had failed.
    expect(queries.filter((q) => /FROM "public"\."segments"/.test(q))).toHaveLength(2);
  });
});

describe('answers reused while several clients poll a read', () => {
  const rename = (id: string, name: string) => t.app.db.prisma.$executeRaw`UPDATE campaigns SET name = ${name} WHERE id = ${id}`;

  test('a lone client’s read runs again; once identical reads overlapped, the answer serves them until a write', async () => {
    const id = await newCampaign();
    const other = await newCampaign();
    // One client reading: every read runs (a change made outside the process shows at once).
    await rename(id, 'Lone');
    expect((await t.raw(READ, { id })).data.campaign.name).toBe('Lone');
    // Several clients: three requests join one in flight.
    const before = joined();
    for (const response of await threeJoinOne(id)) expect(response.data.campaign.name).toBe('Lone');
    // Its answer now serves identical requests: a change outside the process is not read yet.
    await rename(id, 'Outside');
    const { result: reused, queries } = await t.queriesDuring(() => t.raw(READ, { id }));
    expect(reused.data.campaign.name).toBe('Lone');
    expect(queries).toEqual([]);
    expect(joined()).toBe(before + 4);
    // Other variables are another read.
    expect((await t.raw(READ, { id: other })).data.campaign.name).toBe('Before');
    // A mutation this process completed (of any campaign): no answer read before it is reused.
    const renamed = await t.raw(`mutation ($id: ID!) { updateCampaign(id: $id, input: { name: "After" }) { __typename } }`, { id: other });
    expect(renamed.data).toEqual({ updateCampaign: { __typename: 'UpdateCampaignPayload' } });
    expect((await t.raw(READ, { id })).data.campaign.name).toBe('Outside');
    expect(joined()).toBe(before + 4);
  });
});
