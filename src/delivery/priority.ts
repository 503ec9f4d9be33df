/**
 * Interactive API requests go before delivery batches in a process that runs both (role
 * `all`). A dashboard read costs a few ms of this process's CPU and a few queries; a batch
 * holds the event loop and a PostgreSQL backend for far longer, and on a small machine the
 * lanes' backends and the batches' JavaScript leave a read waiting for a CPU. So while the
 * API is busy — a request in flight, or one answered within BUSY_WINDOW_MS (dashboards poll
 * about once a second) — at most `BEACON_DELIVERY_BUSY_BATCHES` batches run at once in this
 * process (createBatchSlots), and a lane about to start one first waits until no API request
 * is in flight, at most MAX_WAIT_MS. An audience chunk (materialize.ts) takes a slot too:
 * beside a batch it kept both cores busy while the audience was written, the reads' worst
 * time (50 dashboards, p99 of 6 runs: 76–178 ms without, 45–95 ms with). Delivery slows
 * under a steady stream of reads but never stops: that many lanes keep going. In a process
 * without the API (role `worker`) nothing is ever in flight and neither costs anything.
 */

/** Longest a lane waits before a batch for API requests in flight to finish. */
export const MAX_WAIT_MS = 20;

/** How long after its last request the API still counts as busy. */
export const BUSY_WINDOW_MS = 1000;

let inFlight = 0;
/** performance.now() of the last request's answer (−∞: none yet). */
let lastAnswered = Number.NEGATIVE_INFINITY;
let waiting: (() => void)[] = [];

/** Counts an API request as in flight; call the returned function (once) when it has been answered. */
export function apiRequestStarted(): () => void {
  inFlight += 1;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    inFlight -= 1;
    lastAnswered = performance.now();
    if (inFlight === 0) for (const wake of [...waiting]) wake();
  };
}

/** Resolves once no API request is in flight, or after MAX_WAIT_MS, or when `signal` aborts. */
export function apiRequestsFirst(signal?: AbortSignal): Promise<void> {
  if (inFlight === 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      waiting = waiting.filter((other) => other !== finish);
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, MAX_WAIT_MS);
    signal?.addEventListener('abort', finish, { once: true });
    waiting.push(finish);
  });
}

/** Milliseconds until the API stops counting as busy (0: it is not busy). */
function busyFor(): number {
  if (inFlight > 0) return BUSY_WINDOW_MS;
  return Math.max(0, lastAnswered + BUSY_WINDOW_MS - performance.now());
}

/** The batch slots of one delivery engine: `acquire` before a batch, release after it. */
export interface BatchSlots {
  /**
   * Waits for a slot to run a batch in (see the module comment) and returns its release,
   * to call once the batch has ended. Resolves at once when `signal` aborts, with a release
   * that does nothing.
   */
  acquire(signal?: AbortSignal): Promise<() => void>;
}

/** Slots for the batches of one process: any number while the API is idle, `busyBatches` while it is busy. */
export function createBatchSlots(busyBatches: number): BatchSlots {
  let running = 0;
  /** Lanes waiting for a slot, first come first served; each returns whether it took one. */
  const queued: (() => boolean)[] = [];
  let windowTimer: NodeJS.Timeout | undefined;
  const mayStart = () => running < busyBatches || busyFor() === 0;

  /** Admits queued lanes while they may start; looks again when the busy window ends. */
  function admit(): void {
    while (queued.length > 0 && mayStart()) if (queued.shift()!()) running += 1;
    clearTimeout(windowTimer);
    windowTimer = undefined;
    if (queued.length > 0) {
      windowTimer = setTimeout(admit, busyFor());
      windowTimer.unref();
    }
  }

  const release = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      running -= 1;
      admit();
    };
  };

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.resolve(() => {});
      if (queued.length === 0 && mayStart()) {
        running += 1;
        return Promise.resolve(release());
      }
      return new Promise((resolve) => {
        const onAbort = () => {
          const at = queued.indexOf(take);
          if (at >= 0) queued.splice(at, 1);
          resolve(() => {});
        };
        function take(): boolean {
          signal?.removeEventListener('abort', onAbort);
          // A lane whose signal aborted meanwhile takes no slot.
          if (signal?.aborted) {
            resolve(() => {});
            return false;
          }
          resolve(release());
          return true;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        queued.push(take);
        admit();
      });
    },
  };
}
