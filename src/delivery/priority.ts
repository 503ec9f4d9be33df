/**
 * Interactive API requests go before delivery batches in a process that runs both (role
 * `all`). A dashboard read costs a few ms of this process's CPU and a few queries; a batch
 * holds the event loop and PostgreSQL for far longer. So a lane about to start its next
 * batch first waits until no API request is in flight in this process — at most
 * MAX_WAIT_MS per batch, so delivery slows under a steady stream of reads but never
 * starves. In a process without the API (role `worker`) nothing is ever in flight and the
 * wait costs nothing.
 */

/** Longest a lane waits before a batch for API requests in flight to finish. */
export const MAX_WAIT_MS = 20;

let inFlight = 0;
let waiting: (() => void)[] = [];

/** Counts an API request as in flight; call the returned function (once) when it has been answered. */
export function apiRequestStarted(): () => void {
  inFlight += 1;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    inFlight -= 1;
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
