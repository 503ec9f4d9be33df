/** Vitest setup shared by the worker-process test files (kept apart from worker-process.ts, which the benchmarks import too). */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestApp, type TestApp } from './app.js';
import { pglite } from './delivery-checks.js';
import { killAllWorkers, workerReport } from './worker-process.js';

/**
 * The file-scoped setup of a worker test: an API-only app on the file's own database (the
 * workers are child processes; none on PGlite), the workers' output printed when a test
 * fails, every worker killed at the end. `use` receives the app once it has started.
 */
export function workerTestSetup(use: (app: TestApp) => void): void {
  let app: TestApp | undefined;
  beforeAll(async () => {
    if (pglite) return;
    app = await startTestApp({ env: { BEACON_ROLE: 'api' } });
    use(app);
  });
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(`worker output:\n${workerReport()}`);
  });
  afterAll(async () => {
    await killAllWorkers();
    await app?.close();
  });
}
