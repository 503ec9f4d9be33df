/**
 * Composition root shared by `main.ts` and the tests: config → secret → database →
 * API (and, later, worker). `stop()` shuts them down in reverse order.
 */
import type { Config } from './config.js';
import { resolveApiSecret } from './auth/secret.js';
import { openDatabase, type Database } from './db/database.js';
import { createLogger, type Logger } from './logger.js';
import { startApiServer, type ApiServer } from './graphql/server.js';
import { startEventServices } from './events/services.js';
import type { CampaignEvents } from './events/campaign-events.js';
import type { Webhooks } from './events/webhooks.js';

export interface App {
  config: Config;
  db: Database;
  api: ApiServer | null;
  apiSecret: string;
  logger: Logger;
  /** Live campaign events: call `campaignChanged` after committed status/counter changes. */
  events: CampaignEvents;
  /** Outbound webhooks: call `sendCampaignWebhook` on status transitions. */
  webhooks: Webhooks;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  /** Keep the embedded database in memory instead of `config.dataDir` (tests). */
  inMemory?: boolean;
  onQuery?: (query: string) => void;
}

/** Starts every part `config.role` asks for. */
export async function startApp(config: Config, options: StartAppOptions = {}): Promise<App> {
  const logger = createLogger(config.logLevel);
  const apiSecret = resolveApiSecret(config.apiSecret, config.dataDir);
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: options.inMemory ? null : config.dataDir,
    logger,
    onQuery: options.onQuery,
  });
  // Event services (pub/sub, campaign events, webhooks) start before and stop after the API.
  const eventServices = await startEventServices(config, logger).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const { events, webhooks } = eventServices;
  let api: ApiServer | null = null;
  try {
    if (config.role !== 'worker') api = await startApiServer({ config, db, logger, apiSecret, events, webhooks }, config.port);
  } catch (error) {
    await eventServices.close();
    await db.close();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    config,
    db,
    api,
    apiSecret,
    logger,
    events,
    webhooks,
    stop() {
      stopping ??= (async () => {
        await api?.close();
        await eventServices.close();
        await db.close();
      })();
      return stopping;
    },
  };
}
