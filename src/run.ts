/**
 * What a Beacon process does (`src/main.ts`, and `src/dev/main.ts` for `npm run dev`):
 * starts Beacon from the environment and stops it on SIGTERM/SIGINT.
 */
import { setFlagsFromString } from 'node:v8';
import { loadConfig, ConfigError } from './config.js';
import { startApp, type StartAppOptions } from './app.js';
import { dashboardSignInLink } from './auth/tokens.js';

async function main(options: StartAppOptions): Promise<void> {
  const config = loadConfig();
  // With an external PostgreSQL the only WebAssembly here is Prisma's query compiler: V8's
  // baseline tier runs it well enough and its optimizing tier would add ~50 MB of code. The
  // embedded database (PGlite) is WebAssembly too, and keeps the optimizing tier (~15% faster).
  // Set before the first module is compiled (Prisma compiles on its first query).
  if (config.databaseUrl) setFlagsFromString('--liftoff-only');
  const started = Date.now();
  const app = await startApp(config, options);
  app.logger.info('beacon started', {
    role: config.role,
    database: app.db.embedded ? `embedded (${config.dataDir})` : 'postgresql',
    graphql: app.api?.url,
    deliveryBatchSize: config.deliveryBatchSize,
    deliveryLanes: config.deliveryLanes,
    ms: Date.now() - started,
  });
  // Local use on the embedded database: a ready sign-in link (12 h token) saves a step.
  if (app.db.embedded && app.api) {
    app.logger.info('dashboard sign-in link', { url: await dashboardSignInLink(app.apiSecret, `http://localhost:${app.api.port}`) });
  }
  // A second signal during the shutdown ends the process at once (the handlers are `once`).
  const shutdown = (signal: string) => {
    const since = Date.now();
    app.logger.info('shutting down', { signal });
    app.stop().then(
      () => {
        // liveReads: campaign reads the live-events hub made for subscribers (benches read it).
        app.logger.info('stopped', { ms: Date.now() - since, liveReads: app.events.live?.reads ?? 0 });
        process.exit(0);
      },
      (error: unknown) => {
        app.logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** Runs Beacon; a failure to start ends the process with its message. */
export function runBeacon(options: Pick<StartAppOptions, 'dashboard'> = {}): void {
  main(options).catch((error: unknown) => {
    process.stderr.write(`beacon: ${error instanceof ConfigError ? error.message : (error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
