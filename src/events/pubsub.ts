/**
 * The one typed pub/sub of live events (design: Shape). In memory within one process; with
 * `REDIS_URL`, Redis PUBLISH/SUBSCRIBE through `@graphql-yoga/redis-event-target`, so events
 * published by any API or worker process reach subscribers in every other.
 */
import { createPubSub, type PubSub } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
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
  /** Closes the Redis connections (after pending publishes are written). */
  close(): Promise<void>;
}

const QUIT_TIMEOUT_MS = 1000;

/** The event target publishes and subscribes without awaiting; a Redis failure must be logged, not an unhandled rejection. */
function logRejections(client: Redis, logger: Logger, role: string): void {
  for (const command of ['publish', 'subscribe', 'unsubscribe'] as const) {
    const original = client[command].bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[command] = (...args: unknown[]) =>
      original(...args).catch((error: unknown) => logger.warn(`redis ${command} failed`, { role, error: String(error) }));
  }
}

async function connectRedis(url: string, logger: Logger, role: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, connectionName: `beacon-${role}` });
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
  if (!redisUrl) return { pubsub: createPubSub<BeaconTopics>(), transport: 'memory', close: async () => {} };
  const publishClient = await connectRedis(redisUrl, logger, 'publish');
  let subscribeClient: Redis;
  try {
    subscribeClient = await connectRedis(redisUrl, logger, 'subscribe');
  } catch (error) {
    publishClient.disconnect();
    throw error;
  }
  const eventTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  return {
    pubsub: createPubSub<BeaconTopics>({ eventTarget }),
    transport: 'redis',
    async close() {
      await Promise.all([quit(publishClient), quit(subscribeClient)]);
    },
  };
}
