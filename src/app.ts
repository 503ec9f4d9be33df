/**
 * Composition root shared by `main.ts` and the tests: config → secret → database →
 * events → scheduler (processing jobs in the worker role) → API. `stop()` shuts them down
 * in reverse order: stop accepting requests; stop taking jobs, let running ones finish their
 * current batch and hand their jobs back unlocked (scheduler.ts); flush events; and only
 * then close the database, which every one of those steps still uses.
 */
import type { Config } from './config.js';
import { resolveApiSecret } from './auth/secret.js';
import { openDatabase, type Database } from './db/database.js';
import { createLogger, type DestinationStream, type Logger } from './logger.js';
import { startApiServer, type ApiServer } from './graphql/server.js';
import type { DashboardServing } from './graphql/dashboard-files.js';
import { reportUnusedQueries } from './graphql/builder.js';
import { markWrite } from './graphql/single-flight.js';
import { startEventServices } from './events/services.js';
import { liveCampaignSource } from './campaigns/live.js';
import type { CampaignEvents } from './events/campaign-events.js';
import { startScheduler, type Scheduler } from './delivery/scheduler.js';
import { deliveryHooks } from './delivery/hooks.js';
import { audienceGrew } from './delivery/audience-signal.js';

export interface App {
  config: Config;
  db: Database;
  api: ApiServer | null;
  apiSecret: string;
  logger: Logger;
  /** Live campaign events: call `campaignChanged` after committed status/counter changes. */
  events: CampaignEvents;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  /** Keep the embedded database in memory instead of `config.dataDir` (tests). */
  inMemory?: boolean;
  onQuery?: (query: string) => void;
  /** Where log entries go instead of stderr (tests read them). */
  logDestination?: DestinationStream;
  /** Serves the dashboard another way than the build's files (`npm run dev`: Vite); made only when the API starts. */
  dashboard?: () => Promise<DashboardServing>;
}

/** Starts every part `config.role` asks for. */
export async function startApp(config: Config, options: StartAppOptions = {}): Promise<App> {
  const logger = createLogger(config.logLevel, options.logDestination);
  reportUnusedQueries(config.production ? null : (field) => logger.warn('prisma selection loaded but not used', { field }));
  const apiSecret = resolveApiSecret(config.apiSecret, config.dataDir);
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: options.inMemory ? null : config.dataDir,
    logger,
    onQuery: options.onQuery,
    queryTimeoutMs: config.queryTimeoutMs,
  });
  // Prisma's client prepares its query compiler (WebAssembly) on its first query: 330 ms on
  // the bench machine, paid here rather than by the first request, or by the first delivery
  // step of a fresh worker while the other workers' lanes are already sending.
  await db.prisma.campaign.findUnique({ where: { id: '' }, select: { id: true } });
  // Event services (pub/sub, campaign events) start before and stop after the API; live
  // reads are API work, so they go through the API's client (statement timeout).
  // A change the hub hears of is a write that coalesced reads must not predate (single-flight.ts).
  // A worker's lanes waiting for more audience are woken by the chunks other processes write (audience-signal.ts).
  const audienceWritten = config.role === 'api' ? undefined : audienceGrew;
  const eventServices = await startEventServices(config, logger, liveCampaignSource(db.apiPrisma, markWrite), audienceWritten).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const { events } = eventServices;
  let api: ApiServer | null = null;
  let scheduler: Scheduler | null = null;
  // The scheduler runs the webhook job and needs the hooks, so the wake finds it at call time.
  const webhooks = { enabled: config.webhookUrl !== undefined, wake: async () => scheduler?.wakeWebhooks() };
  const hooks = deliveryHooks(events, webhooks, logger);
  try {
    scheduler = await startScheduler({ config, db, logger, hooks, work: config.role !== 'api' });
    if (config.role !== 'worker') {
      const dashboard = await options.dashboard?.();
      api = await startApiServer({ config, db, logger, apiSecret, events, scheduler, deliveryHooks: hooks }, config.port, dashboard).catch(async (error: unknown) => {
        await dashboard?.close?.();
        throw error;
      });
    }
  } catch (error) {
    await scheduler?.stop();
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
    scheduler,
    stop() {
      stopping ??= (async () => {
        await api?.close();
        await scheduler.stop();
        await eventServices.close();
        await db.close();
      })();
      return stopping;
    },
  };
}
