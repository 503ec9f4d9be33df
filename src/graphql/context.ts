/** What every resolver receives: the caller's identity and the process's services. */
import type { AuthState } from '../auth/tokens.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Database } from '../db/database.js';
import type { CampaignEvents } from '../events/campaign-events.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { TransitionHooks } from '../campaigns/status.js';

/** Long-lived dependencies shared by all requests of one process. */
export interface AppServices {
  config: Config;
  db: Database;
  logger: Logger;
  /** Live campaign events (publish after commit, subscribe in campaignUpdated). */
  events: CampaignEvents;
  /** Job scheduling (every role enqueues; workers also process). */
  scheduler: Scheduler;
  /** Delivery's reports: live events and webhooks. */
  deliveryHooks: TransitionHooks;
}

export interface Context extends AppServices {
  prisma: PrismaClient;
  auth: AuthState;
  /** This request's id (src/graphql/request-id.ts): in the `x-request-id` header, INTERNAL errors and their log lines. */
  requestId: string;
}
