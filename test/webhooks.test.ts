/**
 * The webhook outbox sender against a real database and a real HTTP receiver: events are
 * written straight into `webhook_outbox` (the transitions that write them are tested in
 * campaigns-status.test.ts and delivery-webhooks.test.ts) and sent by calling `drain()`,
 * as the `webhooks.send` job does.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../src/logger.js';
import { WebhookOutbox, retryDelay, type WebhookOutboxOptions } from '../src/events/webhook-outbox.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { sleep } from './helpers/delivery-checks.js';

const SECRET = 'webhook-secret-for-tests';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP endpoint that answers each request with the next status of `script` (then 200). */
let server: Server;
let url: string;
let received: Received[] = [];
let script: number[] = [];
let database: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      res.writeHead(script.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  // Dropping the database at the end terminates connections that may still be closing.
  pool.on('error', () => {});
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const senders: WebhookOutbox[] = [];
let logged: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  await pool.query('DELETE FROM webhook_outbox');
  received = [];
  script = [];
  logged = [];
});

const logger: Logger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [level, (msg: string, data?: Record<string, unknown>) => logged.push({ level, msg, data })]),
) as unknown as Logger;

function sender(options: Partial<WebhookOutboxOptions> = {}) {
  const outbox = new WebhookOutbox({ pool, url, secret: SECRET, logger, attempts: 5, retryMs: 20, maxRetryMs: 80, ...options });
  senders.push(outbox);
  return outbox;
}

/** Writes an event as a transition would; returns its id. */
async function enqueue(campaignId: string, type: string, campaign: object = { id: campaignId, status: 'IN_PROGRESS' }): Promise<string> {
  const { rows } = await pool.query<{ id: string }>('INSERT INTO webhook_outbox (type, campaign_id, payload) VALUES ($1, $2, $3) RETURNING id', [
    type,
    campaignId,
    JSON.stringify(campaign),
  ]);
  return rows[0]!.id;
}

const row = async (id: string) =>
  (await pool.query<{ attempts: number; next_attempt_at: Date | null; delivered_at: Date | null; last_error: string | null }>('SELECT * FROM webhook_outbox WHERE id = $1', [id])).rows[0]!;

/** Drains as the job would, again and again, until `done` holds. */
async function drainUntil(outbox: WebhookOutbox, done: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (${received.length} requests)`);
    await outbox.drain();
    await sleep(5);
  }
}

const header = (r: Received, name: string) => r.headers[name] as string | undefined;

describe('sending', () => {
  test('POSTs the event with its id, type and campaign, signed with HMAC-SHA256 of the exact body, and marks it delivered', async () => {
    const campaign = { id: 'spring-sale', name: 'Spring sale', status: 'IN_PROGRESS', stats: { recipients_total: 10, progress: 0.5 } };
    const id = await enqueue('spring-sale', 'campaign.started', campaign);
    expect(await sender().drain()).toBe(1);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(header(request!, 'x-beacon-signature')).toBe(`sha256=${createHmac('sha256', SECRET).update(request!.body).digest('hex')}`);
    expect(request!.headers).toMatchObject({ 'content-type': 'application/json', 'x-beacon-event': 'campaign.started', 'x-beacon-delivery': id, 'x-beacon-attempt': '1' });
    expect(Math.abs(Number(header(request!, 'x-beacon-timestamp')) - Date.now() / 1000)).toBeLessThan(60);
    const body = JSON.parse(request!.body);
    expect(body).toEqual({ id, type: 'campaign.started', created_at: expect.any(String), campaign });
    // The rendered campaign keeps its key order (a json column, not jsonb).
    expect(Object.keys(body.campaign)).toEqual(['id', 'name', 'status', 'stats']);
    expect(new Date(body.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await row(id)).toMatchObject({ attempts: 1, next_attempt_at: null, delivered_at: expect.any(Date), last_error: null });
    // Delivered: nothing is sent again.
    expect(await sender().drain()).toBe(0);
  });

  test('without a secret, sends no signature header', async () => {
    await enqueue('unsigned', 'campaign.started');
    await sender({ secret: undefined }).drain();
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['x-beacon-signature']).toBeUndefined();
  });
});

describe('retries', () => {
  test('retries 500s and 429 with growing delays and the same id and body; the campaign\'s next event waits its turn', async () => {
    script = [500, 503, 429];
    const started = await enqueue('c-retry', 'campaign.started');
    const completed = await enqueue('c-retry', 'campaign.completed', { id: 'c-retry', status: 'COMPLETED' });
    const outbox = sender();
    await drainUntil(outbox, () => received.length === 5);
    expect(received.map((r) => header(r, 'x-beacon-event'))).toEqual([
      'campaign.started',
      'campaign.started',
      'campaign.started',
      'campaign.started',
      'campaign.completed',
    ]);
    expect(received.map((r) => header(r, 'x-beacon-attempt'))).toEqual(['1', '2', '3', '4', '1']);
    expect(new Set(received.slice(0, 4).map((r) => header(r, 'x-beacon-delivery')))).toEqual(new Set([started]));
    expect(new Set(received.slice(0, 4).map((r) => r.body)).size).toBe(1);
    expect(header(received[4]!, 'x-beacon-delivery')).toBe(completed);
    // 20 ms doubling, ±20% jitter: at least 16, 32, 64 ms apart.
    const gaps = received.slice(1, 4).map((r, i) => r.at - received[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[1]).toBeGreaterThanOrEqual(31);
    expect(gaps[2]).toBeGreaterThanOrEqual(63);
    expect(await row(started)).toMatchObject({ attempts: 4, delivered_at: expect.any(Date) });
    await sleep(150);
    await outbox.drain();
    expect(received).toHaveLength(5);
  });

  test('a failing campaign does not hold up the events of other campaigns', async () => {
    script = [500];
    await enqueue('c-slow', 'campaign.started');
    await enqueue('c-fast', 'campaign.started');
    await sender({ retryMs: 60_000, maxRetryMs: 60_000 }).drain();
    // Claimed together and posted side by side: one answered 500, the other got through.
    expect(received.map((r) => JSON.parse(r.body).campaign.id).sort()).toEqual(['c-fast', 'c-slow']);
    const fast = await pool.query('SELECT delivered_at FROM webhook_outbox WHERE campaign_id = $1', ['c-fast']);
    const slow = await pool.query('SELECT delivered_at, next_attempt_at FROM webhook_outbox WHERE campaign_id = $1', ['c-slow']);
    expect(fast.rows[0].delivered_at ?? slow.rows[0].delivered_at).toBeInstanceOf(Date);
    expect([fast.rows[0].delivered_at, slow.rows[0].delivered_at].filter(Boolean)).toHaveLength(1);
  });

  test('gives up after the configured attempts, logs it, and goes on with the next event', async () => {
    script = [500, 500, 500, 500];
    const stopped = await enqueue('c-give-up', 'campaign.stopped');
    await enqueue('c-give-up', 'campaign.completed');
    await drainUntil(sender({ attempts: 3 }), () => received.length === 5);
    expect(received.map((r) => header(r, 'x-beacon-event'))).toEqual([
      'campaign.stopped',
      'campaign.stopped',
      'campaign.stopped',
      'campaign.completed',
      'campaign.completed',
    ]);
    expect(await row(stopped)).toMatchObject({ attempts: 3, next_attempt_at: null, delivered_at: null, last_error: 'HTTP 500' });
    expect(logged).toContainEqual({ level: 'warn', msg: 'webhook given up', data: expect.objectContaining({ id: stopped, attempts: 3, error: 'HTTP 500' }) });
  });

  test('does not retry a 4xx refusal', async () => {
    script = [400];
    const started = await enqueue('c-refused', 'campaign.started');
    await enqueue('c-refused', 'campaign.completed');
    const outbox = sender();
    await drainUntil(outbox, () => received.length === 2);
    await sleep(100);
    await outbox.drain();
    expect(received.map((r) => [header(r, 'x-beacon-event'), header(r, 'x-beacon-attempt')])).toEqual([
      ['campaign.started', '1'],
      ['campaign.completed', '1'],
    ]);
    expect(await row(started)).toMatchObject({ next_attempt_at: null, delivered_at: null, last_error: 'HTTP 400' });
  });

  test('retries network errors until the endpoint answers', async () => {
    // A port with nothing listening yet: the first attempts fail to connect.
    const late = createServer((req, res) => {
      received.push({ headers: req.headers, body: '', at: Date.now() });
      req.resume().on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => late.listen(0, '127.0.0.1', resolve));
    const port = (late.address() as AddressInfo).port;
    await new Promise<void>((resolve) => late.close(() => resolve()));
    const id = await enqueue('c-down', 'campaign.started');
    const outbox = sender({ url: `http://127.0.0.1:${port}/hooks`, attempts: 50 });
    await outbox.drain();
    expect(received).toHaveLength(0);
    expect((await row(id)).last_error).toMatch(/ECONNREFUSED/);
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    try {
      await drainUntil(outbox, () => received.length === 1);
      expect(Number(header(received[0]!, 'x-beacon-attempt'))).toBeGreaterThan(1);
      expect(header(received[0]!, 'x-beacon-delivery')).toBe(id);
    } finally {
      await new Promise<void>((resolve) => late.close(() => resolve()));
    }
  });

  test('the delay doubles from the base up to the maximum, within ±20%', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, 1000, 5000, () => 0.5))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(retryDelay(2, 1000, 60_000, () => 0)).toBe(1600);
    expect(retryDelay(2, 1000, 60_000, () => 1)).toBe(2400);
    expect(retryDelay(9, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('several senders and shutdown', () => {
  test('two senders draining at once send each event once and each campaign in order', async () => {
    const campaigns = Array.from({ length: 15 }, (_, i) => `c-par-${i}`);
    for (const c of campaigns) {
      await enqueue(c, 'campaign.started');
      await enqueue(c, 'campaign.stopped');
      await enqueue(c, 'campaign.completed');
    }
    const [a, b] = [sender({ batchSize: 4 }), sender({ batchSize: 4 })];
    await Promise.all([drainUntil(a, () => received.length >= 45), drainUntil(b, () => received.length >= 45)]);
    const ids = received.map((r) => header(r, 'x-beacon-delivery'));
    expect(new Set(ids).size).toBe(45);
    expect(ids).toHaveLength(45);
    for (const c of campaigns) {
      const types = received.map((r) => JSON.parse(r.body)).filter((body) => body.campaign.id === c).map((body) => body.type);
      expect(types).toEqual(['campaign.started', 'campaign.stopped', 'campaign.completed']);
    }
  });

  test('close() cuts a request in flight; the event is due again at once and goes out with the same id', async () => {
    const hanging = createServer((req) => {
      received.push({ headers: req.headers, body: '', at: Date.now() });
      req.resume(); // never answers
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const id = await enqueue('c-shutdown', 'campaign.completed');
      const outbox = sender({ url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hooks` });
      const drained = outbox.drain();
      while (received.length === 0) await sleep(5);
      await outbox.close();
      await drained;
      expect(await row(id)).toMatchObject({ attempts: 1, delivered_at: null, last_error: 'interrupted by shutdown' });
      expect((await row(id)).next_attempt_at!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      // A drain after close() does nothing; a new sender (the restarted process) sends it.
      expect(await outbox.drain()).toBe(0);
      received = [];
      await sender().drain();
      expect(received.map((r) => [header(r, 'x-beacon-delivery'), header(r, 'x-beacon-attempt')])).toEqual([[id, '2']]);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
