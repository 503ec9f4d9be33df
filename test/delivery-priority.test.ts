/**
 * API requests before delivery batches in one process (src/delivery/priority.ts): while the
 * API is busy at most BUSY batches run at once, and the others wait for a slot, not
 * forever. Each test loads the module afresh (the API's state is the process's).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

type Priority = typeof import('../src/delivery/priority.js');
let p: Priority;
let slots: ReturnType<Priority['createBatchSlots']>;
const BUSY = 2;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  vi.resetModules();
  p = await import('../src/delivery/priority.js');
  slots = p.createBatchSlots(BUSY);
});
afterEach(() => vi.useRealTimers());

/** Starts `n` lanes asking for a slot; `granted()` tells how many have one so far. */
function lanes(n: number, signal?: AbortSignal) {
  const releases: (() => void)[] = [];
  for (let i = 0; i < n; i += 1) void slots.acquire(signal).then((release) => releases.push(release));
  return { releases, granted: async () => (await vi.advanceTimersByTimeAsync(0), releases.length) };
}

describe('batch slots', () => {
  test('with no API request, every lane runs at once', async () => {
    expect(await lanes(4).granted()).toBe(4);
  });

  test('while a request is in flight, BUSY run and the next starts as one ends', async () => {
    const answered = p.apiRequestStarted();
    const all = lanes(4);
    expect(await all.granted()).toBe(BUSY);
    all.releases[0]!();
    expect(await all.granted()).toBe(BUSY + 1);
    answered();
  });

  test('the API counts as busy for BUSY_WINDOW_MS after its last answer; then the waiting lanes start', async () => {
    p.apiRequestStarted()();
    const all = lanes(4);
    expect(await all.granted()).toBe(BUSY);
    await vi.advanceTimersByTimeAsync(p.BUSY_WINDOW_MS - 10);
    expect(await all.granted()).toBe(BUSY);
    await vi.advanceTimersByTimeAsync(10);
    expect(await all.granted()).toBe(4);
  });

  test('a waiting lane whose signal aborts gets a release that frees nothing, and takes no slot', async () => {
    const answered = p.apiRequestStarted();
    const running = lanes(BUSY);
    expect(await running.granted()).toBe(BUSY);
    const abort = new AbortController();
    const aborted = lanes(1, abort.signal);
    expect(await aborted.granted()).toBe(0);
    abort.abort();
    expect(await aborted.granted()).toBe(1);
    aborted.releases[0]!(); // frees nothing: still full
    const next = lanes(1);
    expect(await next.granted()).toBe(0);
    running.releases[0]!();
    running.releases[0]!(); // a second call is ignored
    expect(await next.granted()).toBe(1);
    expect(await lanes(1).granted()).toBe(0);
    answered();
  });
});
