/**
 * Wakes the lanes of this process when the start job commits another chunk of a campaign's
 * audience. A lane that claimed nothing while the audience is still being written waits for
 * the next chunk: without this it slept a fixed IDLE_LOOK_MS (250 ms) each time it caught up
 * with the start job, and at 100,000 recipients with four lanes it caught up a few times per
 * second (the start job gets a fifth of the machine beside four lanes). Chunks written by
 * another process's start job reach a worker as that campaign's change events (app.ts wires
 * the event services to audienceGrew), within the publisher's coalescing window; without
 * them (Redis down) the lane's timeout still finds the chunk.
 */

const waiting = new Map<string, Set<() => void>>();

/** Called after a chunk of `campaignId`'s audience committed (and when the audience is complete). */
export function audienceGrew(campaignId: string): void {
  const wakes = waiting.get(campaignId);
  if (!wakes) return;
  waiting.delete(campaignId);
  for (const wake of wakes) wake();
}

/**
 * Resolves true at the next audienceGrew(campaignId) of this process or after `ms`, false
 * at once or as soon as `signal` aborts.
 */
export function nextAudienceChunk(campaignId: string, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (outcome: boolean) => () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      waiting.get(campaignId)?.delete(grew);
      if (waiting.get(campaignId)?.size === 0) waiting.delete(campaignId);
      resolve(outcome);
    };
    const grew = finish(true);
    const aborted = finish(false);
    const timer = setTimeout(grew, ms);
    signal.addEventListener('abort', aborted, { once: true });
    let wakes = waiting.get(campaignId);
    if (!wakes) waiting.set(campaignId, (wakes = new Set()));
    wakes.add(grew);
  });
}
