/**
 * The one typed pub/sub of live events (design: Shape). In memory within one process; with
 * `REDIS_URL`, Redis PUBLISH/SUBSCRIBE through `@graphql-yoga/redis-event-target`, so events
 * published by any API or worker process reach subscribers in every other.
 *
 * Redis outages lose nothing for good: ioredis reconnects on its own; a publish that fails
 * meanwhile is kept (the latest per campaign) and sent again once the publish connection is
 * back, and when the subscribe connection is back, `onReconnect` listeners re-read what
 * their subscribers watch (events published while it was down never arrive).
 */
import { createPubSub, type PubSub } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import type { CampaignStatus } from '../generated/prisma/enums.js';

/** A campaign whose status or counters changed (committed); `DELETED` once it is gone. */
export interface CampaignUpdate {
  campaignId: string;
  /** Its status after the change, when the writer knew it. */
  status?: CampaignStatus | 'DELETED';
}

/** Topics and their payloads. Payloads carry ids only; subscribers re-read the database. */
export type BeaconTopics = {
  'campaign:updated': [CampaignUpdate];
};

export interface BeaconPubSub {
  pubsub: PubSub<BeaconTopics>;
  /** 'memory' or 'redis'. */
  transport: 'memory' | 'redis';
  /**
   * Calls `listener` each time the subscribe connection is back after an outage (Redis
   * only), with when it went down, once it listens again.
   */
  onReconnect(listener: (downSince: Date) => void): void;
  /** Closes the Redis connections (after pending publishes are written). */
  close(): Promise<void>;
}

const QUIT_TIMEOUT_MS = 1000;

/** The event target subscribes without awaiting; a Redis failure must be logged, not an unhandled rejection. */
function logRejections(client: Redis, logger: Logger, role: string): void {
  for (const command of ['subscribe', 'unsubscribe'] as const) {
    const original = client[command].bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[command] = (...args: unknown[]) =>
      original(...args).catch((error: unknown) => logger.warn(`redis ${command} failed`, { role, error: String(error) }));
  }
}

/** The campaign a published message is about (one kept message per campaign), else the message itself. */
function retainKey(channel: string, message: string): string {
  try {
    const { campaignId } = JSON.parse(message) as { campaignId?: unknown };
    if (typeof campaignId === 'string') return `${channel}\n${campaignId}`;
  } catch {
    // Not JSON: keep it by its text.
  }
  return `${channel}\n${message}`;
}

/**
 * The event target publishes without awaiting. A publish that fails (the publish client has
 * no offline queue, so during an outage it fails at once instead of piling up) is kept, the
 * latest per campaign, and published again when the connection is ready again.
 */
function retainFailedPublishes(client: Redis, logger: Logger): void {
  const failed = new Map<string, [channel: string, message: string]>();
  const original = client.publish.bind(client) as (channel: string, message: string) => Promise<unknown>;
  const publish = (channel: string, message: string) =>
    original(channel, message).catch((error: unknown) => {
      if (failed.size === 0) logger.warn('redis publish failed; the latest event per campaign is sent again on reconnect', { error: String(error) });
      const key = retainKey(channel, message);
      failed.delete(key);
      failed.set(key, [channel, message]);
    });
  (client as unknown as Record<string, unknown>).publish = publish;
  client.on('ready', () => {
    const again = [...failed.values()];
    failed.clear();
    if (again.length) logger.info('redis publish connection back; sending kept events', { events: again.length });
    for (const [channel, message] of again) void publish(channel, message);
  });
}

/** Tracks when the subscribe connection drops and tells listeners once it listens again. */
function watchReconnects(client: Redis, logger: Logger, listeners: ((downSince: Date) => void)[]): void {
  let downSince: Date | undefined;
  client.on('close', () => {
    downSince ??= new Date();
  });
  client.on('ready', () => {
    const since = downSince;
    downSince = undefined;
    if (!since) return;
    // ioredis re-sends SUBSCRIBE before 'ready'; a PING answered after it means Redis has it,
    // so a change read from now on cannot have been published before we listened.
    void client
      .ping()
      .catch((error: unknown) => logger.warn('redis ping after reconnect failed', { error: String(error) }))
      .then(() => {
        for (const listener of listeners) listener(since);
      });
  });
}

async function connectRedis(url: string, logger: Logger, role: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, connectionName: `beacon-${role}`, ...options });
  let lastError: unknown;
  client.on('error', (error: unknown) => {
    lastError = error;
    logger.warn('redis connection error', { role, error: String(error) });
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`Cannot connect to Redis at REDIS_URL: ${String(lastError ?? error)}`);
  }
  logRejections(client, logger, role);
  return client;
}

async function quit(client: Redis): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
  await Promise.race([client.quit().catch(() => undefined), timeout]);
  clearTimeout(timer);
  client.disconnect();
}

/** Creates the pub/sub: Redis when `redisUrl` is set (connects now, fails fast), else in memory. */
export async function createBeaconPubSub(redisUrl: string | undefined, logger: Logger): Promise<BeaconPubSub> {
  if (!redisUrl) return { pubsub: createPubSub<BeaconTopics>(), transport: 'memory', onReconnect: () => {}, close: async () => {} };
  const publishClient = await connectRedis(redisUrl, logger, 'publish', { enableOfflineQueue: false });
  retainFailedPublishes(publishClient, logger);
  let subscribeClient: Redis;
  try {
    subscribeClient = await connectRedis(redisUrl, logger, 'subscribe');
  } catch (error) {
    publishClient.disconnect();
    throw error;
  }
  const reconnectListeners: ((downSince: Date) => void)[] = [];
  watchReconnects(subscribeClient, logger, reconnectListeners);
  const eventTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  return {
    pubsub: createPubSub<BeaconTopics>({ eventTarget }),
    transport: 'redis',
    onReconnect: (listener) => reconnectListeners.push(listener),
    async close() {
      await Promise.all([quit(publishClient), quit(subscribeClient)]);
    },
  };
}
