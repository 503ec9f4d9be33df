/** How the benches start Beacon: with its own defaults, not the tests' quick-takeover settings. */
import { loadConfig } from '../../src/config.js';
import { FAST_WORKER_ENV } from '../../test/helpers/worker-process.js';

/**
 * Beacon's defaults for every setting the test helper's FAST_WORKER_ENV changes (job polling
 * every 200 ms, 2 s job locks — so a lane renewed its lock, a synced commit, every 200 ms —
 * and batches of 20): pass them in a bench's `env` so Beacon runs as `npm start` runs it.
 */
export function beaconDefaults(): Record<string, string> {
  const config = loadConfig({});
  const defaults: Record<string, string> = {
    BEACON_JOB_POLL_MS: String(config.jobPollMs),
    BEACON_JOB_LOCK_MS: String(config.jobLockMs),
    BEACON_DELIVERY_BATCH_SIZE: String(config.deliveryBatchSize),
  };
  const unknown = Object.keys(FAST_WORKER_ENV).filter((key) => !(key in defaults));
  if (unknown.length) throw new Error(`bench/load/beacon-env.ts: no default for ${unknown.join(', ')}`);
  return defaults;
}
