import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { createLogger } from '../src/logger.js';
import { Webhooks, type WebhookCampaign, type WebhookOptions } from '../src/events/webhooks.js';
import type { Campaign as CampaignRow } from '../src/generated/prisma/client.js';

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
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const senders: Webhooks[] = [];
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  received = [];
  script = [];
});

function sender(options: Partial<WebhookOptions> = {}) {
  const webhooks = new Webhooks({ url, secret: SECRET, logger: createLogger('silent'), baseDelayMs: 20, maxDelayMs: 80, ...options });
  senders.push(webhooks);
  return webhooks;
}

const now = new Date('2026-11-27T10:00:00.000Z');
function campaign(overrides: Partial<CampaignRow> = {}): WebhookCampaign {
  return {
    id: 'spring-sale',
    name: 'Spring sale',
    description: null,
    status: 'IN_PROGRESS',
    failureReason: null,
    senderId: 'shop',
    senderMode: null,
    userIds: [],
    messageTemplate: { text: 'Hi {{ user.name }}' },
    channelTemplate: null,
    createChannels: false,
    skipPush: false,
    skipWebhook: false,
    scheduledFor: null,
    stopAt: null,
    startedAt: now,
    completedAt: null,
    stoppedAt: null,
    recipientsTotal: 10,
    messagesSent: 4,
    messagesErrored: 1,
    recipientsSkipped: 0,
    channelsCreated: 2,
    usersSent: 4,
    usersRead: 1,
    createdAt: now,
    updatedAt: now,
    segments: [
      { segmentId: 'b', position: 1 },
      { segmentId: 'a', position: 0 },
    ],
    ...overrides,
  };
}

async function until(predicate: () => boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (${received.length} requests)`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('campaign webhooks', () => {
  test('POSTs the event with the campaign and its stats, signed with HMAC-SHA256 of the exact body', async () => {
    expect(sender().sendCampaignWebhook('campaign.started', campaign())).toBe(true);
    await until(() => received.length === 1);
    const [request] = received;
    const expected = `sha256=${createHmac('sha256', SECRET).update(request!.body).digest('hex')}`;
    expect(request!.headers['x-beacon-signature']).toBe(expected);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-beacon-event']).toBe('campaign.started');
    expect(Math.abs(Number(request!.headers['x-beacon-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const payload = JSON.parse(request!.body);
    expect(payload.type).toBe('campaign.started');
    expect(new Date(payload.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(payload.campaign).toMatchObject({
      id: 'spring-sale',
      name: 'Spring sale',
      status: 'IN_PROGRESS',
      sender_id: 'shop',
      segment_ids: ['a', 'b'],
      message_template: { text: 'Hi {{ user.name }}' },
      started_at: '2026-11-27T10:00:00.000Z',
      stats: { recipients_total: 10, messages_sent: 4, messages_errored: 1, pending: 5, progress: 0.5, users_read: 1, read_ratio: 0.25 },
    });
  });

  test('retries 500s and 429 with growing delays, then succeeds once, keeping the order of events', async () => {
    script = [500, 503, 429];
    const webhooks = sender();
    webhooks.sendCampaignWebhook('campaign.started', campaign());
    webhooks.sendCampaignWebhook('campaign.completed', campaign({ status: 'COMPLETED', messagesSent: 9 }));
    await until(() => received.length === 5);
    const types = received.map((r) => r.headers['x-beacon-event']);
    expect(types).toEqual(['campaign.started', 'campaign.started', 'campaign.started', 'campaign.started', 'campaign.completed']);
    expect(received.map((r) => r.headers['x-beacon-attempt'])).toEqual(['1', '2', '3', '4', '1']);
    // One delivery id across its retries; the body (and so the signature) is the same.
    expect(new Set(received.slice(0, 4).map((r) => r.headers['x-beacon-delivery'])).size).toBe(1);
    expect(new Set(received.slice(0, 4).map((r) => r.body)).size).toBe(1);
    const gaps = received.slice(1, 4).map((r, i) => r.at - received[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(70);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(received).toHaveLength(5);
  });

  test('gives up after the configured attempts and goes on with the next event', async () => {
    script = [500, 500, 500, 500];
    const webhooks = sender({ attempts: 3 });
    webhooks.sendCampaignWebhook('campaign.stopped', campaign({ status: 'STOPPED' }));
    webhooks.sendCampaignWebhook('campaign.completed', campaign({ status: 'COMPLETED' }));
    await until(() => received.length === 5);
    expect(received.map((r) => r.headers['x-beacon-event'])).toEqual([
      'campaign.stopped',
      'campaign.stopped',
      'campaign.stopped',
      'campaign.completed',
      'campaign.completed',
    ]);
  });

  test('does not retry a 4xx refusal', async () => {
    script = [400];
    const webhooks = sender();
    webhooks.sendCampaignWebhook('campaign.started', campaign());
    // Events go out in order, so a retry of the refused one would come before the next event.
    webhooks.sendCampaignWebhook('campaign.completed', campaign({ status: 'COMPLETED' }));
    await until(() => received.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(received).toHaveLength(2);
    expect(received.map((r) => [r.headers['x-beacon-event'], r.headers['x-beacon-attempt']])).toEqual([
      ['campaign.started', '1'],
      ['campaign.completed', '1'],
    ]);
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
    sender({ url: `http://127.0.0.1:${port}/hooks`, attempts: 6 }).sendCampaignWebhook('campaign.started', campaign());
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(received).toHaveLength(0);
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    try {
      await until(() => received.length === 1);
      expect(Number(received[0]!.headers['x-beacon-attempt'])).toBeGreaterThan(1);
    } finally {
      await new Promise<void>((resolve) => late.close(() => resolve()));
    }
  });

  test('sends nothing for a campaign with skipWebhook, or without a webhook URL', async () => {
    expect(sender().sendCampaignWebhook('campaign.started', campaign({ skipWebhook: true }))).toBe(false);
    const disabled = sender({ url: undefined });
    expect(disabled.enabled).toBe(false);
    expect(disabled.sendCampaignWebhook('campaign.started', campaign())).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(0);
    // A later event that is sent arrives alone: nothing skipped was queued ahead of it.
    expect(sender().sendCampaignWebhook('campaign.completed', campaign({ status: 'COMPLETED' }))).toBe(true);
    await until(() => received.length === 1);
    expect(received.map((r) => r.headers['x-beacon-event'])).toEqual(['campaign.completed']);
  });

  test('without a secret, sends no signature header', async () => {
    sender({ secret: undefined }).sendCampaignWebhook('campaign.started', campaign());
    await until(() => received.length === 1);
    expect(received[0]!.headers['x-beacon-signature']).toBeUndefined();
  });

  test('never blocks the caller: a full queue drops new events, close() cancels what is left', async () => {
    script = Array.from({ length: 50 }, () => 503);
    const webhooks = sender({ maxQueue: 2, baseDelayMs: 5_000, maxDelayMs: 5_000, closeGraceMs: 50 });
    const started = Date.now();
    expect(webhooks.sendCampaignWebhook('campaign.started', campaign())).toBe(true);
    expect(webhooks.sendCampaignWebhook('campaign.stopped', campaign())).toBe(true);
    expect(webhooks.sendCampaignWebhook('campaign.completed', campaign())).toBe(false);
    // sendCampaignWebhook is synchronous (returns a boolean, not a promise): it cannot block.
    await until(() => received.length === 1);
    await webhooks.close();
    // close() cancelled the pending retry instead of waiting out its 5 s backoff.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(received).toHaveLength(1);
    expect(webhooks.sendCampaignWebhook('campaign.started', campaign())).toBe(false);
  });
});
